package openinterest_test

import (
	"testing"

	"github.com/cryptobot-dev/cryptobot/modules"
)

func TestRefreshButton(t *testing.T) {
	h := module.Handler(t, newSource())
	for args, want := range map[string][]string{"1|oi|BTC-USDT": {"btc"}, "1|oi|BTC-USDT|all": {"btc", "all"}} {
		r, err := h.Handle(t.Context(), modules.Request{Command: "oi", Args: want})
		if err != nil || len(r.Buttons) == 0 || r.Buttons[0][0].Text != "🔄 Refresh" || r.Buttons[0][0].Data != args {
			t.Errorf("%v: buttons %+v, %v; want Refresh %q first", want, r.Buttons, err, args)
		}
	}
	if r, _ := h.Handle(t.Context(), modules.Request{Command: "oi", Args: []string{"zzz"}}); r.Buttons != nil {
		t.Errorf("an unknown pair must carry no button: %+v", r.Buttons)
	}
}
