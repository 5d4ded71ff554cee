package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// botBin is the bot built once for the end-to-end tests; empty in -short mode.
var botBin string

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(func() int {
		if testing.Short() {
			return m.Run()
		}
		dir, err := os.MkdirTemp("", "loadgen-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		botBin = filepath.Join(dir, "cryptobot")
		cmd := exec.Command("go", "build", "-o", botBin, "../server")
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "building the bot: %v\n%s", err, out)
			return 1
		}
		return m.Run()
	}())
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		check   func(t *testing.T, c config)
		wantErr string
	}{
		{"defaults", nil, func(t *testing.T, c config) {
			if c.rig.mode != "webhook" || c.load.rate != 100 || c.load.duration != 30*time.Second || c.load.chats != 1000 ||
				c.load.grace != 10*time.Second || !c.rig.enhanced || c.rig.limits != raisedLimits {
				t.Errorf("unexpected defaults: %+v", c)
			}
		}, ""},
		{"real limits", []string{"-telegram-limits", "real"}, func(t *testing.T, c config) {
			if c.rig.limits != (limits{Global: 30, PerChat: 1, PerGroup: 20}) {
				t.Errorf("limits %+v", c.rig.limits)
			}
		}, ""},
		{"explicit limit wins over the preset", []string{"-telegram-limits", "real", "-rate-global", "45"}, func(t *testing.T, c config) {
			if c.rig.limits != (limits{Global: 45, PerChat: 1, PerGroup: 20}) {
				t.Errorf("limits %+v", c.rig.limits)
			}
		}, ""},
		{"soak defaults to 50/s for its length", []string{"-soak", "10m"}, func(t *testing.T, c config) {
			if c.load.rate != 50 || c.load.duration != 10*time.Minute {
				t.Errorf("rate %g duration %s", c.load.rate, c.load.duration)
			}
		}, ""},
		{"soak keeps an explicit rate", []string{"-soak", "2m", "-rate", "80"}, func(t *testing.T, c config) {
			if c.load.rate != 80 {
				t.Errorf("rate %g", c.load.rate)
			}
		}, ""},
		{"find-max steps last 15 s", []string{"-find-max"}, func(t *testing.T, c config) {
			if c.load.duration != 15*time.Second {
				t.Errorf("duration %s", c.load.duration)
			}
		}, ""},
		{"find-max keeps an explicit duration", []string{"-find-max", "-duration", "5s"}, func(t *testing.T, c config) {
			if c.load.duration != 5*time.Second {
				t.Errorf("duration %s", c.load.duration)
			}
		}, ""},
		{"bot env", []string{"-bot-env", "CRYPTOBOT_WORKERS=16", "-bot-env", "GOGC=50"}, func(t *testing.T, c config) {
			if !slices.Equal(c.rig.extraEnv, []string{"CRYPTOBOT_WORKERS=16", "GOGC=50"}) {
				t.Errorf("env %v", c.rig.extraEnv)
			}
		}, ""},
		{"burst", []string{"-burst", "500", "-exchange-latency", "150ms"}, func(t *testing.T, c config) {
			if c.burst != 500 || c.rig.exchangeLatency != 150*time.Millisecond {
				t.Errorf("burst %d latency %s", c.burst, c.rig.exchangeLatency)
			}
		}, ""},
		{"negative burst", []string{"-burst", "-1"}, nil, "must not be negative"},
		{"bad mode", []string{"-mode", "carrier-pigeon"}, nil, "-mode must be webhook or polling"},
		{"bad limits", []string{"-telegram-limits", "fast"}, nil, "-telegram-limits must be raised or real"},
		{"zero rate", []string{"-rate", "0"}, nil, "-rate must be in"},
		{"no chats", []string{"-chats", "0"}, nil, "-chats must be in"},
		{"negative grace", []string{"-grace", "-1s"}, nil, "must not be negative"},
		{"bad mix", []string{"-mix", "price=x"}, nil, "non-negative integer"},
		{"bad bot env", []string{"-bot-env", "novalue"}, nil, "want KEY=VALUE"},
		{"find-max and soak", []string{"-find-max", "-soak", "1m"}, nil, "exclusive"},
		{"soak too short", []string{"-soak", "20s"}, nil, "too short"},
		{"stray argument", []string{"extra"}, nil, "unexpected arguments: extra"},
		{"bad find range", []string{"-find-max", "-find-start", "500", "-find-limit", "100"}, nil, "-find-limit at least -find-start"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseFlags(tt.args, io.Discard)
			if errorCase(t, err, tt.wantErr) {
				return
			}
			tt.check(t, c)
		})
	}
}

// errorCase checks err against want, a part of the error text the case
// expects ("" for none), and reports whether the case expected an error, so
// the caller stops there.
func errorCase(t *testing.T, err error, want string) bool {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatal(err)
		}
		return false
	}
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want one containing %q", err, want)
	}
	return true
}

func TestUsage(t *testing.T) {
	var stderr bytes.Buffer
	if code := run(t.Context(), []string{"-h"}, io.Discard, &stderr); code != 0 {
		t.Errorf("-h exited %d", code)
	}
	for _, want := range []string{"-soak 10m", "-find-max", "Exit status", "-telegram-limits"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("usage lacks %q", want)
		}
	}
	if code := run(t.Context(), []string{"-rate", "-5"}, io.Discard, io.Discard); code != 2 {
		t.Errorf("bad flags exited %d, want 2", code)
	}
}

func TestBotEnv(t *testing.T) {
	base := []string{"PATH=/bin", "HOME=/h", "CRYPTOBOT_TELEGRAM__TOKEN=leak", "TELEGRAM_BOT_TOKEN=leak", "GOMEMLIMIT=1GiB", "GOGC=off"}
	got := botEnv(base, map[string]string{"CRYPTOBOT_LOG_LEVEL": "warn", "HOME": "/tmp"}, []string{"CRYPTOBOT_LOG_LEVEL=debug", "X=a=b"})
	want := []string{"CRYPTOBOT_LOG_LEVEL=debug", "HOME=/tmp", "PATH=/bin", "X=a=b"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestTailBuffer(t *testing.T) {
	tb := &tailBuffer{max: 8}
	for _, s := range []string{"abc", "defgh", "ijk"} {
		if n, err := tb.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if got := tb.String(); got != "defghijk" {
		t.Errorf("got %q, want the last 8 bytes", got)
	}
}

// TestSmoke runs the real bot against the fakes: 20 updates/s for 2 s over
// 50 chats, in both intake modes, and expects every update answered once,
// with the reply its command calls for (so the enhanced flags were on).
func TestSmoke(t *testing.T) {
	if botBin == "" {
		t.Skip("-short: no bot binary")
	}
	for _, mode := range []string{"webhook", "polling"} {
		t.Run(mode, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "result.json")
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), []string{"-bot", botBin, "-mode", mode, "-rate", "20", "-duration", "2s",
				"-chats", "50", "-warm", "-json", out}, &stdout, &stderr)
			if code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
			}
			var r Result
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &r); err != nil {
				t.Fatal(err)
			}
			if r.Sent != 40 || r.Answered != 40 || r.Lost != 0 || r.Duplicated != 0 || r.Mismatched != 0 {
				t.Errorf("sent %d answered %d lost %d duplicated %d mismatched %d; want 40 40 0 0 0",
					r.Sent, r.Answered, r.Lost, r.Duplicated, r.Mismatched)
			}
			if r.Mode != mode || r.PeakRSSBytes <= 0 || r.CPUSeconds <= 0 || r.LatencyMS.Max <= 0 {
				t.Errorf("incomplete result: %+v", r)
			}
			if !strings.HasSuffix(strings.TrimSpace(stdout.String()), "verdict      PASS") {
				t.Errorf("report lacks the verdict:\n%s", stdout.String())
			}
		})
	}
}

// TestSmokeLost checks the CI contract: a reply that misses the grace
// period is lost and the exit status is 1. One update, a cold cache, venues
// 300 ms slow and no grace: the reply cannot be in when the run ends.
func TestSmokeLost(t *testing.T) {
	if botBin == "" {
		t.Skip("-short: no bot binary")
	}
	out := filepath.Join(t.TempDir(), "result.json")
	var stdout bytes.Buffer
	code := run(t.Context(), []string{"-bot", botBin, "-rate", "1", "-duration", "1s", "-chats", "1",
		"-mix", "price=1", "-exchange-latency", "300ms", "-grace", "0s", "-json", out}, &stdout, io.Discard)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, stdout.String())
	}
	var r Result
	b, _ := os.ReadFile(out)
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if r.Sent != 1 || r.Lost != 1 || r.Answered != 0 {
		t.Errorf("sent %d lost %d answered %d; want 1 1 0", r.Sent, r.Lost, r.Answered)
	}
}
