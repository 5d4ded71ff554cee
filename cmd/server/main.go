// Command server runs the cryptobot: Telegram in polling, webhook or console
// mode, with the modules compiled in below and flags read live from flags/.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/cryptobot-dev/cryptobot/internal/config"
	"github.com/cryptobot-dev/cryptobot/modules"

	_ "github.com/cryptobot-dev/cryptobot/modules/enhanced" // behind flags and the memory budget; core is built in serve
)

// Stamped at build time with -ldflags "-X main.version=… -X main.commit=…".
var (
	version = "dev"
	commit  = "none"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1
	exitConfig = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, modules.Registered(), os.Args[1:], os.Environ(), os.Stdin, os.Stdout, os.Stderr))
}

// run is the whole program over the given feature modules (main passes the
// registry; the core modules are added by serve), so tests can start it with
// their own modules, arguments, environment and streams, and stop it by
// cancelling ctx. opts are for tests only.
func run(ctx context.Context, mods []modules.Info, args, environ []string, stdin io.Reader, stdout, stderr io.Writer, opts ...option) int {
	if len(args) > 0 {
		switch args[0] {
		case "healthcheck":
			return healthcheck(ctx, args[1:], environ, stderr)
		case "version":
			fmt.Fprintf(stdout, "cryptobot %s (%s)\n", version, commit)
			return exitOK
		}
	}
	fs := flag.NewFlagSet("cryptobot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "YAML configuration file (default config.yaml when it exists)")
	console := fs.Bool("console", false, "read commands from standard input and print replies (no Telegram)")
	if err := fs.Parse(args); err != nil {
		return exitConfig
	}
	cfg, err := loadConfig(*cfgPath, environ)
	if err == nil && *console {
		cfg.Telegram.Mode = config.ModeConsole
	}
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		fmt.Fprintln(stderr, redact(err.Error(), cfg.Telegram.Token))
		return exitConfig
	}
	log := newLogger(stderr, cfg)
	if err := serve(ctx, cfg, log, mods, stdin, stdout, opts...); err != nil {
		log.Error("stopped", "err", err)
		if _, ok := errors.AsType[*config.Error](err); ok {
			return exitConfig
		}
		return exitFailed
	}
	return exitOK
}

func loadConfig(path string, environ []string) (config.Config, error) {
	if path != "" {
		return config.Load(path, true, environ)
	}
	return config.Load("config.yaml", false, environ)
}

// newLogger writes JSON through a filter that scrubs the bot token from every
// message and attribute, so a library error that prints its URL cannot leak it.
func newLogger(w io.Writer, cfg config.Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel)) // validated already
	if cfg.Telegram.Mode == config.ModeConsole && level < slog.LevelWarn {
		level = slog.LevelWarn // keep the console readable
	}
	token := cfg.Telegram.Token
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if token == "" {
			return a
		}
		switch v := a.Value.Any().(type) {
		case string:
			if strings.Contains(v, token) {
				a.Value = slog.StringValue(redact(v, token))
			}
		case error:
			a.Value = slog.StringValue(redact(v.Error(), token))
		case fmt.Stringer:
			if s := v.String(); strings.Contains(s, token) {
				a.Value = slog.StringValue(redact(s, token))
			}
		}
		return a
	}}
	return slog.New(slog.NewJSONHandler(w, opts)).With("service", "cryptobot")
}

func redact(s, token string) string {
	if token == "" {
		return s
	}
	return strings.ReplaceAll(s, token, "<redacted>")
}
