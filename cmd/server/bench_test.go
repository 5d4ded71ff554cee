package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cryptobot-dev/cryptobot/internal/config"
	"github.com/cryptobot-dev/cryptobot/internal/market/markettest"
	"github.com/cryptobot-dev/cryptobot/modules"
)

// benchApp builds the real wiring against fake venues, warms the cache with
// one /price, and returns the router's handler.
func benchApp(b *testing.B, env string) (*app, func(modules.Request) modules.Reply, func()) {
	book := markettest.DefaultBook()
	book.Now = time.Now
	venues := markettest.StartBook(book)
	cfg, err := config.Load("", false, []string{
		"CRYPTOBOT_TELEGRAM__MODE=console", "CRYPTOBOT_ENV=" + env, "CRYPTOBOT_FLAGS__DIR=../../flags",
		"CRYPTOBOT_MEMORY__LIMIT=512MiB", "CRYPTOBOT_CACHE__TTL=1h",
		"CRYPTOBOT_EXCHANGES__BINANCE__SPOT_URL=" + venues.Binance.URL(),
		"CRYPTOBOT_EXCHANGES__BINANCE__FUTURES_URL=" + venues.Binance.URL(),
		"CRYPTOBOT_EXCHANGES__BYBIT__URL=" + venues.Bybit.URL(),
		"CRYPTOBOT_EXCHANGES__OKX__URL=" + venues.OKX.URL(),
	})
	if err != nil {
		b.Fatal(err)
	}
	a := &app{cfg: cfg, log: slog.New(slog.NewTextHandler(io.Discard, nil)), metrics: newTestMetrics(), started: time.Now()}
	ctx, cancel := context.WithCancel(context.Background())
	if err := a.build(ctx, modules.Registered()); err != nil {
		b.Fatal(err)
	}
	if err := a.market.Warm(ctx); err != nil {
		b.Fatal(err)
	}
	handle := func(req modules.Request) modules.Reply {
		req.Received = time.Now()
		return a.router.Handle(ctx, req)
	}
	if got := handle(modules.Request{ChatID: 1, Command: "price", Args: []string{"btc"}}); !strings.Contains(got.Text, "BTC-USDT") {
		b.Fatalf("warm-up reply %q", got.Text)
	}
	return a, handle, func() { _ = a.gate.Close(ctx); cancel(); venues.Close() }
}

// BenchmarkPriceWarmCache is the CPU one /price costs the bot once the ticker
// is cached: routing, flag gating for the sections, formatting. Run with
// -cpu 1 so ns/op reads as CPU time per update.
func BenchmarkPriceWarmCache(b *testing.B) {
	for _, env := range []string{"production", "staging"} { // sections off / all three on
		b.Run(env, func(b *testing.B) {
			_, handle, done := benchApp(b, env)
			defer done()
			req := modules.Request{ChatID: 42, ChatType: "private", Command: "price", Args: []string{"btc"}}
			b.ReportAllocs()
			for b.Loop() {
				if r := handle(req); r.Text == "" {
					b.Fatal("empty reply")
				}
			}
		})
	}
}

// BenchmarkScrape is one /metrics scrape of the fully wired bot (every known
// series created, all three enhanced modules loaded).
func BenchmarkScrape(b *testing.B) {
	a, handle, done := benchApp(b, "staging")
	defer done()
	handle(modules.Request{ChatID: 1, Command: "oi", Args: []string{"btc"}})
	h := promhttp.HandlerFor(a.metrics.Registry, promhttp.HandlerOpts{})
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}
