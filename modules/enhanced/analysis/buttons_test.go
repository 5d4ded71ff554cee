package analysis

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/modules"
)

func TestButtons(t *testing.T) {
	m := New(btcMarket(300), func() time.Time { return testNow })
	r, err := m.handle(context.Background(), modules.Request{Command: "analysis", Args: []string{"btc", "4h"}})
	if err != nil || len(r.Buttons) != 2 {
		t.Fatalf("buttons %+v, %v", r.Buttons, err)
	}
	if b := r.Buttons[0][0]; b.Text != "🔄 Refresh" || b.Data != "1|analysis|BTC-USDT|4h" {
		t.Errorf("first button %+v, want Refresh", b)
	}
	var labels, data []string
	for _, b := range r.Buttons[1] {
		labels, data = append(labels, b.Text), append(data, b.Data)
	}
	if !slices.Equal(labels, []string{"15m", "1h", "• 4h", "1d"}) || data[0] != "1|analysis|BTC-USDT|15m" {
		t.Errorf("interval row %v %v", labels, data)
	}
	if r, _ := m.handle(context.Background(), modules.Request{Command: "analysis", Args: []string{"zzz"}}); r.Buttons != nil {
		t.Errorf("an unknown pair must carry no button: %+v", r.Buttons)
	}
}
