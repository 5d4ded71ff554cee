package testkit

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestSyncBufferTakesConcurrentWriters(t *testing.T) {
	var b SyncBuffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				b.Write([]byte("x"))
			}
		})
	}
	wg.Wait()
	if n := len(b.String()); n != 800 {
		t.Errorf("%d bytes, want 800", n)
	}
}

func TestCopyFlagsCopiesOnlyYAML(t *testing.T) {
	src := t.TempDir()
	for name, body := range map[string]string{"a.yaml": "flags: {}\n", "notes.txt": "no"} {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dst := CopyFlags(t, src)
	entries, err := os.ReadDir(dst)
	if err != nil || len(entries) != 1 || entries[0].Name() != "a.yaml" {
		t.Fatalf("copied %v, %v; want a.yaml only", entries, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "a.yaml")); !strings.Contains(string(b), "flags") {
		t.Errorf("copy holds %q", b)
	}
}

func TestEventuallyReturnsOnceTheConditionHolds(t *testing.T) {
	var calls atomic.Int32
	Eventually(t, "third call", time.Minute, time.Millisecond, func() bool { return calls.Add(1) == 3 })
	if n := calls.Load(); n != 3 {
		t.Errorf("%d calls, want 3", n)
	}
}
