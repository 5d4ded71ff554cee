package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func sampleResult() Result {
	return Result{
		Mode: "webhook", TargetRate: 200, AchievedRate: 199.98, DurationS: 60, Chats: 5000, Enhanced: true, Warm: true,
		Limits: raisedLimits, Sent: 12000, Answered: 11998, Lost: 2, Duplicated: 1, Mismatched: 3,
		LatencyMS:      Percentiles{P50: 2.5, P95: 7.25, P99: 12.5, Max: 80},
		ThroughputPerS: 199.9, PeakRSSBytes: 31 << 20, MaxSampledRSS: 30 << 20, RSSSamples: 240,
		CPUSeconds: 15, RunQueueWaitS: 2.5, LoadgenCPUSeconds: 9.75, LateReplies: 4, FailedReplies: 1, QueueFull: 0,
		LoadAvgStart: "1.00 0.90 0.80", LoadAvgEnd: "1.50 1.00 0.85",
	}
}

func TestWriteResult(t *testing.T) {
	var b bytes.Buffer
	writeResult(&b, sampleResult())
	golden(t, "result.txt", b.String())

	pass := sampleResult()
	pass.Lost, pass.Duplicated = 0, 0
	b.Reset()
	writeResult(&b, pass)
	if !strings.HasSuffix(strings.TrimSpace(b.String()), "verdict      PASS") {
		t.Errorf("a clean run does not say PASS:\n%s", b.String())
	}
}

func TestWriteResultBurstAndUpstream(t *testing.T) {
	r := sampleResult()
	r.Lost, r.Duplicated = 0, 0
	r.UpstreamPerS = map[string]float64{"okx": 0.5, "binance": 12.25, "bybit": 3}
	r.Burst = &Burst{Sent: 500, Answered: 499, Lost: 1, LatencyMS: Percentiles{P50: 3, P95: 40, P99: 120.5, Max: 300}}
	var b bytes.Buffer
	writeResult(&b, r)
	for _, want := range []string{
		"burst        500 at once: answered 499 · lost 1 · duplicated 0 · p50 3.00 ms · p95 40.00 ms · p99 120.50 ms · max 300.00 ms\n",
		"upstream     binance 12.2/s · bybit 3.0/s · okx 0.5/s (requests the fake venues received)\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
	if r.Passed() {
		t.Error("a run whose burst lost an update passed")
	}
}

func TestBurstSpec(t *testing.T) {
	s := burstSpec(loadSpec{rate: 200, duration: time.Minute, chats: 100, seed: 1}, 500)
	if s.total() != 500 || s.duration != injectEvery || s.chats != 100 || s.seed == 1 {
		t.Errorf("burstSpec = %+v (total %d), want 500 in one injection tick, a new seed", s, s.total())
	}
}

func TestWriteFindMax(t *testing.T) {
	step := func(rate, p99 float64, lost int) Result {
		r := sampleResult()
		r.TargetRate, r.LatencyMS.P99, r.Lost, r.Duplicated = rate, p99, lost, 0
		return r
	}
	f := FindMax{P99LimitMS: 1000, MaxRate: 400, Steps: []Result{step(100, 5, 0), step(200, 9, 0), step(400, 40, 0), step(800, 2500, 12)}}
	var b bytes.Buffer
	writeFindMax(&b, f)
	golden(t, "findmax.txt", b.String())
}

func TestWriteSoak(t *testing.T) {
	s := Soak{EveryS: 5, Passed: false, Samples: make([]SoakSample, 120), Checks: []SoakCheck{
		{Metric: "goroutines", Unit: "count", First: 30, Last: 31, Allowed: 10, OK: true},
		{Metric: "heap", Unit: "bytes", First: 8 << 20, Last: 20 << 20, Allowed: 5 << 20, OK: false},
	}}
	var b bytes.Buffer
	writeSoak(&b, s)
	golden(t, "soak.txt", b.String())
}

func TestFindMax(t *testing.T) {
	// A bot whose p99 passes 1 s above capacity; nothing else fails.
	bot := func(capacity float64) stepFunc {
		return func(_ context.Context, rate float64) (Result, error) {
			r := Result{TargetRate: rate, LatencyMS: Percentiles{P99: 10}}
			if rate > capacity {
				r.LatencyMS.P99 = 3000
			}
			return r, nil
		}
	}
	tests := []struct {
		name     string
		capacity float64
		refine   int
		want     float64
		rates    []float64
	}{
		{"doubling only", 500, 0, 400, []float64{100, 200, 400, 800}},
		{"bisection refines", 500, 2, 500, []float64{100, 200, 400, 800, 600, 500}},
		{"stops at the limit", 1e9, 2, 1600, []float64{100, 200, 400, 800, 1600}},
		{"first step fails", 50, 2, 0, []float64{100}},
		{"bisection stops when the gap closes", 101, 10, 101, []float64{100, 200, 150, 125, 113, 107, 104, 102, 101}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := findMax(context.Background(), 100, 1600, tt.refine, time.Second, bot(tt.capacity))
			if err != nil {
				t.Fatal(err)
			}
			if f.MaxRate != tt.want {
				t.Errorf("max %g, want %g", f.MaxRate, tt.want)
			}
			var rates []float64
			for _, s := range f.Steps {
				rates = append(rates, s.TargetRate)
			}
			if !equalFloats(rates, tt.rates) {
				t.Errorf("rates %v, want %v", rates, tt.rates)
			}
		})
	}

	t.Run("lost replies fail a fast step", func(t *testing.T) {
		f, _ := findMax(context.Background(), 100, 400, 0, time.Second, func(_ context.Context, rate float64) (Result, error) {
			r := Result{TargetRate: rate, LatencyMS: Percentiles{P99: 1}}
			if rate >= 200 {
				r.Lost = 1
			}
			return r, nil
		})
		if f.MaxRate != 100 {
			t.Errorf("max %g, want 100", f.MaxRate)
		}
	})
	t.Run("a step error stops the search", func(t *testing.T) {
		boom := errors.New("bot crashed")
		f, err := findMax(context.Background(), 100, 400, 0, time.Second, func(_ context.Context, rate float64) (Result, error) {
			if rate == 200 {
				return Result{}, boom
			}
			return Result{TargetRate: rate}, nil
		})
		if !errors.Is(err, boom) || len(f.Steps) != 1 {
			t.Errorf("err %v with %d steps; want the step error after 1 step", err, len(f.Steps))
		}
	})
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestJudgeSoak(t *testing.T) {
	const mb = 1 << 20
	series := func(n int, f func(i int) SoakSample) []SoakSample {
		out := make([]SoakSample, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	tol := soakTolerance{growth: 0.2, bytes: 5 * mb, goroutines: 10}
	tests := []struct {
		name    string
		samples []SoakSample
		ok      map[string]bool
		wantErr string
	}{
		{"flat", series(12, func(int) SoakSample { return SoakSample{Goroutines: 40, HeapBytes: 10 * mb, RSSBytes: 30 * mb} }),
			map[string]bool{"goroutines": true, "heap": true, "rss": true}, ""},
		{"goroutine leak", series(12, func(i int) SoakSample {
			return SoakSample{Goroutines: float64(40 + 5*i), HeapBytes: 10 * mb, RSSBytes: 30 * mb}
		}), map[string]bool{"goroutines": false, "heap": true, "rss": true}, ""},
		{"small heap may grow by the slack", series(12, func(i int) SoakSample {
			return SoakSample{Goroutines: 40, HeapBytes: float64(2*mb + i*mb/3), RSSBytes: 30 * mb}
		}), map[string]bool{"goroutines": true, "heap": true, "rss": true}, ""},
		{"rss leak beyond 20 %", series(12, func(i int) SoakSample {
			return SoakSample{Goroutines: 40, HeapBytes: 10 * mb, RSSBytes: float64(100*mb + i*5*mb)}
		}), map[string]bool{"goroutines": true, "heap": true, "rss": false}, ""},
		{"a spike in the middle is ignored", series(12, func(i int) SoakSample {
			s := SoakSample{Goroutines: 40, HeapBytes: 10 * mb, RSSBytes: 30 * mb}
			if i == 6 {
				s.Goroutines, s.HeapBytes = 400, 90*mb
			}
			return s
		}), map[string]bool{"goroutines": true, "heap": true, "rss": true}, ""},
		{"too few samples", series(5, func(int) SoakSample { return SoakSample{} }), nil, "soak too short: 5 samples"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checks, err := judgeSoak(tt.samples, tol)
			if errorCase(t, err, tt.wantErr) {
				return
			}
			if len(checks) != len(tt.ok) {
				t.Fatalf("%d checks, want %d", len(checks), len(tt.ok))
			}
			for _, c := range checks {
				if c.OK != tt.ok[c.Metric] {
					t.Errorf("%s ok = %v (first %.0f, last %.0f, allowed %.0f), want %v", c.Metric, c.OK, c.First, c.Last, c.Allowed, tt.ok[c.Metric])
				}
			}
		})
	}
}

func TestWriteResultCategories(t *testing.T) {
	r := sampleResult()
	e := Percentiles{P50: 4, P99: 30}
	r.Categories = map[string]Category{
		kindPrice:  {Sent: 60, Answered: 60, LatencyMS: Percentiles{P50: 1, P95: 2, P99: 3, Max: 4}},
		kindInline: {Sent: 20, Answered: 19, Lost: 1, LatencyMS: Percentiles{P50: 2, P95: 5, P99: 9.5, Max: 12}},
		kindPress:  {Sent: 20, Answered: 20, LatencyMS: Percentiles{P50: 3, P95: 6, P99: 10, Max: 11}, Edits: 8, EditLatencyMS: &e},
	}
	r.Alerts = &AlertCounts{Created: 100, Live: 98, InStore: 100}
	var b bytes.Buffer
	writeResult(&b, r)
	for _, want := range []string{
		"  inline     20 sent · answered 19 · lost 1 · p50 2.00 ms · p95 5.00 ms · p99 9.50 ms · max 12.00 ms (inject → answerInlineQuery)\n",
		"  press      20 sent · answered 20 · lost 0 · p50 3.00 ms · p95 6.00 ms · p99 10.00 ms · max 11.00 ms (inject → answerCallbackQuery); 8 edits, press → editMessageText p50 4.00 ms · p99 30.00 ms\n",
		"  price      60 sent",
		"alerts       100 created (bot metric) · 98 live (bot metric) · 100 live in the store\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
	// A run of one ordinary category keeps the report as it was.
	plain := sampleResult()
	plain.Categories = map[string]Category{kindPrice: {Sent: 1}}
	b.Reset()
	writeResult(&b, plain)
	if strings.Contains(b.String(), "  price") {
		t.Errorf("a price-only run lists categories:\n%s", b.String())
	}
}
