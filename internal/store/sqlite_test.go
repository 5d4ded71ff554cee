package store

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// holdLockEnv makes the test binary a helper process (see TestMain) that
// opens the store at the given path, says so on stdout and keeps it open
// until its stdin closes.
const holdLockEnv = "CRYPTOBOT_STORE_TEST_HOLD"

const holdingLine = "holding"

func holdLock(path string) int {
	s, err := Open(context.Background(), "sqlite:"+path, Options{})
	if err != nil {
		fmt.Println("open:", err)
		return 1
	}
	defer s.Close()
	fmt.Println(holdingLine)
	bufio.NewReader(os.Stdin).ReadString('\n') // until the parent closes stdin
	return 0
}

// TestSecondProcessRefused: a second process on one SQLite file gets
// ErrLocked, and the file is free again once the first one exits, even by
// SIGKILL.
func TestSecondProcessRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cryptobot.db")
	for _, stop := range []string{"exit", "kill"} {
		t.Run(stop, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), holdLockEnv+"="+path)
			stdin, _ := cmd.StdinPipe()
			stdout, _ := cmd.StdoutPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if line, _ := bufio.NewReader(stdout).ReadString('\n'); strings.TrimSpace(line) != holdingLine {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("helper said %q, want %q", line, holdingLine)
			}
			_, err := Open(t.Context(), "sqlite:"+path, Options{})
			if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), path) {
				t.Errorf("Open while another process holds it = %v, want ErrLocked naming %s", err, path)
			}
			if stop == "kill" {
				cmd.Process.Kill()
			}
			stdin.Close()
			cmd.Wait()
			s, err := Open(t.Context(), "sqlite:"+path, Options{})
			if err != nil {
				t.Fatalf("Open after the holder's %s: %v", stop, err)
			}
			s.Close()
		})
	}
}

func TestSecondOpenInProcessRefused(t *testing.T) {
	url := "sqlite:" + filepath.Join(t.TempDir(), "cryptobot.db")
	open(t, url, Options{})
	if _, err := Open(t.Context(), url, Options{}); !errors.Is(err, ErrLocked) {
		t.Errorf("second Open = %v, want ErrLocked", err)
	}
}

// TestCorruptFile: a damaged file is reported as ErrCorrupt and left as it
// was: never recreated over the operator's data.
func TestCorruptFile(t *testing.T) {
	dir := t.TempDir()
	valid := filepath.Join(dir, "valid.db")
	s := open(t, "sqlite:"+valid, Options{})
	mustAppend(t, s, upd(1, 0))
	if _, err := s.w.ExecContext(t.Context(), "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	good, err := os.ReadFile(valid)
	if err != nil {
		t.Fatal(err)
	}
	// Keep the 100-byte header, garble the rest: SQLite reads the schema
	// page at open and finds it malformed.
	garbled := bytes.Clone(good)
	for i := 100; i < len(garbled); i++ {
		garbled[i] = byte(i * 7)
	}
	for name, content := range map[string][]byte{
		"not a database": []byte(strings.Repeat("this is not an SQLite file\n", 200)),
		"garbled pages":  garbled,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "cryptobot.db")
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Open(t.Context(), "sqlite:"+path, Options{})
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
				t.Errorf("Open = %v, want ErrCorrupt naming %s", err, path)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, content) {
				t.Error("the corrupt file was modified")
			}
		})
	}
}

// tryOpenEnv makes the test binary a helper that opens the store at the
// given path and prints "opened" or the error.
const tryOpenEnv = "CRYPTOBOT_STORE_TEST_OPEN"

func tryOpen(path string) int {
	s, err := Open(context.Background(), "sqlite:"+path, Options{})
	if err != nil {
		fmt.Println(err)
		return 0
	}
	s.Close()
	fmt.Println("opened")
	return 0
}

// TestUnwritablePath: a directory that cannot be created, a read-only
// directory and a read-only file each stop Open with an error naming the
// path. Root writes through permissions, so as root the read-only cases run
// in a helper process as nobody.
func TestUnwritablePath(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(file, "state", "cryptobot.db")
	if _, err := Open(t.Context(), "sqlite:"+path, Options{}); !errors.Is(err, ErrPath) || !strings.Contains(err.Error(), path) {
		t.Errorf("Open under a regular file = %v, want ErrPath naming %s", err, path)
	}

	try := func(t *testing.T, path string) string {
		if os.Geteuid() != 0 {
			_, err := Open(t.Context(), "sqlite:"+path, Options{})
			return fmt.Sprint(err)
		}
		return openAsNobody(t, path)
	}
	t.Run("read-only directory", func(t *testing.T) {
		ro := filepath.Join(sharedTempDir(t), "ro")
		if err := os.Mkdir(ro, 0o555); err != nil {
			t.Fatal(err)
		}
		out := try(t, filepath.Join(ro, "cryptobot.db"))
		t.Log(out)
		if !strings.Contains(out, ro) || strings.Contains(out, "opened") {
			t.Errorf("Open in a read-only directory: %q, want an error naming %s", out, ro)
		}
	})
	t.Run("read-only file", func(t *testing.T) {
		rw := filepath.Join(sharedTempDir(t), "rw")
		if err := os.Mkdir(rw, 0o777); err != nil {
			t.Fatal(err)
		}
		os.Chmod(rw, 0o777) // past the umask
		db := filepath.Join(rw, "cryptobot.db")
		open(t, "sqlite:"+db, Options{}).Close()
		// The lock file is created afresh by whoever opens next.
		if err := errors.Join(os.Chmod(db, 0o444), os.Remove(db+".lock")); err != nil {
			t.Fatal(err)
		}
		out := try(t, db)
		t.Log(out)
		if !strings.Contains(out, db) || strings.Contains(out, "opened") {
			t.Errorf("Open of a read-only file: %q, want an error naming %s", out, db)
		}
	})
}

// sharedTempDir is a temporary directory other users can enter (t.TempDir's
// parent is private to its owner).
func sharedTempDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "storetest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// openAsNobody runs tryOpen in a copy of the test binary as uid/gid 65534.
func openAsNobody(t *testing.T, path string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(sharedTempDir(t), "store.test")
	data, err := os.ReadFile(self)
	if err == nil {
		err = os.WriteFile(bin, data, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Env = append(os.Environ(), tryOpenEnv+"="+path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper as nobody: %v\n%s", err, out)
	}
	return string(out)
}

// TestDiskFull: SQLite's max_page_count gives the writer the same
// SQLITE_FULL a full disk does: the failed append reports an error and
// commits nothing, and the store works again once there is room.
func TestDiskFull(t *testing.T) {
	s := open(t, "sqlite:"+filepath.Join(t.TempDir(), "cryptobot.db"), Options{})
	mustAppend(t, s, upd(1, 0))
	var pages int
	if err := s.w.QueryRowContext(t.Context(), "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	// The writer pool has one connection, so the pragma stays in force.
	if _, err := s.w.ExecContext(t.Context(), fmt.Sprintf("PRAGMA max_page_count = %d", pages)); err != nil {
		t.Fatal(err)
	}
	big := upd(2, time.Second)
	big.Body = bytes.Repeat([]byte("x"), 64<<10)
	_, err := s.Append(t.Context(), []Update{big, upd(3, 2*time.Second)})
	if err == nil || !strings.Contains(err.Error(), "full") {
		t.Fatalf("Append on a full database = %v, want a 'full' error", err)
	}
	if got := ids(unanswered(t, s, 0)); len(got) != 1 || got[0] != 1 {
		t.Errorf("unanswered %v, want [1]: a failed append commits nothing", got)
	}
	if _, err := s.w.ExecContext(t.Context(), "PRAGMA max_page_count = 1073741823"); err != nil {
		t.Fatal(err)
	}
	if got := mustAppend(t, s, big, upd(3, 2*time.Second)); got[0] != true || got[1] != true {
		t.Errorf("after room was made fresh %v, want [true true]", got)
	}
}

func TestMemoryStoresAreSeparate(t *testing.T) {
	a := open(t, "sqlite::memory:", Options{})
	b := open(t, "sqlite::memory:", Options{})
	mustAppend(t, a, upd(1, 0))
	if got := mustAppend(t, b, upd(1, 0)); !got[0] {
		t.Error("update 1 already in a second in-memory store")
	}
}

func TestRelativePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	s := open(t, "sqlite:data/cryptobot.db", Options{})
	want := filepath.Join(dir, "data", "cryptobot.db")
	if got := s.Info().Location; got != want {
		t.Errorf("Location %q, want %q", got, want)
	}
	if _, err := os.Stat(want); err != nil {
		t.Errorf("no database at %s: %v", want, err)
	}
	if err := errors.Join(s.Close(), s.Close()); err != nil {
		t.Errorf("Close twice: %v", err)
	}
}

// TestJournalSync: the writer rests at the Appends' level, NORMAL by
// default and FULL with SyncFull; a write at the other level (a settle or a
// prune at NORMAL, an alert or a setting at FULL) runs its transaction at
// that level and leaves the writer at rest again.
func TestJournalSync(t *testing.T) {
	const normal, full = 1, 2 // PRAGMA synchronous
	for _, tt := range []struct {
		sync Sync
		rest int
	}{{"", normal}, {SyncNormal, normal}, {SyncFull, full}} {
		t.Run(cmp.Or(string(tt.sync), "default"), func(t *testing.T) {
			s := open(t, "sqlite:"+filepath.Join(t.TempDir(), "cryptobot.db"), Options{JournalSync: tt.sync})
			if got, want := s.Info().JournalSync, cmp.Or(tt.sync, SyncNormal); got != want {
				t.Errorf("Info().JournalSync = %q, want %q", got, want)
			}
			level := func(ex execer) int {
				t.Helper()
				var n int
				rows, err := ex.QueryContext(t.Context(), "PRAGMA synchronous")
				if err == nil {
					defer rows.Close()
					if rows.Next() {
						err = rows.Scan(&n)
					}
				}
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			atRest := func(after string) {
				t.Helper()
				if got := level(s.w); got != tt.rest {
					t.Errorf("after %s the writer is at synchronous = %d, want %d", after, got, tt.rest)
				}
			}
			atRest("Open")
			mustAppend(t, s, upd(1, 0))
			atRest("an Append")
			if err := s.Settle(t.Context(), Answered, 1); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Prune(t.Context(), time.Now().Add(time.Minute), 10); err != nil {
				t.Fatal(err)
			}
			atRest("a settle and a prune")
			for _, relaxed := range []bool{true, false} {
				var in int
				if err := s.write(t.Context(), true, relaxed, func(ex execer) error { in = level(ex); return nil }); err != nil {
					t.Fatal(err)
				}
				if want := map[bool]int{true: normal, false: full}[relaxed]; in != want {
					t.Errorf("write(relaxed=%v) ran at synchronous = %d, want %d", relaxed, in, want)
				}
				atRest(fmt.Sprintf("write(relaxed=%v)", relaxed))
			}
			// A read's flush wants the queued settles visible, not synced:
			// the batch it shares with them commits relaxed.
			var in int
			if err := s.deferred(t.Context(), false, true, func(ex execer) error { in = level(ex); return nil }, func(err error) error { return err }); err != nil {
				t.Fatal(err)
			}
			if err := s.flush(t.Context()); err != nil {
				t.Fatal(err)
			}
			if in != normal {
				t.Errorf("a settle flushed by a read committed at synchronous = %d, want %d (no fsync for a read)", in, normal)
			}
			atRest("a flush")
		})
	}
	if _, err := Open(t.Context(), "sqlite::memory:", Options{JournalSync: "fast"}); err == nil || !strings.Contains(err.Error(), `"fast"`) {
		t.Errorf("Open with journal sync \"fast\" = %v, want an error naming it", err)
	}
}
