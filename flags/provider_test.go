package flags

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	of "github.com/open-feature/go-sdk/openfeature"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cryptobot-dev/cryptobot/internal/metrics"
)

const evalFlags = `$schema: https://flagd.dev/schema/v0/flags.json
flags:
  static-on:
    state: ENABLED
    variants: { "on": true, "off": false }
    defaultVariant: "on"
    metadata: { owner: core }
  killed:
    state: DISABLED
    variants: { "on": true, "off": false }
    defaultVariant: "on"
  staging-only:
    state: ENABLED
    variants: { "on": true, "off": false }
    defaultVariant: "off"
    targeting:
      if:
        - or:
            - { "==": [{ var: environment }, "staging"] }
            - $ref: admins
        - "on"
        - null
  no-default:
    state: ENABLED
    variants: { "on": true, "off": false }
  no-default-targeted:
    state: ENABLED
    variants: { "on": true, "off": false }
    targeting: { if: [{ "==": [{ var: chatType }, "private"] }, "on"] }
  dynamic:
    state: ENABLED
    variants: { "on": true, "off": false }
    defaultVariant: "off"
    targeting: { var: chatType }
  color:
    state: ENABLED
    variants: { red: "#f00", blue: "#00f" }
    defaultVariant: red
    targeting: { if: [{ "==": [{ var: languageCode }, "de"] }, blue] }
  limit:
    state: ENABLED
    variants: { low: 5, high: 50 }
    defaultVariant: high
  ratio:
    state: ENABLED
    variants: { half: 0.5 }
    defaultVariant: half
  layout:
    state: ENABLED
    variants: { compact: { rows: 3 } }
    defaultVariant: compact
$evaluators:
  admins: { in: [{ var: targetingKey }, ["42", "-1001234567890"]] }
metadata: { flagSetId: cryptobot }
`

func TestEvaluate(t *testing.T) {
	dir := flagDir(t, map[string]string{"flags.yaml": evalFlags})
	p, _ := newTestProvider(t, dir)
	ctx := context.Background()

	boolTests := []struct {
		name        string
		flag        string
		tk          string
		attrs       map[string]any
		def         bool
		want        bool
		wantVariant string
		wantReason  of.Reason
		wantCode    of.ErrorCode
	}{
		{"static", "static-on", "1", nil, false, true, "on", of.StaticReason, ""},
		{"disabled gives the code default", "killed", "1", nil, true, true, "", of.DisabledReason, ""},
		{"targeting match by attribute", "staging-only", "1", map[string]any{"environment": "staging"}, false, true, "on", of.TargetingMatchReason, ""},
		{"targeting match by allow-list", "staging-only", "-1001234567890", map[string]any{"environment": "production"}, false, true, "on", of.TargetingMatchReason, ""},
		{"targeting null gives defaultVariant", "staging-only", "7", map[string]any{"environment": "production"}, true, false, "off", of.DefaultReason, ""},
		{"no defaultVariant gives the code default", "no-default", "1", nil, true, true, "", of.DefaultReason, ""},
		{"no defaultVariant, targeting null", "no-default-targeted", "1", map[string]any{"chatType": "group"}, true, true, "", of.DefaultReason, ""},
		{"no defaultVariant, targeting hit", "no-default-targeted", "1", map[string]any{"chatType": "private"}, false, true, "on", of.TargetingMatchReason, ""},
		{"dynamic unknown variant is an error", "dynamic", "1", map[string]any{"chatType": "group"}, true, true, "", of.ErrorReason, of.GeneralCode},
		{"dynamic known variant", "dynamic", "1", map[string]any{"chatType": "on"}, false, true, "on", of.TargetingMatchReason, ""},
		{"type mismatch", "color", "1", nil, true, true, "", of.ErrorReason, of.TypeMismatchCode},
		{"missing flag", "nope", "1", nil, true, true, "", of.ErrorReason, of.FlagNotFoundCode},
	}
	for _, tt := range boolTests {
		t.Run(tt.name, func(t *testing.T) {
			fc := of.FlattenedContext{of.TargetingKey: tt.tk}
			for k, v := range tt.attrs {
				fc[k] = v
			}
			d := p.BooleanEvaluation(ctx, tt.flag, tt.def, fc)
			if d.Value != tt.want || d.Variant != tt.wantVariant || d.Reason != tt.wantReason || errCode(d.ProviderResolutionDetail) != tt.wantCode {
				t.Errorf("got value %v variant %q reason %s code %q; want %v %q %s %q",
					d.Value, d.Variant, d.Reason, errCode(d.ProviderResolutionDetail), tt.want, tt.wantVariant, tt.wantReason, tt.wantCode)
			}
		})
	}

	t.Run("metadata merges flag over set", func(t *testing.T) {
		d := p.BooleanEvaluation(ctx, "static-on", false, nil)
		want := of.FlagMetadata{"owner": "core", "flagSetId": "cryptobot"}
		if !reflect.DeepEqual(d.FlagMetadata, want) {
			t.Errorf("metadata = %v, want %v", d.FlagMetadata, want)
		}
	})
	t.Run("string", func(t *testing.T) {
		d := p.StringEvaluation(ctx, "color", "", of.FlattenedContext{"languageCode": "de"})
		if d.Value != "#00f" || d.Reason != of.TargetingMatchReason {
			t.Errorf("got %q %s", d.Value, d.Reason)
		}
	})
	t.Run("int", func(t *testing.T) {
		d := p.IntEvaluation(ctx, "limit", 0, nil)
		if d.Value != 50 || d.Reason != of.StaticReason {
			t.Errorf("got %d %s", d.Value, d.Reason)
		}
	})
	t.Run("int of a fraction is a type mismatch", func(t *testing.T) {
		d := p.IntEvaluation(ctx, "ratio", 9, nil)
		if d.Value != 9 || errCode(d.ProviderResolutionDetail) != of.TypeMismatchCode {
			t.Errorf("got %d %v", d.Value, d.Error())
		}
	})
	t.Run("float", func(t *testing.T) {
		d := p.FloatEvaluation(ctx, "ratio", 0, nil)
		if d.Value != 0.5 {
			t.Errorf("got %v", d.Value)
		}
	})
	t.Run("object", func(t *testing.T) {
		d := p.ObjectEvaluation(ctx, "layout", nil, nil)
		if !reflect.DeepEqual(d.Value, map[string]any{"rows": 3.0}) {
			t.Errorf("got %#v", d.Value)
		}
	})
	t.Run("status", func(t *testing.T) {
		s := p.Status()
		if !s.Valid || s.LastError != "" || !s.LastReload.Equal(time.Unix(1_700_000_000, 0)) ||
			!reflect.DeepEqual(s.Files, []string{filepath.Join(dir, "flags.yaml")}) || len(s.Flags) != 10 || s.Flags[0] != "color" {
			t.Errorf("status = %+v", s)
		}
	})
}

func TestNewProviderOptions(t *testing.T) {
	m := metrics.New("test", "test")
	tests := []struct {
		name string
		opts Options
	}{
		{"no dir", Options{Metrics: m}},
		{"no metrics", Options{Dir: t.TempDir()}},
		{"negative debounce", Options{Dir: t.TempDir(), Metrics: m, Debounce: -1}},
		{"negative poll", Options{Dir: t.TempDir(), Metrics: m, Poll: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewProvider(tt.opts); err == nil {
				t.Error("want an error")
			}
		})
	}
}

// TestInitWithoutValidFlags: Init fails on a bad first load, evaluations
// answer code defaults, and the first good reload emits PROVIDER_READY.
func TestInitWithoutValidFlags(t *testing.T) {
	dir := flagDir(t, map[string]string{"a.yaml": "flags: [\n"})
	p, m := newTestProvider(t, dir)
	if err := p.Init(of.EvaluationContext{}); !errors.Is(err, ErrNoValidFlags) {
		t.Fatalf("Init = %v, want ErrNoValidFlags", err)
	}
	s := p.Status()
	if s.Valid || s.LastError == "" || len(s.Flags) != 0 {
		t.Errorf("status = %+v", s)
	}
	if got := testutil.ToFloat64(m.FlagConfigValid); got != 0 {
		t.Errorf("config valid = %v", got)
	}
	d := boolEval(p, "f", "1", nil)
	if d.Value || errCode(d.ProviderResolutionDetail) != of.ProviderNotReadyCode {
		t.Errorf("evaluation without flags: %v %v", d.Value, d.Error())
	}
	writeFiles(t, dir, map[string]string{"a.yaml": base})
	p.reload(context.Background())
	if ev := waitEvent(t, p); ev.EventType != of.ProviderReady {
		t.Errorf("event = %s, want PROVIDER_READY", ev.EventType)
	}
	if err := p.Init(of.EvaluationContext{}); err != nil {
		t.Errorf("Init after a good load: %v", err)
	}
}

func TestReloadMetrics(t *testing.T) {
	dir := flagDir(t, map[string]string{"a.yaml": base})
	p, m := newTestProvider(t, dir)
	ctx := context.Background()
	steps := []struct {
		name     string
		body     string
		ok       float64
		rejected float64
		same     float64
		valid    float64
	}{
		{"initial load", "", 1, 0, 0, 1},
		{"unchanged", "", 1, 0, 1, 1},
		{"broken", "flags: [\n", 1, 1, 1, 0},
		{"broken again is not re-reported", "", 1, 1, 2, 0},
		{"fixed", base + "    metadata: { v: 2 }\n", 2, 1, 2, 1},
	}
	for i, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if i > 0 {
				if st.body != "" {
					writeFiles(t, dir, map[string]string{"a.yaml": st.body})
				}
				p.reload(ctx)
			}
			got := []float64{
				testutil.ToFloat64(m.FlagReloads.WithLabelValues("ok")),
				testutil.ToFloat64(m.FlagReloads.WithLabelValues("rejected")),
				testutil.ToFloat64(m.FlagReloads.WithLabelValues("unchanged")),
				testutil.ToFloat64(m.FlagConfigValid),
				testutil.ToFloat64(m.FlagReloadFailure),
			}
			want := []float64{st.ok, st.rejected, st.same, st.valid, st.rejected}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("ok, rejected, unchanged, valid, failures = %v, want %v", got, want)
			}
			if st.valid == 1 && testutil.ToFloat64(m.FlagLastReload) != 1_700_000_000 {
				t.Errorf("last reload = %v", testutil.ToFloat64(m.FlagLastReload))
			}
		})
	}
	if ev := waitEvent(t, p); ev.EventType != of.ProviderConfigChange || !reflect.DeepEqual(ev.FlagChanges, []string{"f"}) {
		t.Errorf("event = %+v, want CONFIG_CHANGED for f", ev)
	}
	select {
	case ev := <-p.EventChannel():
		t.Errorf("unexpected extra event %+v", ev)
	default:
	}
}

func TestChangedKeys(t *testing.T) {
	load := func(body string) *flagSet {
		t.Helper()
		set, probs := compileSet("d", []source{{path: "d/a.yaml", data: []byte(body)}}, DefaultMaxFlags)
		if len(probs) > 0 {
			t.Fatal(probs)
		}
		return set
	}
	two := base + "  g:\n    state: ENABLED\n    variants: { x: 1 }\n    targeting: { $ref: r }\n$evaluators:\n  r: { if: [true, x] }\n"
	tests := []struct {
		name     string
		old, cur string
		want     []string
	}{
		{"same", two, two, nil},
		{"comment only", two, "# hi\n" + two, nil},
		{"state", two, strings.Replace(two, "ENABLED", "DISABLED", 1), []string{"f"}},
		{"evaluator changes its users", two, strings.Replace(two, "if: [true, x]", "if: [false, x]", 1), []string{"g"}},
		{"added and removed", base, strings.Replace(base, "  f:", "  h:", 1), []string{"f", "h"}},
		{"set metadata", two, two + "metadata: { flagSetId: x }\n", []string{"f", "g"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := changedKeys(load(tt.old), load(tt.cur)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("changed = %v, want %v", got, tt.want)
			}
		})
	}
}
