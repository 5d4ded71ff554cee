package chart_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"time"

	"github.com/cryptobot-dev/cryptobot/modules"
	"github.com/cryptobot-dev/cryptobot/modules/enhanced/chart"
	"github.com/cryptobot-dev/cryptobot/modules/modulestest"
)

// The market is modulestest.Wave: ETH-USDT closes rising along a wave.
func Example() {
	now := func() time.Time { return time.Date(2026, 3, 6, 0, 5, 0, 0, time.UTC) }
	m := chart.New(modulestest.Wave{}, now)
	reply, _ := m.Commands()[0].Handler.Handle(context.Background(),
		modules.Request{Command: "chart", Args: []string{"eth"}})
	img, err := png.Decode(bytes.NewReader(reply.Photo))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("photo", img.Bounds().Dx(), "×", img.Bounds().Dy())
	fmt.Println(reply.Text)
	// Output:
	// photo 1000 × 600
	// <b>📈 ETH-USDT · 1h chart</b> · 120 candles
	// Last <b>3,282.40</b> · ▲ +9.41% over 5d
	// High 3,292.31 · Low 2,996.00
	// EMA20 3,256.35 · EMA50 3,206.48
}
