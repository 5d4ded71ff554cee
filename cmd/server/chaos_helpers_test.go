package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// waitFor is the failure deadline of every wait in the chaos suite: how long
// the test gives up after, never a speed target.
const waitFor = 30 * time.Second

// replyDeadline is the bot's promise: a reply within 5 s of intake.
const replyDeadline = 5 * time.Second

// waitWarm waits until every venue's spot and perp instrument lists have
// been fetched, so failover order is the configured one and injected faults
// hit market calls rather than the start-up list loads.
func (b *bot) waitWarm() {
	b.t.Helper()
	for _, venue := range []string{"binance", "bybit", "okx"} {
		series := `cryptobot_exchange_requests_total{endpoint="instruments",outcome="ok",venue="` + venue + `"}`
		eventually(b.t, venue+" spot and perp lists loaded", func() bool { return b.value(series) >= 2 })
	}
}

// value returns the sample value of the one series named exactly series
// (name plus labels as exposed), or 0 when it is not exposed yet.
func (b *bot) value(series string) float64 {
	b.t.Helper()
	line := b.metric(series + " ")
	if line == "" {
		return 0
	}
	if strings.Contains(line, "\n") {
		b.t.Fatalf("series %s is ambiguous:\n%s", series, line)
	}
	v, err := strconv.ParseFloat(line[len(series)+1:], 64)
	if err != nil {
		b.t.Fatalf("series %s: %v", series, err)
	}
	return v
}

// waitValue polls series until it reads want.
func (b *bot) waitValue(series string, want float64) {
	b.t.Helper()
	eventually(b.t, fmt.Sprintf("%s = %v", series, want), func() bool { return b.value(series) == want })
}

// waitAnswered waits until every chat in want has at least its count of
// replies and the pipeline has settled (so a duplicate would have shown),
// then returns the replies per chat.
func (b *bot) waitAnswered(want map[int64]int) map[int64][]string {
	b.t.Helper()
	eventually(b.t, "every chat answered", func() bool {
		got := b.repliesByChat()
		for chat, n := range want {
			if len(got[chat]) < n {
				return false
			}
		}
		return true
	})
	b.waitSettled()
	return b.repliesByChat()
}

func (b *bot) repliesByChat() map[int64][]string {
	out := map[int64][]string{}
	for _, m := range b.tg.Sent() {
		out[m.ChatID] = append(out[m.ChatID], m.Text)
	}
	return out
}

// checkOnce fails for every chat in want whose reply count differs.
func checkOnce(t *testing.T, got map[int64][]string, want map[int64]int) {
	t.Helper()
	for chat, n := range want {
		if len(got[chat]) != n {
			t.Errorf("chat %d got %d replies, want %d: %q", chat, len(got[chat]), n, got[chat])
		}
	}
}

// postResult is one raw webhook delivery's answer.
type postResult struct {
	status     int
	retryAfter string
}

// postRaw delivers body to the webhook like bot.post, but returns transport
// errors instead of failing the test, so goroutines may call it.
func postRaw(ctx context.Context, addr, secret string, body []byte) (postResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/webhook", bytes.NewReader(body))
	if err != nil {
		return postResult{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return postResult{}, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return postResult{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}, nil
}

// slowProxy forwards to a venue fake; while slow is set it sends the status
// and headers at once, then dribbles the body a byte at a time, the way a
// congested link or a stalled upstream looks to the client.
type slowProxy struct {
	srv  *httptest.Server
	slow atomic.Bool
}

func newSlowProxy(t *testing.T, upstream string) *slowProxy {
	t.Helper()
	p := &slowProxy{}
	target, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ErrorLog = log.New(io.Discard, "", 0) // the bot hanging up mid-body is the point
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !p.slow.Load() {
			rp.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		rp.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		rc := http.NewResponseController(w)
		_ = rc.Flush()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for _, c := range rec.Body.Bytes() {
			select {
			case <-r.Context().Done():
				return
			case <-tick.C:
			}
			if _, err := w.Write([]byte{c}); err != nil {
				return
			}
			_ = rc.Flush()
		}
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// writeAtomic replaces dir/name the way operators are told to: write a
// hidden temporary file, then rename it over the old one.
func writeAtomic(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}
