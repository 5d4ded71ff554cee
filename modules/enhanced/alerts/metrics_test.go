package alerts

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestMetrics(t *testing.T) {
	h := newHarness(t, Config{})
	reg := prometheus.NewPedanticRegistry()
	for _, c := range h.m.Collectors() {
		if err := reg.Register(c); err != nil {
			t.Fatal(err)
		}
	}
	h.cmd(1, "/alert btc above 98k")
	h.cmd(1, "/alert eth move 5%")
	h.restart(Config{}) // load counts the store's live alerts
	met := h.m.met
	if got := testutil.ToFloat64(met.byKind.WithLabelValues("above", "armed")); got != 1 {
		t.Errorf("armed above alerts %v, want 1", got)
	}
	h.prices(btc, 97_000, 98_500)
	if got := testutil.ToFloat64(met.fired.WithLabelValues("above")); got != 1 {
		t.Errorf("fired %v, want 1", got)
	}
	if got := testutil.CollectAndCount(met.lag); got != 1 {
		t.Errorf("lag series %d", got)
	}
	if got := testutil.ToFloat64(met.live); got != 1 {
		t.Errorf("live %v, want the move alert", got)
	}
	if n, err := testutil.GatherAndCount(reg); err != nil || n == 0 {
		t.Errorf("gathered %d series, %v", n, err)
	}
}
