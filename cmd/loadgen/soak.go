package main

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// SoakSample is one look at the bot during a soak.
type SoakSample struct {
	AtS        float64 `json:"t_s"`
	Goroutines float64 `json:"goroutines"`
	HeapBytes  float64 `json:"heap_bytes"` // go_memstats_heap_inuse_bytes, else go_gc_heap_live_bytes
	RSSBytes   float64 `json:"rss_bytes"`  // VmRSS
}

// SoakCheck compares one metric's medians over the first and last third.
type SoakCheck struct {
	Metric  string  `json:"metric"`
	Unit    string  `json:"unit"` // "bytes" or "count"
	First   float64 `json:"first_third_median"`
	Last    float64 `json:"last_third_median"`
	Allowed float64 `json:"allowed_growth"`
	OK      bool    `json:"ok"`
}

func (c SoakCheck) format(v float64) string {
	if c.Unit == "bytes" {
		return mib(int64(v))
	}
	return fmt.Sprintf("%.0f", v)
}

// Soak is the outcome of -soak.
type Soak struct {
	EveryS  float64      `json:"every_s"`
	Samples []SoakSample `json:"samples"`
	Checks  []SoakCheck  `json:"checks"`
	Passed  bool         `json:"passed"` // no growth past tolerance, nothing lost or duplicated
	Load    Result       `json:"load"`
}

// soakTolerance is how much a metric may grow: the larger of a fraction of
// its first-third median and an absolute slack, so a tiny baseline does not
// make noise look like a leak.
type soakTolerance struct {
	growth     float64 // fraction, e.g. 0.2
	bytes      float64 // slack for heap and RSS
	goroutines float64 // slack for goroutines
}

const minSoakSamples = 6 // two per third

// judgeSoak compares the medians of the first and last third of samples.
func judgeSoak(samples []SoakSample, tol soakTolerance) ([]SoakCheck, error) {
	n := len(samples)
	if n < minSoakSamples {
		return nil, fmt.Errorf("soak too short: %d samples, need at least %d (lengthen -soak or shorten -soak-every)", n, minSoakSamples)
	}
	third := n / 3
	metric := func(name, unit string, slack float64, get func(SoakSample) float64) SoakCheck {
		first, last := make([]float64, third), make([]float64, third)
		for i := range third {
			first[i], last[i] = get(samples[i]), get(samples[n-third+i])
		}
		c := SoakCheck{Metric: name, Unit: unit, First: median(first), Last: median(last)}
		c.Allowed = max(c.First*tol.growth, slack)
		c.OK = c.Last-c.First <= c.Allowed
		return c
	}
	return []SoakCheck{
		metric("goroutines", "count", tol.goroutines, func(s SoakSample) float64 { return s.Goroutines }),
		metric("heap", "bytes", tol.bytes, func(s SoakSample) float64 { return s.HeapBytes }),
		metric("rss", "bytes", tol.bytes, func(s SoakSample) float64 { return s.RSSBytes }),
	}, nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// soakSample scrapes the bot's /metrics and reads its VmRSS.
func soakSample(ctx context.Context, r *rig, at time.Duration) (SoakSample, error) {
	ms, err := r.metrics(ctx)
	if err != nil {
		return SoakSample{}, err
	}
	st, err := readStatus(r.bot.pid)
	if err != nil {
		return SoakSample{}, err
	}
	s := SoakSample{AtS: at.Seconds(), RSSBytes: float64(st.RSS)}
	var ok bool
	if s.Goroutines, ok = ms.sum("go_goroutines"); !ok {
		return s, fmt.Errorf("no go_goroutines in /metrics")
	}
	if s.HeapBytes, ok = ms.sum("go_memstats_heap_inuse_bytes"); !ok {
		if s.HeapBytes, ok = ms.sum("go_gc_heap_live_bytes"); !ok {
			return s, fmt.Errorf("no go_memstats_heap_inuse_bytes or go_gc_heap_live_bytes in /metrics")
		}
	}
	return s, nil
}

// sampleSoak takes a sample every interval until ctx ends, then sends them
// all. A failed sample is logged and skipped.
func sampleSoak(ctx context.Context, r *rig, every time.Duration) <-chan []SoakSample {
	out := make(chan []SoakSample, 1)
	go func() {
		var samples []SoakSample
		start := time.Now()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				out <- samples
				return
			case <-t.C:
				if s, err := soakSample(ctx, r, time.Since(start)); err == nil {
					samples = append(samples, s)
				} else if ctx.Err() == nil {
					r.log.Warn("soak sample failed", "err", err)
				}
			}
		}
	}()
	return out
}
