package flags

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	of "github.com/open-feature/go-sdk/openfeature"
)

// v2 turns flag f on for everyone.
var v2 = strings.Replace(base, `defaultVariant: "off"`, `defaultVariant: "on"`, 1)

func mustDo(t *testing.T, errs ...error) {
	t.Helper()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func write(t *testing.T, path, body string) {
	t.Helper()
	mustDo(t, os.MkdirAll(filepath.Dir(path), 0o755), os.WriteFile(path, []byte(body), 0o644))
}

// wantOff checks the last good set (f off) is still in force.
func wantOff(t *testing.T, p *Provider) {
	t.Helper()
	if d := boolEval(p, "f", "1", nil); d.Value || d.Error() != nil {
		t.Fatalf("f = %v (%v), want the last good value false", d.Value, d.Error())
	}
}

func TestReloadMutations(t *testing.T) {
	tests := []struct {
		name   string
		poll   time.Duration
		setup  func(t *testing.T, root string) (dir string)
		mutate func(t *testing.T, root string, p *Provider)
	}{
		{
			name:   "in-place write",
			setup:  func(t *testing.T, root string) string { write(t, filepath.Join(root, "a.yaml"), base); return root },
			mutate: func(t *testing.T, root string, _ *Provider) { write(t, filepath.Join(root, "a.yaml"), v2) },
		},
		{
			name:  "atomic rename",
			setup: func(t *testing.T, root string) string { write(t, filepath.Join(root, "a.yaml"), base); return root },
			mutate: func(t *testing.T, root string, _ *Provider) {
				write(t, filepath.Join(root, ".a.yaml.tmp"), v2)
				mustDo(t, os.Rename(filepath.Join(root, ".a.yaml.tmp"), filepath.Join(root, "a.yaml")))
			},
		},
		{
			name: "kubernetes ..data swap",
			setup: func(t *testing.T, root string) string {
				write(t, filepath.Join(root, "..2026_01", "a.yaml"), base)
				mustDo(t, os.Symlink("..2026_01", filepath.Join(root, "..data")),
					os.Symlink(filepath.Join("..data", "a.yaml"), filepath.Join(root, "a.yaml")))
				return root
			},
			mutate: func(t *testing.T, root string, _ *Provider) {
				write(t, filepath.Join(root, "..2026_02", "a.yaml"), v2)
				mustDo(t, os.Symlink("..2026_02", filepath.Join(root, "..data_tmp")),
					os.Rename(filepath.Join(root, "..data_tmp"), filepath.Join(root, "..data")),
					os.RemoveAll(filepath.Join(root, "..2026_01")))
			},
		},
		{
			name: "ln -sfn retarget, old file kept",
			setup: func(t *testing.T, root string) string {
				write(t, filepath.Join(root, "store", "v1.yaml"), base)
				mustDo(t, os.Mkdir(filepath.Join(root, "flags"), 0o755),
					os.Symlink(filepath.Join("..", "store", "v1.yaml"), filepath.Join(root, "flags", "a.yaml")))
				return filepath.Join(root, "flags")
			},
			mutate: func(t *testing.T, root string, _ *Provider) {
				write(t, filepath.Join(root, "store", "v2.yaml"), v2)
				link := filepath.Join(root, "flags", "a.yaml")
				mustDo(t, os.Remove(link), os.Symlink(filepath.Join("..", "store", "v2.yaml"), link))
			},
		},
		{
			name: "symlinked file edited outside the directory (poll)",
			poll: 50 * time.Millisecond,
			setup: func(t *testing.T, root string) string {
				write(t, filepath.Join(root, "store", "v1.yaml"), base)
				mustDo(t, os.Mkdir(filepath.Join(root, "flags"), 0o755),
					os.Symlink(filepath.Join("..", "store", "v1.yaml"), filepath.Join(root, "flags", "a.yaml")))
				return filepath.Join(root, "flags")
			},
			mutate: func(t *testing.T, root string, _ *Provider) { write(t, filepath.Join(root, "store", "v1.yaml"), v2) },
		},
		{
			name:  "delete then recreate",
			setup: func(t *testing.T, root string) string { write(t, filepath.Join(root, "a.yaml"), base); return root },
			mutate: func(t *testing.T, root string, p *Provider) {
				mustDo(t, os.Remove(filepath.Join(root, "a.yaml")))
				waitStatus(t, p, func(s Status) bool { return !s.Valid && strings.Contains(s.LastError, "no flag files") })
				wantOff(t, p)
				write(t, filepath.Join(root, "a.yaml"), v2)
			},
		},
		{
			name: "directory deleted and recreated",
			setup: func(t *testing.T, root string) string {
				write(t, filepath.Join(root, "flags", "a.yaml"), base)
				return filepath.Join(root, "flags")
			},
			mutate: func(t *testing.T, root string, p *Provider) {
				mustDo(t, os.RemoveAll(filepath.Join(root, "flags")))
				waitStatus(t, p, func(s Status) bool { return !s.Valid })
				wantOff(t, p)
				write(t, filepath.Join(root, "flags", "a.yaml"), v2)
			},
		},
		{
			name: "directory symlink retargeted",
			setup: func(t *testing.T, root string) string {
				write(t, filepath.Join(root, "v1", "a.yaml"), base)
				mustDo(t, os.Symlink("v1", filepath.Join(root, "current")))
				return filepath.Join(root, "current")
			},
			mutate: func(t *testing.T, root string, _ *Provider) {
				write(t, filepath.Join(root, "v2", "a.yaml"), v2)
				mustDo(t, os.Symlink("v2", filepath.Join(root, ".current.tmp")),
					os.Rename(filepath.Join(root, ".current.tmp"), filepath.Join(root, "current")))
			},
		},
		{
			name:  "broken mid-run keeps the last good set",
			setup: func(t *testing.T, root string) string { write(t, filepath.Join(root, "a.yaml"), base); return root },
			mutate: func(t *testing.T, root string, p *Provider) {
				write(t, filepath.Join(root, "a.yaml"), base+"    targeting: { starts_with: [x] }\n")
				// An in-place write can be seen half done (an empty file, also
				// rejected) before the whole bad file: wait for the latter.
				s := waitStatus(t, p, func(s Status) bool { return !s.Valid && strings.Contains(s.LastError, "unknown operator") })
				if !strings.Contains(s.LastError, "a.yaml:6: unknown operator") || !reflect.DeepEqual(s.Flags, []string{"f"}) {
					t.Errorf("status = %+v", s)
				}
				wantOff(t, p)
				write(t, filepath.Join(root, "a.yaml"), v2)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			dir := tt.setup(t, root)
			p, _ := newTestProvider(t, dir)
			if tt.poll > 0 {
				p.poll = tt.poll
			}
			wantOff(t, p)
			runProvider(t, p)
			tt.mutate(t, root, p)
			ev := waitEvent(t, p)
			if ev.EventType != of.ProviderConfigChange || !reflect.DeepEqual(ev.FlagChanges, []string{"f"}) {
				t.Fatalf("event = %+v, want CONFIG_CHANGED for [f]", ev)
			}
			if d := boolEval(p, "f", "1", nil); !d.Value {
				t.Errorf("f = false after the change")
			}
			if s := p.Status(); !s.Valid || s.LastError != "" {
				t.Errorf("status after the change = %+v", s)
			}
		})
	}
}

// TestReloadUnderLoad swaps the file 20 times while two goroutines evaluate,
// then breaks it: evaluations never fail and the last good set stays.
func TestReloadUnderLoad(t *testing.T) {
	dir := t.TempDir()
	flagAt := func(i int) string {
		return strings.Replace(analysisFlag, `["on", 25]`, `["on", `+strconv.Itoa(10+i)+`]`, 1)
	}
	writeFiles(t, dir, map[string]string{"a.yaml": flagAt(0)})
	p, _ := newTestProvider(t, dir)
	runProvider(t, p)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	failures := make(chan string, 2)
	for g := range 2 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				d := boolEval(p, "advanced-analysis", strconv.Itoa(g*1_000_000+i), nil)
				if d.Error() != nil || d.Reason != of.TargetingMatchReason {
					failures <- fmt.Sprintf("%s: %v", d.Reason, d.Error())
					return
				}
			}
		})
	}
	for i := 1; i <= 20; i++ {
		tmp := filepath.Join(dir, ".a.yaml.tmp")
		write(t, tmp, flagAt(i))
		mustDo(t, os.Rename(tmp, filepath.Join(dir, "a.yaml")))
		if ev := waitEvent(t, p); ev.EventType != of.ProviderConfigChange {
			t.Fatalf("swap %d: event %s", i, ev.EventType)
		}
	}
	write(t, filepath.Join(dir, "a.yaml"), "flags: {advanced-analysis: \n")
	waitStatus(t, p, func(s Status) bool { return !s.Valid })
	close(stop)
	wg.Wait()
	select {
	case f := <-failures:
		t.Fatalf("evaluation failed during reloads: %s", f)
	default:
	}
	if d := boolEval(p, "advanced-analysis", "42", nil); d.Error() != nil || d.Reason != of.TargetingMatchReason {
		t.Errorf("after the broken file: %v %s", d.Error(), d.Reason)
	}
}

func TestRunLifecycle(t *testing.T) {
	dir := flagDir(t, map[string]string{"a.yaml": base})
	p, _ := newTestProvider(t, dir)
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	waitRunning := time.Now().Add(waitFor)
	for !p.running.Load() {
		if time.Now().After(waitRunning) {
			t.Fatal("Run did not start")
		}
		time.Sleep(time.Millisecond)
	}
	t.Run("second Run is refused", func(t *testing.T) {
		if err := p.Run(ctx); err == nil {
			t.Error("want an error from a second Run")
		}
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(waitFor):
		t.Fatal("Run did not return after cancel")
	}
	// Checked here, not in a subtest, whose own goroutine would count.
	deadline := time.Now().Add(waitFor)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, %d before Run:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
