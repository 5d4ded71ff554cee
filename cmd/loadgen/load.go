package main

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market/markettest"
)

const (
	firstChat   = 100_000_000 // load chats are firstChat+0 … firstChat+chats-1
	warmChat    = 1           // warm-up chats are warmChat+0, +1, …
	injectEvery = 5 * time.Millisecond
	collectEach = 100 * time.Millisecond
	rssEvery    = 250 * time.Millisecond
	settle      = time.Second // extra wait for duplicates once all is answered
)

// loadSpec is one open-loop run.
type loadSpec struct {
	rate     float64 // updates per second
	duration time.Duration
	chats    int
	grace    time.Duration // after the last injection, for the last replies
	mix      mix
	seed     uint64
}

// total is the number of updates the run injects.
func (s loadSpec) total() int {
	return max(1, int(math.Round(s.rate*s.duration.Seconds())))
}

// Result is one run's measurement; JSON field names are the report's.
type Result struct {
	Mode              string         `json:"mode"`
	TargetRate        float64        `json:"target_rate_per_s"`
	AchievedRate      float64        `json:"achieved_rate_per_s"`
	DurationS         float64        `json:"duration_s"`
	Chats             int            `json:"chats"`
	Enhanced          bool           `json:"enhanced"`
	Warm              bool           `json:"warm"`
	Limits            limits         `json:"telegram_limits"`
	ExchangeLatencyMS float64        `json:"exchange_latency_ms"`
	Sent              int            `json:"sent"`
	Answered          int            `json:"answered"`
	Lost              int            `json:"lost"`
	Duplicated        int            `json:"duplicated"`
	Mismatched        int            `json:"mismatched"`
	MismatchExamples  map[string]int `json:"mismatch_examples,omitempty"` // first line → count, a few
	LatencyMS         Percentiles    `json:"latency_ms"`
	ThroughputPerS    float64        `json:"throughput_answers_per_s"`
	PeakRSSBytes      int64          `json:"peak_rss_bytes"`        // VmHWM at the end of the run
	MaxSampledRSS     int64          `json:"max_sampled_rss_bytes"` // max VmRSS sampled every 250 ms
	RSSSamples        int            `json:"rss_samples"`
	CPUSeconds        float64        `json:"cpu_seconds"`         // utime+stime during the run
	RunQueueWaitS     float64        `json:"run_queue_wait_s"`    // time the bot\'s threads waited for a CPU
	LoadgenCPUSeconds float64        `json:"loadgen_cpu_seconds"` // this process: fakes, injection, matching
	LateReplies       int            `json:"late_replies"`        // cryptobot_replies_total{outcome="late"}
	FailedReplies     int            `json:"failed_replies"`      // cryptobot_replies_total{outcome="failed"}
	QueueFull         int            `json:"queue_full"`          // updates refused with the queue full
	LoadAvgStart      string         `json:"loadavg_start"`
	LoadAvgEnd        string         `json:"loadavg_end"`
	// UpstreamPerS is the requests per second each fake venue received
	// during the run: flat as the update rate grows when the cache works.
	UpstreamPerS map[string]float64 `json:"upstream_requests_per_s,omitempty"`
	Burst        *Burst             `json:"burst,omitempty"` // with -burst
	Market       MarketCounts       `json:"market"`
	// Categories are the counts and latencies by reply kind (price, inline,
	// press, alert, …): an inline query's latency runs to the fake's receipt
	// of answerInlineQuery, a press's to answerCallbackQuery.
	Categories map[string]Category `json:"categories,omitempty"`
	Alerts     *AlertCounts        `json:"alerts,omitempty"` // when the mix sets alerts
}

// Category is one reply kind's share of a run.
type Category struct {
	Sent      int         `json:"sent"`
	Answered  int         `json:"answered"`
	Lost      int         `json:"lost"`
	LatencyMS Percentiles `json:"latency_ms"`
	// Edits are presses whose message was edited (editMessageText), with
	// the press → edit latency; a press with nothing new gets no edit.
	Edits         int          `json:"edits,omitempty"`
	EditLatencyMS *Percentiles `json:"edit_latency_ms,omitempty"`
}

// AlertCounts are the alerts the run created, by the bot's metrics and by a
// count of the store itself.
type AlertCounts struct {
	Created  int    `json:"created"`  // cryptobot_alerts_created_total over the run
	Live     int    `json:"live"`     // cryptobot_alerts_live at the end
	InStore  int    `json:"in_store"` // live alerts in the store file at the end
	StoreErr string `json:"store_error,omitempty"`
}

// MarketCounts are the bot's market-cache counters over the run.
type MarketCounts struct {
	Hits      int            `json:"hits"` // stale ones included
	Stale     int            `json:"stale_served"`
	Misses    int            `json:"misses"`
	Coalesced int            `json:"coalesced"`
	Upstream  map[string]int `json:"upstream_by_trigger"` // wait, revalidate, ahead
	// AgeP99S is the upper bound of the bucket holding the 99th percentile
	// of cryptobot_market_data_age_seconds; 0 when nothing was observed.
	AgeP99S float64 `json:"data_age_p99_le_s"`
}

// marketCounts reads MarketCounts from two scrapes of the bot.
func marketCounts(before, after metricSet) MarketCounts {
	delta := func(name string, labels ...string) int {
		return int(after.value(name, labels...) - before.value(name, labels...))
	}
	c := MarketCounts{
		Hits:      delta("cryptobot_market_cache_requests_total", "result", "hit"),
		Misses:    delta("cryptobot_market_cache_requests_total", "result", "miss"),
		Coalesced: delta("cryptobot_market_cache_requests_total", "result", "coalesced"),
		Stale:     delta("cryptobot_market_stale_served_total"),
		Upstream:  map[string]int{},
	}
	for _, tr := range []string{"wait", "revalidate", "ahead"} {
		c.Upstream[tr] = delta("cryptobot_market_upstream_requests_total", "trigger", tr)
	}
	const bucket = "cryptobot_market_data_age_seconds_bucket"
	type cum struct {
		le float64
		n  int
	}
	var bs []cum
	for _, s := range after {
		if s.name == bucket {
			le, err := strconv.ParseFloat(s.labels["le"], 64)
			if err == nil {
				bs = append(bs, cum{le, delta(bucket, "le", s.labels["le"])})
			}
		}
	}
	slices.SortFunc(bs, func(a, b cum) int { return cmp.Compare(a.le, b.le) })
	if len(bs) > 0 && bs[len(bs)-1].n > 0 {
		for _, b := range bs {
			if float64(b.n) >= 0.99*float64(bs[len(bs)-1].n) {
				c.AgeP99S = b.le
				break
			}
		}
	}
	return c
}

// Burst is the measurement of -burst updates injected at once after the run.
type Burst struct {
	Sent       int         `json:"sent"`
	Answered   int         `json:"answered"`
	Lost       int         `json:"lost"`
	Duplicated int         `json:"duplicated"`
	LatencyMS  Percentiles `json:"latency_ms"`
}

// burstSpec injects n updates at the first injection tick.
func burstSpec(s loadSpec, n int) loadSpec {
	s.duration = injectEvery
	s.rate = float64(n) / injectEvery.Seconds()
	s.seed++
	return s
}

// venueEndpoints are the fakes' hit-counter names (httpjson's endpoint labels).
var venueEndpoints = []string{"ticker", "instruments", "open_interest", "oi_history", "funding", "funding_info", "candles"}

// venueHits sums each fake venue's hits over every endpoint.
func venueHits(v *markettest.Venues) map[string]int {
	out := map[string]int{}
	for name, s := range map[string]*markettest.Server{"binance": v.Binance.Server, "bybit": v.Bybit.Server, "okx": v.OKX.Server} {
		for _, e := range venueEndpoints {
			out[name] += s.Hits(e)
		}
	}
	return out
}

// Percentiles of reply latency in milliseconds.
type Percentiles struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// Passed reports whether every update, the burst's too, got exactly one reply.
func (r Result) Passed() bool {
	return r.Lost == 0 && r.Duplicated == 0 && (r.Burst == nil || (r.Burst.Lost == 0 && r.Burst.Duplicated == 0))
}

// percentiles uses the nearest-rank method on a copy of ds.
func percentiles(ds []time.Duration) Percentiles {
	if len(ds) == 0 {
		return Percentiles{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := func(p float64) float64 {
		i := int(math.Ceil(p/100*float64(len(s)))) - 1
		return ms(s[min(max(i, 0), len(s)-1)])
	}
	return Percentiles{P50: rank(50), P95: rank(95), P99: rank(99), Max: ms(s[len(s)-1])}
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e4) / 100 } // 2 decimals

// warm sends one /price per warm symbol, each from its own chat so no
// per-chat limit delays it, and waits (bounded) for every reply.
func warm(ctx context.Context, r *rig, timeout time.Duration) error {
	before := len(r.tg.Sent())
	for i, sym := range warmSymbols {
		chat := int64(warmChat + i)
		r.tg.SendText(chat, chat, "private", "/price "+sym)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if _, err := r.tg.WaitSent(ctx, before+len(warmSymbols)); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	return nil
}

// runLoad injects spec.total() updates open-loop (see inject) and reports
// the replies matched, the bot's CPU, memory and metric deltas over the run.
func runLoad(ctx context.Context, r *rig, spec loadSpec) (Result, error) {
	res := Result{TargetRate: spec.rate, Chats: spec.chats, LoadAvgStart: loadAvg()}
	if spec.mix.uses(kindPress) && len(r.press) == 0 {
		var err error
		if r.press, err = seedPress(ctx, r, spec.chats, 30*time.Second); err != nil {
			return res, err
		}
	}
	m := newMatcher()
	before, err := r.metrics(ctx)
	if err != nil {
		return res, err
	}
	cpu0, err := readCPUTimes(r.bot.pid)
	if err != nil {
		return res, err
	}
	hits0, hitsAt := venueHits(r.venues), time.Now()
	sctx, stopSampling := context.WithCancel(ctx)
	defer stopSampling()
	rss := sampleRSS(sctx, r.bot.pid, rssEvery)

	injected, err := inject(ctx, r, spec, m)
	if err != nil {
		return res, err
	}

	cpu1, err := readCPUTimes(r.bot.pid)
	if err != nil {
		return res, err
	}
	st, err := readStatus(r.bot.pid)
	if err != nil {
		return res, err
	}
	hits1, hitsSpan := venueHits(r.venues), time.Since(hitsAt)
	res.UpstreamPerS = map[string]float64{}
	for v, n := range hits1 {
		res.UpstreamPerS[v] = math.Round(float64(n-hits0[v])/hitsSpan.Seconds()*10) / 10
	}
	stopSampling()
	rs := <-rss
	after, err := r.metrics(ctx)
	if err != nil {
		return res, err
	}
	delta := func(name string, labels ...string) int {
		return int(after.value(name, labels...) - before.value(name, labels...))
	}
	// The last update is due one interval before the end of the schedule.
	span := injected + time.Duration(float64(time.Second)/spec.rate)
	res.DurationS = span.Seconds()
	res.AchievedRate = float64(m.sent) / span.Seconds()
	res.matched(m)
	res.PeakRSSBytes, res.MaxSampledRSS, res.RSSSamples = st.PeakRSS, max(rs.Max, st.RSS), rs.Samples
	res.CPUSeconds = (cpu1.bot - cpu0.bot).Seconds()
	res.RunQueueWaitS = (cpu1.wait - cpu0.wait).Seconds()
	res.LoadgenCPUSeconds = (cpu1.self - cpu0.self).Seconds()
	res.LateReplies = delta("cryptobot_replies_total", "outcome", "late")
	res.FailedReplies = delta("cryptobot_replies_total", "outcome", "failed")
	res.QueueFull = delta("cryptobot_updates_received_total", "outcome", "queue_full")
	res.Market = marketCounts(before, after)
	if spec.mix.uses(kindAlert) {
		res.Alerts = &AlertCounts{
			Created: delta("cryptobot_alerts_created_total"),
			Live:    int(after.value("cryptobot_alerts_live")),
		}
		if n, err := countAlerts(ctx, r); err == nil {
			res.Alerts.InStore = n
		} else {
			res.Alerts.StoreErr = err.Error()
		}
	}
	res.LoadAvgEnd = loadAvg()
	return res, nil
}

// inject sends the updates open-loop: a 5 ms ticker releases every update
// that is due by the schedule, whether or not earlier ones were answered,
// so a slow bot cannot slow the offered load. Replies are collected from the
// fake every 100 ms into m and matched by the fake's receive time. After the
// last injection it waits until everything is answered or spec.grace passes.
// It returns how long the injection took.
func inject(ctx context.Context, r *rig, spec loadSpec, m *matcher) (time.Duration, error) {
	rng := rand.New(rand.NewPCG(spec.seed, spec.seed^0x9e3779b97f4a7c15))
	offset := len(r.tg.Sent())
	inlineOff, answerOff := len(r.inlineAnswers()), len(r.tg.Answers())
	collect := func() {
		sent := r.tg.Sent()
		for _, msg := range sent[offset:] {
			if strings.HasPrefix(msg.Method, "edit") {
				m.edit(msgKey{msg.ChatID, msg.MessageID}, msg.Time)
				continue
			}
			m.reply(msg.ChatID, msg.Text, msg.Time)
		}
		offset = len(sent)
		ias := r.inlineAnswers()
		for _, a := range ias[inlineOff:] {
			m.answer(a.QueryID, a.Time)
		}
		inlineOff = len(ias)
		cas := r.tg.Answers()
		for _, a := range cas[answerOff:] {
			m.answer(a.QueryID, a.Time)
		}
		answerOff = len(cas)
	}
	total := spec.total()
	tick := time.NewTicker(injectEvery)
	defer tick.Stop()
	poll := time.NewTicker(collectEach)
	defer poll.Stop()
	start := time.Now()
	for m.sent < total {
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-r.bot.done:
			return 0, fmt.Errorf("bot exited during the run (%v); its log:\n%s", r.bot.waitErr, r.bot.tail.String())
		case <-poll.C:
			collect()
		case now := <-tick.C:
			due := min(total, int(now.Sub(start).Seconds()*spec.rate)+1)
			for m.sent < due {
				chat := int64(firstChat + rng.IntN(spec.chats))
				c := spec.mix.pick(rng)
				switch c.kind {
				case kindInline:
					at := time.Now()
					m.query(r.tg.Inline(chat, c.text, "private"), kindInline, at, msgKey{})
				case kindPress:
					t := r.press[rng.IntN(len(r.press))]
					at := time.Now()
					m.query(r.tg.Press(t.chat, t.chat, t.message, t.data), kindPress, at, msgKey{t.chat, t.message})
				default:
					m.request(chat, c.kind, time.Now())
					r.tg.SendText(chat, chat, "private", c.text)
				}
			}
		}
	}
	injected := time.Since(start)
	graceEnd := time.Now().Add(spec.grace)
	for collect(); m.waiting > 0 && time.Now().Before(graceEnd); collect() {
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-poll.C:
		}
	}
	// A duplicate would come after its original: give it a moment to show.
	if m.waiting == 0 {
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(settle):
		}
		collect()
	}
	return injected, nil
}

// matched records the matcher's counts and latencies.
func (res *Result) matched(m *matcher) {
	res.Sent, res.Answered, res.Lost = m.sent, m.answered, m.waiting
	res.Duplicated, res.Mismatched = m.duplicated, m.mismatched
	if len(m.examples) > 0 {
		res.MismatchExamples = m.examples
	}
	res.LatencyMS = percentiles(m.latencies)
	res.Categories = map[string]Category{}
	for k, ks := range m.byKind {
		c := Category{Sent: ks.sent, Answered: ks.answered, Lost: ks.sent - ks.answered, LatencyMS: percentiles(ks.latencies)}
		if k == kindPress {
			c.Edits = len(m.edits)
			e := percentiles(m.edits)
			c.EditLatencyMS = &e
		}
		res.Categories[k] = c
	}
	if m.answered > 0 {
		res.ThroughputPerS = float64(m.answered) / m.last.Sub(m.first).Seconds()
	}
}

// cpuTimes are the counters read before and after a run: the bot's CPU
// time and run-queue wait, and this process's own CPU time.
type cpuTimes struct{ bot, wait, self time.Duration }

func readCPUTimes(pid int) (cpuTimes, error) {
	var c cpuTimes
	var err error
	if c.bot, err = readCPU(pid); err != nil {
		return c, err
	}
	if c.wait, err = readRunQueueWait(pid); err != nil {
		return c, err
	}
	c.self, err = readCPU(os.Getpid())
	return c, err
}
