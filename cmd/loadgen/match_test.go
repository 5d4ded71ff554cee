package main

import (
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"price", "<b>BTC-USDT</b> · Binance\n97,123.40 USDT  ▲ +2.23% 24h", kindPrice},
		{"price of a cross", "<b>ETH-BTC</b> · Bybit\n0.0356 BTC", kindPrice},
		{"price of a perpetual", "<b>BTC-USDT perp</b> · Binance\n<b>97,123.40</b> USDT", kindPrice},
		{"alert set", "🔔 Alert #12 set: BTC-USDT above 100,000.00 · now 97,123.40 USDT on Binance", kindAlert},
		{"oi", "<b>SOL-USDT perp</b> open interest on Binance\n$1.85B", kindOI},
		{"oi all", "<b>BTC-USDT perp</b> open interest by venue\n<pre>…</pre>", kindOI},
		{"funding", "<b>BTC-USDT perp funding</b>\n<pre>venue rate</pre>", kindFunding},
		{"analysis", "<b>📊 ETH-USDT · 4h analysis</b>\nClose <b>3,469.31</b>", kindAnalysis},
		{"help", "<b>Commands</b>\n/help\n    How to use each command", kindHelp},
		{"unknown command", "Unknown command. Send /help to see what I can do.", kindUnknown},
		{"plain text", "I answer commands. Try /price BTC or /help.", kindText},
		{"usage", "Usage: <code>/price SYMBOL</code>, for example <code>/price BTC</code>.", kindUsage},
		{"unknown pair", "Unknown pair <code>ZZZQ</code>.\nDid you mean …", kindUnknownPair},
		{"entities are decoded", "Unknown pair <b>&lt;x&gt;</b>.", kindUnknownPair},
		{"an error is no kind", "Sorry, something went wrong. Please try again.", ""},
		{"price section line is not a price reply", "📊 1h: RSI 30 · trend →", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := classify(tt.text); got != tt.want {
				t.Errorf("classify(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestMatcher(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(msec int) time.Time { return t0.Add(time.Duration(msec) * time.Millisecond) }
	const (
		priceReply = "<b>BTC-USDT</b> · Binance"
		helpReply  = "<b>Commands</b>"
		sorry      = "Sorry, something went wrong."
	)
	type req struct {
		chat int64
		kind string
		at   int
	}
	type rep struct {
		chat int64
		text string
		at   int
	}
	tests := []struct {
		name                               string
		reqs                               []req
		reps                               []rep
		answered, waiting, dup, mismatched int
		latencies                          []time.Duration
	}{
		{
			name:      "one chat in order",
			reqs:      []req{{1, kindPrice, 0}, {1, kindHelp, 10}},
			reps:      []rep{{1, priceReply, 5}, {1, helpReply, 30}},
			answered:  2,
			latencies: []time.Duration{5 * time.Millisecond, 20 * time.Millisecond},
		},
		{
			name:      "a fast reply overtakes a slow one in its chat",
			reqs:      []req{{1, kindPrice, 0}, {1, kindHelp, 10}},
			reps:      []rep{{1, helpReply, 12}, {1, priceReply, 40}},
			answered:  2,
			latencies: []time.Duration{2 * time.Millisecond, 40 * time.Millisecond},
		},
		{
			name:       "an unclassified reply takes the oldest request",
			reqs:       []req{{1, kindPrice, 0}, {1, kindHelp, 10}},
			reps:       []rep{{1, sorry, 50}},
			answered:   1,
			waiting:    1,
			mismatched: 1,
			latencies:  []time.Duration{50 * time.Millisecond},
		},
		{
			name:       "a reply of a kind nobody asked for takes the oldest request",
			reqs:       []req{{1, kindOI, 0}},
			reps:       []rep{{1, helpReply, 7}},
			answered:   1,
			mismatched: 1,
			latencies:  []time.Duration{7 * time.Millisecond},
		},
		{
			name:      "chats are independent",
			reqs:      []req{{1, kindPrice, 0}, {2, kindPrice, 1}},
			reps:      []rep{{2, priceReply, 3}},
			answered:  1,
			waiting:   1,
			latencies: []time.Duration{2 * time.Millisecond},
		},
		{
			name:      "more replies than requests are duplicates",
			reqs:      []req{{1, kindPrice, 0}},
			reps:      []rep{{1, priceReply, 4}, {1, priceReply, 6}, {3, priceReply, 6}},
			answered:  1,
			dup:       2,
			latencies: []time.Duration{4 * time.Millisecond},
		},
		{
			name:      "a reply stamped before its request counts as zero latency",
			reqs:      []req{{1, kindPrice, 10}},
			reps:      []rep{{1, priceReply, 9}},
			answered:  1,
			latencies: []time.Duration{0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMatcher()
			for _, r := range tt.reqs {
				m.request(r.chat, r.kind, at(r.at))
			}
			for _, r := range tt.reps {
				m.reply(r.chat, r.text, at(r.at))
			}
			if m.sent != len(tt.reqs) || m.answered != tt.answered || m.waiting != tt.waiting ||
				m.duplicated != tt.dup || m.mismatched != tt.mismatched {
				t.Errorf("sent %d answered %d waiting %d dup %d mismatched %d; want %d %d %d %d %d",
					m.sent, m.answered, m.waiting, m.duplicated, m.mismatched,
					len(tt.reqs), tt.answered, tt.waiting, tt.dup, tt.mismatched)
			}
			if len(m.latencies) != len(tt.latencies) {
				t.Fatalf("latencies %v, want %v", m.latencies, tt.latencies)
			}
			for i := range tt.latencies {
				if m.latencies[i] != tt.latencies[i] {
					t.Errorf("latencies %v, want %v", m.latencies, tt.latencies)
					break
				}
			}
		})
	}
}

func TestPercentiles(t *testing.T) {
	msd := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // 100 … 1, unsorted on purpose
	}
	tests := []struct {
		name string
		in   []time.Duration
		want Percentiles
	}{
		{"empty", nil, Percentiles{}},
		{"one", msd(7), Percentiles{7, 7, 7, 7}},
		{"nearest rank of 1..100", msd(hundred...), Percentiles{50, 95, 99, 100}},
		{"outlier shows only at the top", msd(1, 1, 1, 1, 1, 1, 1, 1, 1, 1000), Percentiles{1, 1000, 1000, 1000}},
		{"sub-millisecond keeps two decimals", []time.Duration{1234567}, Percentiles{1.23, 1.23, 1.23, 1.23}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append([]time.Duration(nil), tt.in...)
			if got := percentiles(tt.in); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			for i := range in {
				if in[i] != tt.in[i] {
					t.Fatal("percentiles reordered its input")
				}
			}
		})
	}
}

// Inline and callback queries are matched by id, per kind; an edit belongs
// to the oldest press on its message not answered before it.
func TestMatcherQueries(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(msec int) time.Time { return t0.Add(time.Duration(msec) * time.Millisecond) }
	m := newMatcher()
	msg := msgKey{7, 70}
	m.request(1, kindPrice, at(0))
	m.query("i1", kindInline, at(0), msgKey{})
	m.query("c1", kindPress, at(10), msg) // up to date: answered, no edit
	m.query("c2", kindPress, at(20), msg) // edited at 45, answered at 50
	m.query("c3", kindPress, at(30), msg) // never answered: lost
	m.reply(1, "<b>BTC-USDT</b> · Binance", at(5))
	m.answer("i1", at(8))
	m.answer("c1", at(12))
	m.edit(msg, at(45))
	m.answer("c2", at(50))
	m.answer("c2", at(51))   // twice
	m.answer("nope", at(52)) // never injected
	if m.sent != 5 || m.answered != 4 || m.waiting != 1 || m.duplicated != 2 {
		t.Errorf("sent %d answered %d waiting %d duplicated %d", m.sent, m.answered, m.waiting, m.duplicated)
	}
	in, pr := m.byKind[kindInline], m.byKind[kindPress]
	if in.sent != 1 || in.answered != 1 || in.latencies[0] != 8*time.Millisecond {
		t.Errorf("inline %+v", in)
	}
	if pr.sent != 3 || pr.answered != 2 || pr.latencies[0] != 2*time.Millisecond || pr.latencies[1] != 30*time.Millisecond {
		t.Errorf("press %+v", pr)
	}
	if len(m.edits) != 1 || m.edits[0] != 25*time.Millisecond {
		t.Errorf("edits %v, want c2's 25 ms", m.edits)
	}
	var res Result
	res.matched(m)
	if c := res.Categories[kindPress]; c.Lost != 1 || c.Edits != 1 || c.EditLatencyMS == nil || c.EditLatencyMS.P50 != 25 {
		t.Errorf("press category %+v", c)
	}
	if c := res.Categories[kindPrice]; c.Sent != 1 || c.Answered != 1 || c.LatencyMS.P50 != 5 {
		t.Errorf("price category %+v", c)
	}
}
