package flags

import (
	"context"
	"strconv"
	"testing"

	of "github.com/open-feature/go-sdk/openfeature"

	"github.com/cryptobot-dev/cryptobot/modules"
)

func benchProvider(b *testing.B) *Provider {
	b.Helper()
	dir := b.TempDir()
	writeFiles(b, dir, map[string]string{
		"a.yaml": analysisFlag,
		"b.yaml": base,
		"c.yaml": "flags:\n  staging-or-beta:\n    state: ENABLED\n    variants: { \"on\": true, \"off\": false }\n    defaultVariant: \"off\"\n" +
			"    targeting:\n      if:\n        - or: [{ \"==\": [{ var: environment }, staging] }, { in: [{ var: targetingKey }, [\"1\", \"2\", \"3\"]] }]\n" +
			"        - \"on\"\n        - fractional: [[\"on\", 25], [\"off\", 75]]\n",
	})
	p, _ := newTestProvider(b, dir)
	if !p.Status().Valid {
		b.Fatal(p.Status().LastError)
	}
	return p
}

// BenchmarkEvaluateStatic is the provider's path for a flag without targeting.
func BenchmarkEvaluateStatic(b *testing.B) {
	p := benchProvider(b)
	ctx := context.Background()
	fc := of.FlattenedContext{of.TargetingKey: "-1001234567890", "environment": "production"}
	b.ReportAllocs()
	for b.Loop() {
		if d := p.BooleanEvaluation(ctx, "f", true, fc); d.Value {
			b.Fatal("f is off")
		}
	}
}

// BenchmarkEvaluateFractional buckets a different chat id each time.
func BenchmarkEvaluateFractional(b *testing.B) {
	p := benchProvider(b)
	ctx := context.Background()
	ids := make([]of.FlattenedContext, 1024)
	for i := range ids {
		ids[i] = of.FlattenedContext{of.TargetingKey: strconv.Itoa(100_000_000 + i), "environment": "production"}
	}
	for _, bc := range []struct{ name, flag string }{
		{"fractional only", "advanced-analysis"},
		{"allow-list then fractional", "staging-or-beta"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				p.BooleanEvaluation(ctx, bc.flag, false, ids[i%len(ids)])
				i++
			}
		})
	}
}

// BenchmarkGate is one module decision through OpenFeature with the metrics hook.
func BenchmarkGate(b *testing.B) {
	g, req := benchGate(b)
	b.ReportAllocs()
	for b.Loop() {
		g.Enabled(b.Context(), "staging-or-beta", req)
	}
}

// BenchmarkGateStatic is the router's path for a flag without targeting.
func BenchmarkGateStatic(b *testing.B) {
	g, req := benchGate(b)
	b.ReportAllocs()
	for b.Loop() {
		if g.Enabled(b.Context(), "f", req) {
			b.Fatal("f is off")
		}
	}
}

func benchGate(b *testing.B) (*Gate, modules.Request) {
	p := benchProvider(b)
	g, err := NewGate(b.Context(), p, p.m, "production")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = g.Close(context.Background()) })
	return g, modules.Request{ChatID: -1001234567890, UserID: 42, ChatType: "supergroup", Lang: "en"}
}
