package flags

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// rearmEvery is how often Run checks that the watch still covers the
// directory (deleted and recreated, or retargeted when Dir is a symlink).
const rearmEvery = time.Second

// maxWaitFactor bounds the debounce: under a constant stream of events a
// reload still runs after maxWaitFactor × Debounce.
const maxWaitFactor = 10

// Run follows the directory until ctx ends: an fsnotify watch on the
// directory (re-armed when the directory is replaced), reloads debounced by
// Options.Debounce, and a content-hash poll every Options.Poll as a safety
// net. It returns nil when ctx ends, or an error if Run is already running.
func (p *Provider) Run(ctx context.Context) error {
	if !p.running.CompareAndSwap(false, true) {
		return errors.New("flags: provider already running")
	}
	defer p.running.Store(false)

	w := &dirWatch{dir: p.dir, p: p}
	defer w.close()
	w.arm(ctx)
	// Pick up changes made between NewProvider and the watch starting.
	p.reload(ctx)

	poll := time.NewTicker(p.poll)
	defer poll.Stop()
	rearm := time.NewTicker(rearmEvery)
	defer rearm.Stop()
	debounce := time.NewTimer(time.Hour)
	debounce.Stop()
	defer debounce.Stop()
	var pending bool
	var first time.Time

	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.events():
			if !ok {
				w.disarm()
				continue
			}
			if ev.Op == fsnotify.Chmod {
				continue
			}
			if filepath.Clean(ev.Name) == filepath.Clean(p.dir) && ev.Op.Has(fsnotify.Remove|fsnotify.Rename) {
				// The directory itself went away; watch whatever takes its place.
				w.disarm()
				w.arm(ctx)
			}
			now := time.Now()
			if !pending {
				pending, first = true, now
			}
			debounce.Reset(min(p.debounce, max(first.Add(maxWaitFactor*p.debounce).Sub(now), 0)))
		case err, ok := <-w.errors():
			if !ok {
				w.disarm()
				continue
			}
			// Typically an event queue overflow: events were lost, so re-read.
			p.log.WarnContext(ctx, "flag watch error", "dir", p.dir, "err", err)
			if !pending {
				pending, first = true, time.Now()
				debounce.Reset(p.debounce)
			}
		case <-debounce.C:
			pending = false
			p.reload(ctx)
		case <-poll.C:
			p.reload(ctx)
		case <-rearm.C:
			if w.stale() {
				// Re-read when a new directory is watched, and when a watched
				// one vanished (its events may have been missed).
				wasArmed := w.w != nil
				w.disarm()
				if w.arm(ctx) || wasArmed {
					p.reload(ctx)
				}
			}
		}
	}
}

// dirWatch is one fsnotify watch on the flag directory.
type dirWatch struct {
	dir  string
	p    *Provider
	w    *fsnotify.Watcher
	info os.FileInfo // the directory the watch was armed on
	warn bool        // a failure to arm was logged; log again only after a success
}

func (d *dirWatch) events() <-chan fsnotify.Event {
	if d.w == nil {
		return nil
	}
	return d.w.Events
}

func (d *dirWatch) errors() <-chan error {
	if d.w == nil {
		return nil
	}
	return d.w.Errors
}

// arm starts watching the directory; on failure the poll still works and
// the next rearm tick tries again.
func (d *dirWatch) arm(ctx context.Context) bool {
	info, err := os.Stat(d.dir)
	if err == nil {
		var w *fsnotify.Watcher
		if w, err = fsnotify.NewWatcher(); err == nil {
			if err = w.Add(d.dir); err == nil {
				d.w, d.info, d.warn = w, info, false
				return true
			}
			_ = w.Close()
		}
	}
	if !d.warn {
		d.p.log.WarnContext(ctx, "flag directory not watched; retrying", "dir", d.dir, "err", err)
		d.warn = true
	}
	return false
}

// stale reports whether the watch is missing or covers a directory that is
// no longer the one at dir.
func (d *dirWatch) stale() bool {
	if d.w == nil {
		return true
	}
	info, err := os.Stat(d.dir)
	return err != nil || !os.SameFile(info, d.info)
}

func (d *dirWatch) disarm() {
	if d.w != nil {
		_ = d.w.Close()
		d.w, d.info = nil, nil
	}
}

func (d *dirWatch) close() { d.disarm() }
