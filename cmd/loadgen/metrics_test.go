package main

import (
	"strings"
	"testing"
)

const exposition = `# HELP cryptobot_replies_total Replies by outcome.
# TYPE cryptobot_replies_total counter
cryptobot_replies_total{outcome="sent"} 120
cryptobot_replies_total{outcome="late"} 3
cryptobot_updates_received_total{outcome="accepted",source="webhook"} 100
cryptobot_updates_received_total{outcome="queue_full",source="webhook"} 4
cryptobot_updates_received_total{outcome="queue_full",source="polling"} 1
go_goroutines 27
odd{msg="a \"quoted\" \\ value, with } and =",x="y"} 1.5e3 1712345678000
`

func TestParseExposition(t *testing.T) {
	ss, err := parseExposition(strings.NewReader(exposition))
	if err != nil {
		t.Fatal(err)
	}
	ms := metricSet(ss)
	tests := []struct {
		name   string
		metric string
		labels []string
		want   float64
		ok     bool
	}{
		{"one series", "cryptobot_replies_total", []string{"outcome", "late"}, 3, true},
		{"summed over other labels", "cryptobot_updates_received_total", []string{"outcome", "queue_full"}, 5, true},
		{"every label must match", "cryptobot_updates_received_total", []string{"outcome", "queue_full", "source", "polling"}, 1, true},
		{"no labels", "go_goroutines", nil, 27, true},
		{"escaped label value and timestamp", "odd", []string{"msg", `a "quoted" \ value, with } and =`}, 1500, true},
		{"missing series", "cryptobot_replies_total", []string{"outcome", "failed"}, 0, false},
		{"missing metric", "nope", nil, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ms.sum(tt.metric, tt.labels...)
			if got != tt.want || ok != tt.ok {
				t.Errorf("sum = %v, %v; want %v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestParseExpositionErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"no value", "lonely_metric\n", "line 1: no value"},
		{"bad value", "m abc\n", `line 1: bad value "abc"`},
		{"unterminated label", "# c\nm{a=\"x} 1\n", "line 2: unterminated label value"},
		{"label without quotes", "m{a=x} 1\n", "line 1: bad label"},
		{"too many fields", "m 1 2 3\n", "line 1: want a value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseExposition(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestMarketCounts(t *testing.T) {
	scrape := func(text string) metricSet {
		t.Helper()
		ss, err := parseExposition(strings.NewReader(text))
		if err != nil {
			t.Fatal(err)
		}
		return ss
	}
	before := scrape(`cryptobot_market_cache_requests_total{kind="ticker",result="hit"} 10
cryptobot_market_data_age_seconds_bucket{le="1"} 5
cryptobot_market_data_age_seconds_bucket{le="2"} 5
cryptobot_market_data_age_seconds_bucket{le="3"} 5
cryptobot_market_data_age_seconds_bucket{le="+Inf"} 5
`)
	after := scrape(`cryptobot_market_cache_requests_total{kind="ticker",result="hit"} 110
cryptobot_market_cache_requests_total{kind="funding",result="hit"} 5
cryptobot_market_cache_requests_total{kind="ticker",result="miss"} 2
cryptobot_market_stale_served_total{kind="ticker"} 7
cryptobot_market_upstream_requests_total{trigger="ahead",venue="binance"} 30
cryptobot_market_upstream_requests_total{trigger="ahead",venue="okx"} 3
cryptobot_market_data_age_seconds_bucket{le="1"} 55
cryptobot_market_data_age_seconds_bucket{le="2"} 104
cryptobot_market_data_age_seconds_bucket{le="3"} 105
cryptobot_market_data_age_seconds_bucket{le="+Inf"} 105
`)
	c := marketCounts(before, after)
	if c.Hits != 105 || c.Misses != 2 || c.Stale != 7 || c.Upstream["ahead"] != 33 || c.Upstream["wait"] != 0 {
		t.Errorf("counts %+v", c)
	}
	if c.AgeP99S != 2 {
		t.Errorf("age p99 ≤ %g s, want 2 (99 of 100 new observations by 2 s)", c.AgeP99S)
	}
}
