package main

import (
	"context"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/cryptobot-dev/cryptobot/flags"
	"github.com/cryptobot-dev/cryptobot/internal/format"
	"github.com/cryptobot-dev/cryptobot/modules"
	"github.com/cryptobot-dev/cryptobot/modules/core/admin"
)

// Status implements admin.Inspector for /status.
func (a *app) Status(ctx context.Context) []admin.Fact {
	a.guard.Sample()
	mem := a.guard.Status()
	facts := []admin.Fact{
		{Name: "version", Value: version + " (" + commit + ", " + runtime.Version() + ")"},
		{Name: "uptime", Value: format.Duration(time.Since(a.started))},
		{Name: "mode", Value: a.cfg.Telegram.Mode + ", env " + a.cfg.Env},
		{Name: "memory", Value: fmt.Sprintf("%s used of %s (%s, %.0f%%)", mib(mem.Used), mib(mem.Budget), mem.Source, 100*mem.Pressure)},
		{Name: "shedding", Value: yesNo(mem.Shedding)},
		{Name: "reserved", Value: fmt.Sprintf("%s of %s for modules", mib(mem.Reserved), mib(mem.ModuleBudget))},
	}
	loaded, skipped := a.router.Modules()
	for _, l := range loaded {
		facts = append(facts, admin.Fact{Name: "module " + l.Info.ID, Value: "loaded"})
	}
	for _, s := range skipped {
		facts = append(facts, admin.Fact{Name: "module " + s.Info.ID, Value: "skipped: " + s.Reason})
	}
	st := a.flags.Status()
	flagState := "valid"
	if !st.Valid {
		flagState = "INVALID (last good set kept): " + st.LastError
	}
	facts = append(facts, admin.Fact{Name: "flag files", Value: flagState + "; " + strings.Join(st.Files, ", ")})
	if !st.LastReload.IsZero() {
		facts = append(facts, admin.Fact{Name: "flags loaded", Value: format.Duration(time.Since(st.LastReload)) + " ago"})
	}
	facts = append(facts, a.storeFacts(ctx)...)
	facts = append(facts, a.replicaFacts(ctx)...)
	if a.tg != nil {
		t := a.tg.Status()
		facts = append(facts,
			admin.Fact{Name: "queue", Value: fmt.Sprintf("%d/%d, oldest %s", t.QueueDepth, t.QueueCapacity, t.OldestQueued.Round(time.Millisecond))},
			admin.Fact{Name: "replies", Value: fmt.Sprintf("%d sent, %d late, %d failed", t.Sent, t.Late, t.Failed)},
		)
	}
	return facts
}

// Flags implements admin.Inspector for /flags.
func (a *app) Flags(ctx context.Context, req modules.Request) []admin.FlagValue {
	keys := slices.Sorted(maps.Keys(flags.Catalog))
	out := make([]admin.FlagValue, 0, len(keys))
	for _, k := range keys {
		r := a.gate.Explain(ctx, k, req)
		v := admin.FlagValue{Key: k, On: r.On, Variant: r.Variant, Reason: r.Reason}
		if r.Err != nil {
			v.Err = r.Err.Error()
		}
		out = append(out, v)
	}
	return out
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
