package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
)

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// writeResult prints one run for people.
func writeResult(w io.Writer, r Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	warm := "cold"
	if r.Warm {
		warm = "warm"
	}
	fmt.Fprintf(tw, "run\t%s · %g/s for %.1fs over %d chats · enhanced %s · %s cache\n",
		r.Mode, r.TargetRate, r.DurationS, r.Chats, onOff(r.Enhanced), warm)
	fmt.Fprintf(tw, "limits\t%g/s global · %g/s per chat · %g/min per group · exchange latency %g ms\n",
		r.Limits.Global, r.Limits.PerChat, r.Limits.PerGroup, r.ExchangeLatencyMS)
	fmt.Fprintf(tw, "sent\t%d (%.1f/s achieved)\n", r.Sent, r.AchievedRate)
	fmt.Fprintf(tw, "answered\t%d · lost %d · duplicated %d · mismatched %d\n", r.Answered, r.Lost, r.Duplicated, r.Mismatched)
	for _, line := range slices.Sorted(maps.Keys(r.MismatchExamples)) {
		fmt.Fprintf(tw, "  mismatch\t%d × %q\n", r.MismatchExamples[line], line)
	}
	fmt.Fprintf(tw, "latency\tp50 %.2f ms · p95 %.2f ms · p99 %.2f ms · max %.2f ms\n",
		r.LatencyMS.P50, r.LatencyMS.P95, r.LatencyMS.P99, r.LatencyMS.Max)
	if len(r.Categories) > 1 || r.Categories[kindInline].Sent+r.Categories[kindPress].Sent+r.Categories[kindAlert].Sent > 0 {
		for _, k := range slices.Sorted(maps.Keys(r.Categories)) {
			c := r.Categories[k]
			fmt.Fprintf(tw, "  %s	%d sent · answered %d · lost %d · p50 %.2f ms · p95 %.2f ms · p99 %.2f ms · max %.2f ms%s\n",
				k, c.Sent, c.Answered, c.Lost, c.LatencyMS.P50, c.LatencyMS.P95, c.LatencyMS.P99, c.LatencyMS.Max, categoryNote(k, c))
		}
	}
	if a := r.Alerts; a != nil {
		store := fmt.Sprintf("%d live in the store", a.InStore)
		if a.StoreErr != "" {
			store = "store not read: " + a.StoreErr
		}
		fmt.Fprintf(tw, "alerts	%d created (bot metric) · %d live (bot metric) · %s\n", a.Created, a.Live, store)
	}
	if b := r.Burst; b != nil {
		fmt.Fprintf(tw, "burst\t%d at once: answered %d · lost %d · duplicated %d · p50 %.2f ms · p95 %.2f ms · p99 %.2f ms · max %.2f ms\n",
			b.Sent, b.Answered, b.Lost, b.Duplicated, b.LatencyMS.P50, b.LatencyMS.P95, b.LatencyMS.P99, b.LatencyMS.Max)
	}
	fmt.Fprintf(tw, "throughput\t%.1f answers/s\n", r.ThroughputPerS)
	if len(r.UpstreamPerS) > 0 {
		var parts []string
		for _, v := range slices.Sorted(maps.Keys(r.UpstreamPerS)) {
			parts = append(parts, fmt.Sprintf("%s %.1f/s", v, r.UpstreamPerS[v]))
		}
		fmt.Fprintf(tw, "upstream\t%s (requests the fake venues received)\n", strings.Join(parts, " · "))
	}
	if mc := r.Market; mc.Hits+mc.Misses > 0 {
		fmt.Fprintf(tw, "market\thits %d (stale %d) · misses %d · coalesced %d · venue requests: wait %d, revalidate %d, ahead %d · data age p99 ≤ %g s\n",
			mc.Hits, mc.Stale, mc.Misses, mc.Coalesced, mc.Upstream["wait"], mc.Upstream["revalidate"], mc.Upstream["ahead"], mc.AgeP99S)
	}
	fmt.Fprintf(tw, "bot RSS\tpeak %s (VmHWM) · max sampled %s (%d samples)\n", mib(r.PeakRSSBytes), mib(r.MaxSampledRSS), r.RSSSamples)
	core := 0.0
	if r.DurationS > 0 {
		core = 100 * r.CPUSeconds / r.DurationS
	}
	fmt.Fprintf(tw, "bot CPU\t%.2f s (%.0f %% of one core over the injection time); waited %.2f s for a CPU\n", r.CPUSeconds, core, r.RunQueueWaitS)
	fmt.Fprintf(tw, "loadgen CPU\t%.2f s (fakes, injection, matching: they share the machine with the bot)\n", r.LoadgenCPUSeconds)
	fmt.Fprintf(tw, "replies\tlate %d · failed %d · queue full %d (bot metrics)\n", r.LateReplies, r.FailedReplies, r.QueueFull)
	fmt.Fprintf(tw, "load avg\t%s → %s\n", r.LoadAvgStart, r.LoadAvgEnd)
	verdict := "PASS"
	if !r.Passed() {
		verdict = fmt.Sprintf("FAIL: %d lost, %d duplicated", r.Lost, r.Duplicated)
	}
	fmt.Fprintf(tw, "verdict\t%s\n", verdict)
	tw.Flush()
}

// writeFindMax prints the steps of -find-max and the answer.
func writeFindMax(w io.Writer, f FindMax) {
	if f.MaxRate > 0 {
		fmt.Fprintf(w, "find-max: highest rate with p99 < %g ms and nothing lost: %g/s\n", f.P99LimitMS, f.MaxRate)
	} else {
		fmt.Fprintf(w, "find-max: no rate passed (p99 < %g ms, nothing lost)\n", f.P99LimitMS)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "rate/s\tachieved/s\tsent\tlost\tdup\tp50 ms\tp99 ms\tmax ms\tlate\tCPU s\tCPU wait s\tloadgen CPU s\tpeak RSS\tload avg\tpass\t")
	for _, s := range f.Steps {
		fmt.Fprintf(tw, "%g\t%.1f\t%d\t%d\t%d\t%.2f\t%.2f\t%.2f\t%d\t%.2f\t%.2f\t%.2f\t%s\t%s\t%s\t\n",
			s.TargetRate, s.AchievedRate, s.Sent, s.Lost, s.Duplicated, s.LatencyMS.P50, s.LatencyMS.P99,
			s.LatencyMS.Max, s.LateReplies, s.CPUSeconds, s.RunQueueWaitS, s.LoadgenCPUSeconds, mib(s.PeakRSSBytes), s.LoadAvgStart, yesNo(f.passes(s)))
	}
	tw.Flush()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// writeSoak prints the soak verdict with the medians it compared.
func writeSoak(w io.Writer, s Soak) {
	fmt.Fprintf(w, "soak: %d samples every %g s; medians of the first and last third\n", len(s.Samples), s.EveryS)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "metric\tfirst\tlast\tgrowth\tallowed\tok\t")
	for _, c := range s.Checks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", c.Metric, c.format(c.First), c.format(c.Last),
			c.format(c.Last-c.First), c.format(c.Allowed), yesNo(c.OK))
	}
	tw.Flush()
	if s.Passed {
		fmt.Fprintln(w, "soak verdict: PASS")
	} else {
		fmt.Fprintln(w, "soak verdict: FAIL")
	}
}

// writeJSON writes v indented to path.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// categoryNote says what a category's latency runs to.
func categoryNote(kind string, c Category) string {
	switch kind {
	case kindInline:
		return " (inject → answerInlineQuery)"
	case kindPress:
		n := " (inject → answerCallbackQuery)"
		if e := c.EditLatencyMS; e != nil && c.Edits > 0 {
			n += fmt.Sprintf("; %d edits, press → editMessageText p50 %.2f ms · p99 %.2f ms", c.Edits, e.P50, e.P99)
		}
		return n
	}
	return ""
}
