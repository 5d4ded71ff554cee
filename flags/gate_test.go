package flags

import (
	"context"
	"testing"

	of "github.com/open-feature/go-sdk/openfeature"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cryptobot-dev/cryptobot/internal/metrics"
	"github.com/cryptobot-dev/cryptobot/modules"
)

func TestGate(t *testing.T) {
	dir := flagDir(t, map[string]string{"flags.yaml": evalFlags})
	p, m := newTestProvider(t, dir)
	ctx := context.Background()
	g, err := NewGate(ctx, p, m, "production")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := g.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	tests := []struct {
		name        string
		flag        string
		env         string
		req         modules.Request
		wantOn      bool
		wantVariant string
		wantReason  string
		wantErr     bool
	}{
		{"staging is on", "staging-only", "staging", modules.Request{ChatID: 7}, true, "on", "TARGETING_MATCH", false},
		{"allow-listed chat is on", "staging-only", "production", modules.Request{ChatID: -1001234567890, UserID: 5, ChatType: "supergroup"}, true, "on", "TARGETING_MATCH", false},
		{"other chats are off", "staging-only", "production", modules.Request{ChatID: 7}, false, "off", "DEFAULT", false},
		{"static", "static-on", "production", modules.Request{ChatID: 7}, true, "on", "STATIC", false},
		{"kill switch", "killed", "production", modules.Request{ChatID: 42}, false, "", "DISABLED", false},
		{"chat type and language reach targeting", "no-default-targeted", "production", modules.Request{ChatID: 1, ChatType: "private", Lang: "de"}, true, "on", "TARGETING_MATCH", false},
		{"missing flag reads as off", "nope", "production", modules.Request{ChatID: 7}, false, "", "ERROR", true},
		{"type mismatch reads as off", "color", "production", modules.Request{ChatID: 7}, false, "", "ERROR", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g.env = tt.env
			r := g.Explain(ctx, tt.flag, tt.req)
			if r.On != tt.wantOn || r.Variant != tt.wantVariant || r.Reason != tt.wantReason || (r.Err != nil) != tt.wantErr {
				t.Errorf("Explain = %+v, want on=%v variant=%q reason=%s err=%v", r, tt.wantOn, tt.wantVariant, tt.wantReason, tt.wantErr)
			}
		})
	}
	t.Run("metrics by flag, variant and reason", func(t *testing.T) {
		checks := []struct {
			flag, variant, reason string
			want                  float64
		}{
			{"staging-only", "on", "TARGETING_MATCH", 2},
			{"staging-only", "off", "DEFAULT", 1},
			{"killed", "", "DISABLED", 1},
			{"static-on", "on", "STATIC", 1},
			{"nope", "", "ERROR", 1},
		}
		for _, c := range checks {
			if got := testutil.ToFloat64(m.FlagEvaluations.WithLabelValues(c.flag, c.variant, c.reason)); got != c.want {
				t.Errorf("evaluations{%s,%s,%s} = %v, want %v", c.flag, c.variant, c.reason, got, c.want)
			}
		}
	})
	t.Run("the static fast path answers as the SDK does", func(t *testing.T) {
		for _, flag := range []string{"static-on", "killed"} {
			r, ok := p.StaticBoolean(flag)
			if !ok {
				t.Fatalf("%s: not on the fast path", flag)
			}
			d, _ := g.client.BooleanValueDetails(ctx, flag, false, of.NewEvaluationContext("7", nil))
			if r.Value != d.Value || r.Variant != d.Variant || r.Reason != d.Reason {
				t.Errorf("%s: fast path %+v, SDK %+v", flag, r, d)
			}
		}
		for _, flag := range []string{"staging-only", "nope", "color"} {
			if _, ok := p.StaticBoolean(flag); ok {
				t.Errorf("%s took the fast path", flag)
			}
		}
	})
}

// TestGateWithoutValidFlags: the gate builds, reads everything as off, and
// turns on once a valid set loads (PROVIDER_READY clears the ERROR state).
func TestGateWithoutValidFlags(t *testing.T) {
	dir := flagDir(t, map[string]string{"a.yaml": "flags: {}\n"})
	p, m := newTestProvider(t, dir)
	ctx := context.Background()
	g, err := NewGate(ctx, p, m, "production")
	if err != nil {
		t.Fatalf("NewGate: %v", err)
	}
	defer g.Close(ctx)
	if r := g.Explain(ctx, "f", modules.Request{ChatID: 1}); r.On || r.Err == nil {
		t.Errorf("without flags: %+v, want off with an error", r)
	}
	writeFiles(t, dir, map[string]string{"a.yaml": v2})
	p.reload(ctx)
	if r := g.Explain(ctx, "f", modules.Request{ChatID: 1}); !r.On || r.Err != nil {
		t.Errorf("after a valid load: %+v, want on", r)
	}
}

func TestGateLifecycle(t *testing.T) {
	dir := flagDir(t, map[string]string{"a.yaml": base})
	p, m := newTestProvider(t, dir)
	ctx := context.Background()
	t.Run("nil arguments", func(t *testing.T) {
		if _, err := NewGate(ctx, nil, m, "production"); err == nil {
			t.Error("nil provider: want an error")
		}
		if _, err := NewGate(ctx, p, nil, "production"); err == nil {
			t.Error("nil metrics: want an error")
		}
	})
	g1, err := NewGate(ctx, p, m, "production")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("one gate per provider", func(t *testing.T) {
		if _, err := NewGate(ctx, p, metrics.New("test", "test"), "production"); err == nil {
			t.Error("a second gate on a bound provider: want an error")
		}
	})
	if err := g1.Close(ctx); err != nil {
		t.Fatal(err)
	}
	t.Run("rebind after close", func(t *testing.T) {
		g2, err := NewGate(ctx, p, m, "production")
		if err != nil {
			t.Fatalf("NewGate after Close: %v", err)
		}
		if r := g2.Explain(ctx, "f", modules.Request{ChatID: 1}); r.Reason != "STATIC" {
			t.Errorf("Evaluate = %+v", r)
		}
		if err := g2.Close(ctx); err != nil {
			t.Error(err)
		}
	})
}
