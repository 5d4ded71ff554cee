package flags

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	of "github.com/open-feature/go-sdk/openfeature"

	"github.com/cryptobot-dev/cryptobot/internal/metrics"
)

// fuzzSeeds reach every operator and value kind the compiler accepts.
var fuzzSeeds = []string{
	`flags:
  numbers:
    state: ENABLED
    variants: { low: 1, high: 2.5 }
    defaultVariant: low
    targeting:
      if: [{ "!=": [{ var: chatType }, "private"] }, high, null]
  objects:
    state: ENABLED
    variants: { a: { x: [1, "two"] }, b: [] }
    defaultVariant: a
  strings:
    state: DISABLED
    variants: { red: red, blue: blue }
    defaultVariant: red
`,
	`flags:
  rollout:
    state: ENABLED
    variants: { "on": true, "off": false }
    defaultVariant: "off"
    targeting:
      if:
        - and:
            - in: [{ var: languageCode }, ["de", "en"]]
            - "!": { "==": [{ var: userId }, "13"] }
        - fractional: [{ cat: [{ var: $flagd.flagKey }, { var: targetingKey }] }, ["on", 5], ["off", 95]]
        - $ref: staging
$evaluators:
  staging:
    if: [{ "==": [{ var: environment }, "staging"] }, "on", "off"]
metadata:
  flagSetId: fuzz
`,
	`flags:
  clock:
    state: ENABLED
    variants: { before: true, after: false }
    defaultVariant: after
    targeting:
      if: [{ in: ["x", { var: $flagd.timestamp }] }, before]
`,
	`flags:
  shorthand:
    state: ENABLED
    variants: { heads: heads, tails: tails }
    targeting:
      fractional: [[heads], [tails, 1]]
`,
	`flags: {}`,
	`flags:
  a: &x { state: ENABLED, variants: { "on": true }, defaultVariant: "on" }
  b: *x
`,
	"flags:\n  bad:\n    state: ENABLED\n    variants: { \"on\": true }\n    defaultVariant: \"on\"\n    targeting: { in: [{ var: targetingKey }, [-100123]] }\n",
	"\t- not yaml: [",
}

// fuzzContexts are the shapes a chat produces, plus the odd ones a
// targeting rule must survive: no targeting key, wrong attribute types.
var fuzzContexts = []of.FlattenedContext{
	{},
	{of.TargetingKey: "-1001234567890", "userId": "42", "chatType": "supergroup", "languageCode": "de", "environment": "production"},
	{of.TargetingKey: "7", "chatType": "private", "environment": "staging"},
	{of.TargetingKey: "", "userId": 42, "chatType": nil, "environment": map[string]any{"nested": []any{1, "x"}}},
}

// FuzzFlagFile writes arbitrary bytes as a flag file, validates the
// directory, and when it is valid loads it into a provider and evaluates
// every flag as every type against a few contexts. Nothing may panic;
// Validate and the provider must agree on validity; and an evaluation either
// succeeds with a known reason or fails with the error reason.
func FuzzFlagFile(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	for _, pattern := range []string{"*.yaml", "testdata/testbed/*.yaml"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, name := range files {
			data, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	m := metrics.New("fuzz", "fuzz")
	reasons := []of.Reason{of.StaticReason, of.TargetingMatchReason, of.DefaultReason, of.DisabledReason, of.ErrorReason}

	// One directory per fuzz process, rewritten each time: a temporary
	// directory per input would dominate the run.
	dir := f.TempDir()

	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, "fuzz.yaml"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		probs, err := Validate(dir)
		if err != nil {
			t.Fatalf("validate a readable directory: %v", err)
		}
		for _, p := range probs {
			if p.Reason == "" {
				t.Fatalf("problem without a reason: %+v", p)
			}
		}
		p, err := NewProvider(Options{Dir: dir, Metrics: m, Poll: time.Hour,
			Now: func() time.Time { return time.Unix(1_700_000_000, 0) }})
		if err != nil {
			t.Fatal(err)
		}
		st := p.Status()
		if st.Valid != (len(probs) == 0) {
			t.Fatalf("Validate found %d problems but the provider says valid=%v (%s)", len(probs), st.Valid, st.LastError)
		}
		if !st.Valid {
			return
		}
		ctx := context.Background()
		for _, key := range st.Flags {
			for _, fc := range fuzzContexts {
				details := []of.ProviderResolutionDetail{
					p.BooleanEvaluation(ctx, key, false, fc).ProviderResolutionDetail,
					p.StringEvaluation(ctx, key, "", fc).ProviderResolutionDetail,
					p.FloatEvaluation(ctx, key, 0, fc).ProviderResolutionDetail,
					p.IntEvaluation(ctx, key, 0, fc).ProviderResolutionDetail,
					p.ObjectEvaluation(ctx, key, nil, fc).ProviderResolutionDetail,
				}
				for _, d := range details {
					failed := d.ResolutionDetail().ErrorCode != ""
					if !slices.Contains(reasons, d.Reason) || failed != (d.Reason == of.ErrorReason) {
						t.Fatalf("flag %q: reason %q with error code %q", key, d.Reason, d.ResolutionDetail().ErrorCode)
					}
				}
			}
		}
	})
}
