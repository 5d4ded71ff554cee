package dispatch_test

import (
	"slices"
	"testing"
	"time"
)

// reportLatency reports the p50 and p99 of ds.
func reportLatency(b *testing.B, ds []time.Duration) {
	slices.Sort(ds)
	q := func(p float64) float64 { return float64(ds[int(p*float64(len(ds)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}

// BenchmarkInlineAnswer: inline queries in bursts of 10 at once (load),
// each timed from the update being offered to the fake Bot API receiving
// answerInlineQuery, through long polling, the worker pool, the router and
// /price's inline search over a market that answers at once.
func BenchmarkInlineAnswer(b *testing.B) {
	h := newHarness(b)
	queries := []string{"btc", "eth usdt", "", "sol", "eth", "zzzz", "btc-usdc", "ethbtc", "btc", "eth"}
	var lat []time.Duration
	answered := 0
	for b.Loop() {
		asked := map[string]time.Time{}
		for _, q := range queries {
			asked[h.srv.Inline(5, q, "group")] = time.Now()
		}
		answered += len(queries)
		for _, a := range wait(b, answered, h.srv.WaitInline)[answered-len(queries):] {
			lat = append(lat, a.Time.Sub(asked[a.QueryID]))
		}
	}
	reportLatency(b, lat)
}

// BenchmarkPressToEdit: a Refresh press after a price move, timed from the
// press to the fake Bot API receiving the edit, and to the answer.
func BenchmarkPressToEdit(b *testing.B) {
	h := newHarness(b)
	h.srv.SendText(42, 42, "private", "/price btc")
	msg := h.sent(b, 1)[0]
	data := msg.Buttons[0][0].CallbackData
	var edits, answers []time.Duration
	n := 0
	for b.Loop() {
		n++
		h.market.set("BTC-USDT", 97000+float64(n))
		start := time.Now()
		h.srv.Press(42, 42, msg.MessageID, data)
		a := h.answers(b, n)[n-1]
		e := h.sent(b, n+1)[n]
		if e.Method != "editMessageText" {
			b.Fatalf("press %d: %+v", n, e)
		}
		edits, answers = append(edits, e.Time.Sub(start)), append(answers, a.Time.Sub(start))
	}
	reportLatency(b, edits)
	b.ReportMetric(float64(slices.Max(answers).Microseconds())/1000, "max-answer-ms")
}
