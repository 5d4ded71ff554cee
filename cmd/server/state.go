package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/config"
	"github.com/cryptobot-dev/cryptobot/internal/format"
	"github.com/cryptobot-dev/cryptobot/internal/store"
	"github.com/cryptobot-dev/cryptobot/internal/tick"
	"github.com/cryptobot-dev/cryptobot/modules/core/admin"
)

// Store upkeep intervals.
const (
	storePingEvery   = 5 * time.Second
	storeRepingEvery = time.Second // while the last ping failed
	storePingTimeout = 2 * time.Second
	pruneEvery       = time.Minute
	pruneBatch       = 500
)

// storeHealth is the store's state for /readyz, written by openStore and the
// ping loop so a probe never waits on the database.
type storeHealth struct {
	problem atomic.Pointer[string] // nil: reachable
}

func (h *storeHealth) set(err error) {
	if err == nil {
		h.problem.Store(nil)
		return
	}
	s := err.Error()
	h.problem.Store(&s)
}

func (h *storeHealth) get() (string, bool) {
	if p := h.problem.Load(); p != nil {
		return *p, false
	}
	return "ok", true
}

// openStore opens store.url. A Postgres server that cannot be reached is
// retried with backoff while /readyz names the store; every other failure
// (a path that cannot be written, a corrupt file, a newer schema, a second
// process on the same SQLite file) is a configuration error: exit 2.
func (a *app) openStore(ctx context.Context) (*store.Store, error) {
	url := a.cfg.StoreURL()
	log := a.log.With("component", "store")
	for wait := time.Second; ; wait = min(wait*2, 30*time.Second) {
		st, err := store.Open(ctx, url, store.Options{Registerer: a.metrics.Registry, Logger: log, JournalSync: store.Sync(a.cfg.Journal.Sync)})
		if err == nil {
			a.storeHealth.set(nil)
			info := st.Info()
			log.Info("store open", "driver", info.Driver, "location", info.Location, "schema", info.SchemaVersion, "journal_sync", info.JournalSync)
			return st, nil
		}
		if !errors.Is(err, store.ErrUnavailable) {
			return nil, &config.Error{Key: "store.url", Problem: err.Error()}
		}
		a.storeHealth.set(fmt.Errorf("unavailable, retrying: %w", err))
		log.Error("store unavailable at start; retrying", "err", err, "in", wait.String())
		if !tick.Sleep(ctx, wait) {
			return nil, fmt.Errorf("store: %w", ctx.Err())
		}
	}
}

// keepStore pings the store for /readyz (more often while it fails, so
// readiness comes back soon after the database does) and prunes settled
// journal entries older than journal.retention, until ctx ends.
func (a *app) keepStore(ctx context.Context) {
	// Apart from the pings, so a long prune never delays readiness.
	go tick.Every(ctx, pruneEvery, func() {
		if a.node == nil || a.node.Leading() { // one replica prunes
			a.pruneJournal(ctx)
			a.pruneReplicas(ctx)
		}
	})
	for next := storePingEvery; tick.Sleep(ctx, next); {
		pctx, cancel := context.WithTimeout(ctx, storePingTimeout)
		err := a.store.Ping(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		a.storeHealth.set(err)
		next = storePingEvery
		if err != nil {
			next = storeRepingEvery
		}
	}
}

// pruneJournal deletes settled entries older than journal.retention; the
// store deletes in batches so no transaction holds the writer for long.
func (a *app) pruneJournal(ctx context.Context) {
	n, err := a.store.Prune(ctx, time.Now().Add(-a.cfg.Journal.Retention), pruneBatch)
	if err != nil && ctx.Err() == nil {
		a.log.Warn("journal prune failed", "err", err, "deleted", n)
		return
	}
	if n > 0 {
		a.log.Debug("journal pruned", "deleted", n)
	}
}

// migrateChat is telegram.Config.OnMigrate: the chat's state (alerts,
// watchlists, digests, settings) follows a group that became a supergroup.
// It returns at once; the move runs in the background with its own deadline.
func (a *app) migrateChat(from, to int64) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := a.store.MigrateChat(ctx, from, to); err != nil {
			a.log.Error("moving chat state to the supergroup failed", "from", from, "to", to, "err", err)
			return
		}
		a.log.Info("chat state moved to the supergroup", "from", from, "to", to)
	}()
}

// onMembership is dispatch.Options.OnMembership: removed from a group or
// blocked in private pauses the chat's alerts and digests; back again
// resumes them.
func (a *app) onMembership(ctx context.Context, chat int64, status string) {
	gone := status == "kicked" || status == "left"
	if err := a.store.SetChatBlocked(ctx, chat, gone); err != nil {
		a.log.WarnContext(ctx, "chat blocked state not saved", "chat_id", chat, "blocked", gone, "err", err)
	}
}

// storeFacts are the /status lines about the store.
func (a *app) storeFacts(ctx context.Context) []admin.Fact {
	info := a.store.Info()
	desc := fmt.Sprintf("%s %s, schema %d", info.Driver, info.Location, info.SchemaVersion)
	if info.JournalSync != "" {
		desc += ", journal sync " + string(info.JournalSync)
	}
	facts := []admin.Fact{{Name: "store", Value: desc}}
	depth, oldest, err := a.store.JournalStats(ctx)
	switch {
	case err != nil:
		facts = append(facts, admin.Fact{Name: "journal", Value: "unknown: " + err.Error()})
	case depth == 0:
		facts = append(facts, admin.Fact{Name: "journal", Value: "0 unanswered"})
	default:
		facts = append(facts, admin.Fact{Name: "journal", Value: fmt.Sprintf("%d unanswered, oldest %s", depth, format.Duration(time.Since(oldest)))})
	}
	return facts
}

// closeStore closes the store once everything that writes to it has stopped.
func closeStore(st *store.Store, log *slog.Logger) {
	if err := st.Close(); err != nil {
		log.Warn("store close", "err", err)
	}
}
