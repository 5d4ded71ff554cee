// Package testkit holds the small helpers tests across packages share: a
// log sink safe for concurrent writers, a copy of the shipped flag files, a
// condition poll with a deadline. Only tests import it.
package testkit

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// SyncBuffer is a bytes.Buffer safe for concurrent use: a log sink for
// code under test that logs from its own goroutines.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// CopyFlags copies the YAML flag files in dir (the shipped flags/, as a
// path relative to the test) into a fresh temporary directory, so a test
// can edit them, and returns that directory.
func CopyFlags(t testing.TB, dir string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if len(files) == 0 {
		t.Fatalf("no flag files in %s", dir)
	}
	dst := t.TempDir()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// Eventually polls cond every interval until it holds, and fails the test
// as what once within has passed. For conditions with no channel to wait
// on (a counter behind HTTP, a process's state); within is when to give
// up, never a speed target.
func Eventually(t testing.TB, what string, within, interval time.Duration, cond func() bool) {
	t.Helper()
	giveUp := time.After(within)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for !cond() {
		select {
		case <-giveUp:
			t.Fatalf("%s: not within %s", what, within)
		case <-tick.C:
		}
	}
}

// FreeAddr returns a loopback address with a port free a moment ago, for a
// process the test starts that must be told its address up front.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
