// Command fakes runs a fake Telegram Bot API and fake Binance, Bybit and OKX
// servers on 127.0.0.1, for trying the bot, the load tool and the container
// test without touching the real services. It writes the environment the bot
// needs to reach them (-env-file) and runs until SIGINT or SIGTERM.
//
// Drive the fake Telegram with its control API, for example:
//
//	curl -d '{"chat_id":1,"user_id":1,"chat_type":"private","text":"/price btc"}' $FAKE_TELEGRAM_URL/control/messages
//	curl "$FAKE_TELEGRAM_URL/control/sent?wait=1&timeout=5s"
//
// Steer the fake venues with theirs (see markettest.Venues.Control), for
// example a Binance quoting BTC at 0, or every venue answering in 150 ms:
//
//	curl -X POST "$FAKE_EXCHANGES_CONTROL_URL/last?venue=binance&pair=BTC-USDT&value=0"
//	curl -X POST "$FAKE_EXCHANGES_CONTROL_URL/latency?d=150ms"
//	curl -X POST "$FAKE_EXCHANGES_CONTROL_URL/reset"
//
// The venues answer in their real shapes, spot and perpetual alike, for
// example the perpetual tickers inline answers and /price BTC-PERP read:
//
//	curl "$CRYPTOBOT_EXCHANGES__BINANCE__FUTURES_URL/fapi/v1/ticker/24hr?symbol=BTCUSDT"
//	curl "$CRYPTOBOT_EXCHANGES__BYBIT__URL/v5/market/tickers?category=linear&symbol=BTCUSDT"
//	curl "$CRYPTOBOT_EXCHANGES__OKX__URL/api/v5/market/ticker?instId=BTC-USDT-SWAP"
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market/markettest"
	"github.com/cryptobot-dev/cryptobot/internal/telegram/telegramtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "fakes:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fakes", flag.ContinueOnError)
	fs.SetOutput(stderr)
	envFile := fs.String("env-file", "", "write KEY=VALUE lines for the bot to this file")
	tgAddr := fs.String("telegram", "127.0.0.1:0", "listen address of the fake Bot API")
	latency := fs.Duration("exchange-latency", 0, "delay every exchange response by this much")
	ctlAddr := fs.String("exchange-control", "127.0.0.1:0", "listen address of the fake venues' control API")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tg, err := telegramtest.Start(telegramtest.Options{Addr: *tgAddr, Log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return err
	}
	defer tg.Close()
	book := markettest.DefaultBook()
	book.Now = time.Now // live timestamps, so the bot sees fresh data and closed candles
	venues := markettest.StartBook(book)
	defer venues.Close()
	if *latency > 0 {
		venues.Binance.Delay(*latency)
		venues.Bybit.Delay(*latency)
		venues.OKX.Delay(*latency)
	}
	ln, err := net.Listen("tcp", *ctlAddr)
	if err != nil {
		return err
	}
	ctl := &http.Server{Handler: venues.Control(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = ctl.Serve(ln) }() // ErrServerClosed once Close runs
	defer ctl.Close()
	env := strings.Join([]string{
		"TELEGRAM_BOT_TOKEN=" + tg.Token(),
		"CRYPTOBOT_TELEGRAM__API_URL=" + tg.URL(),
		"CRYPTOBOT_EXCHANGES__BINANCE__SPOT_URL=" + venues.Binance.URL(),
		"CRYPTOBOT_EXCHANGES__BINANCE__FUTURES_URL=" + venues.Binance.URL(),
		"CRYPTOBOT_EXCHANGES__BYBIT__URL=" + venues.Bybit.URL(),
		"CRYPTOBOT_EXCHANGES__OKX__URL=" + venues.OKX.URL(),
		"FAKE_TELEGRAM_URL=" + tg.URL(),
		"FAKE_EXCHANGES_CONTROL_URL=http://" + ln.Addr().String(),
	}, "\n") + "\n"
	if *envFile != "" {
		if err := os.WriteFile(*envFile, []byte(env), 0o600); err != nil {
			return err
		}
	}
	fmt.Fprint(stdout, env)
	<-ctx.Done()
	return nil
}
