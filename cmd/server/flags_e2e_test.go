package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/config"
	"github.com/cryptobot-dev/cryptobot/modules"
)

// oiFlag renders the open-interest flag file with the given state, allow-list
// and fallback rule ("off", or a fractional rule).
func oiFlag(state, allow, fallback string) string {
	return flagFile("open-interest", state, allow, fallback)
}

func flagFile(key, state, allow, fallback string) string {
	return fmt.Sprintf(`flags:
  %s:
    state: %s
    variants: { "on": true, "off": false }
    defaultVariant: "off"
    targeting:
      if:
        - { in: [ { var: targetingKey }, [%s] ] }
        - "on"
        - %s
`, key, state, allow, fallback)
}

// replaceFile replaces path the way operators are told to: temp file, rename.
func replaceFile(t *testing.T, path, body string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestFlagEditTakesEffectLive(t *testing.T) {
	b := startBot(t, "polling")
	const chat = 777
	if got := b.ask(chat, "/oi btc"); !strings.Contains(got, "not available") {
		t.Fatalf("/oi before the flag is on: %q", got)
	}
	if got := b.ask(chat, "/price btc"); strings.Contains(got, "OI $") {
		t.Fatalf("/price shows the OI section before the flag is on:\n%s", got)
	}

	file := filepath.Join(b.flagsDir, "open-interest.yaml")
	replaceFile(t, file, oiFlag("ENABLED", `"777"`, `"off"`))
	edited := time.Now()
	eventually(t, "/oi on after the edit", func() bool {
		return strings.Contains(b.ask(chat, "/oi btc"), "open interest")
	})
	t.Logf("/oi answered %s after the edit", time.Since(edited).Round(time.Millisecond))
	if got := b.ask(chat, "/price btc"); !strings.Contains(got, "OI $") {
		t.Errorf("/price lacks the OI section once on:\n%s", got)
	}
	if got := b.ask(778, "/oi btc"); !strings.Contains(got, "not available") {
		t.Errorf("a chat outside the allow-list got /oi: %q", got)
	}

	t.Run("broken file changes nothing", func(t *testing.T) {
		replaceFile(t, file, "flags: {open-interest: {state: ENABLED, variants: {")
		eventually(t, "rejection visible in metrics", func() bool {
			return strings.HasSuffix(b.metric("cryptobot_flag_config_valid"), " 0")
		})
		if got := b.ask(chat, "/oi btc"); !strings.Contains(got, "open interest") {
			t.Errorf("last good set not kept: %q", got)
		}
		resp := b.get("/readyz")
		if resp.code != 200 || !strings.Contains(resp.body, `"degraded"`) || !strings.Contains(resp.body, "invalid") {
			t.Errorf("/readyz with a broken flag file: %d %s", resp.code, resp.body)
		}
	})

	t.Run("DISABLED kills it everywhere", func(t *testing.T) {
		replaceFile(t, file, oiFlag("DISABLED", `"777"`, `"on"`))
		eventually(t, "/oi off after DISABLED", func() bool {
			return strings.Contains(b.ask(chat, "/oi btc"), "not available")
		})
		if got := b.ask(chat, "/price btc"); strings.Contains(got, "OI $") {
			t.Errorf("/price still has the OI section:\n%s", got)
		}
		if !strings.HasSuffix(b.metric("cryptobot_flag_config_valid"), " 1") {
			t.Error("valid file not reported valid again")
		}
	})
}

type httpResult struct {
	code int
	body string
}

func (b *bot) get(path string) httpResult {
	b.t.Helper()
	resp, err := httpGet("http://" + b.addr + path)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp
}

// TestFractionalRolloutStableAcrossRestarts builds the bot's real wiring twice
// (a restart) over one 25 % rollout and asks each which of 10,000 chats may use /oi.
func TestFractionalRolloutStableAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	replaceFile(t, filepath.Join(dir, "open-interest.yaml"), oiFlag("ENABLED", `"0"`, `{ fractional: [ ["on", 25], ["off", 75] ] }`))
	cohort := func() map[int64]bool {
		cfg, err := config.Load("", false, []string{"CRYPTOBOT_TELEGRAM__MODE=console", "CRYPTOBOT_FLAGS__DIR=" + dir, "CRYPTOBOT_MEMORY__LIMIT=512MiB"})
		if err != nil {
			t.Fatal(err)
		}
		a := &app{cfg: cfg, log: slog.New(slog.NewTextHandler(io.Discard, nil)), metrics: newTestMetrics(), started: time.Now()}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		if err := a.build(ctx, modules.Registered()); err != nil {
			t.Fatal(err)
		}
		defer a.gate.Close(ctx)
		on := map[int64]bool{}
		for id := int64(100_000_000); id < 100_010_000; id++ {
			for _, c := range a.router.Available(ctx, modules.Request{ChatID: id}) {
				if c.Name == "oi" {
					on[id] = true
				}
			}
		}
		return on
	}
	first, second := cohort(), cohort()
	pct := float64(len(first)) / 100
	if pct < 23 || pct > 27 {
		t.Errorf("25 %% rollout enabled %.2f %% of 10,000 chats", pct)
	}
	if len(first) != len(second) {
		t.Fatalf("restart changed the cohort size: %d then %d", len(first), len(second))
	}
	for id := range first {
		if !second[id] {
			t.Fatalf("chat %d lost the feature across a restart", id)
		}
	}
	t.Logf("25 %% rollout: %d of 10,000 chats (%.2f %%), identical after restart", len(first), pct)
}
