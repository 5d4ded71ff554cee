package chart

import (
	"slices"
	"testing"

	"github.com/cryptobot-dev/cryptobot/internal/market"
)

func TestIntervalButtons(t *testing.T) {
	m := New(&fakeMarket{candles: series(Limit, market.D1, 100)}, after(Limit, market.D1))
	r := handle(t, m, "btc", "1d")
	if r.Photo == nil || len(r.Buttons) != 1 {
		t.Fatalf("photo %d bytes, buttons %+v", len(r.Photo), r.Buttons)
	}
	var labels, data []string
	for _, b := range r.Buttons[0] {
		labels, data = append(labels, b.Text), append(data, b.Data)
	}
	if !slices.Equal(labels, []string{"15m", "1h", "4h", "• 1d"}) || data[1] != "1|chart|BTC-USDT|1h" {
		t.Errorf("interval row %v %v", labels, data)
	}
	if r := handle(t, m, "zzz"); r.Buttons != nil {
		t.Errorf("an unknown pair must carry no button: %+v", r.Buttons)
	}
}
