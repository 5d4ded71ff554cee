package funding_test

import (
	"testing"

	"github.com/cryptobot-dev/cryptobot/modules"
)

func TestRefreshButton(t *testing.T) {
	h := module.Handler(t, newSource())
	r, err := h.Handle(t.Context(), modules.Request{Command: "funding", Args: []string{"btc"}})
	if err != nil || len(r.Buttons) == 0 || r.Buttons[0][0].Text != "🔄 Refresh" || r.Buttons[0][0].Data != "1|funding|BTC-USDT" {
		t.Errorf("reply %+v, %v: want Refresh first", r.Buttons, err)
	}
	if r, _ := h.Handle(t.Context(), modules.Request{Command: "funding", Args: []string{"zzz"}}); r.Buttons != nil {
		t.Errorf("an unknown pair must carry no button: %+v", r.Buttons)
	}
}
