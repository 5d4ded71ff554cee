package flags

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"syscall"
	"testing"
	"time"

	cbmetrics "github.com/cryptobot-dev/cryptobot/internal/metrics"
)

const oneFlag = `flags:
  %s:
    state: ENABLED
    variants: { "on": true, "off": false }
    defaultVariant: "on"
`

// writeFlags writes a valid file of n flags, streamed so the test itself
// does not hold the file in memory.
func writeFlags(t *testing.T, path string, n int) int64 {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "flags:")
	for i := range n {
		fmt.Fprintf(w, "  flag-number-%07d:\n    state: ENABLED\n    variants: { \"on\": true, \"off\": false }\n    defaultVariant: \"off\"\n", i)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	info, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return info.Size()
}

// allocated reports the bytes the process allocated on the heap while fn
// ran: the figure that bounds what a reload can push into RSS.
func allocated(fn func()) uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	runtime.GC()
	metrics.Read(s)
	before := s[0].Value.Uint64()
	fn()
	metrics.Read(s)
	return s[0].Value.Uint64() - before
}

// limitProvider loads dir under lim, logging JSON lines the test can measure.
func limitProvider(t *testing.T, dir string, lim Limits) (*Provider, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	p, err := NewProvider(Options{Dir: dir, Metrics: cbmetrics.New("test", "test"), Limits: lim,
		Log: slog.New(slog.NewJSONHandler(&buf, nil)), Debounce: 20 * time.Millisecond, Poll: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return p, &buf
}

// requireKeptGoodSet checks a rejected reload left the first set in force.
func requireKeptGoodSet(t *testing.T, p *Provider, wantErr string) {
	t.Helper()
	st := p.Status()
	if st.Valid || !strings.Contains(st.LastError, wantErr) {
		t.Errorf("status valid %v, last error %q; want rejected with %q", st.Valid, st.LastError, wantErr)
	}
	if d := boolEval(p, "good", "1", nil); !d.Value || d.Reason != "STATIC" {
		t.Errorf("good flag after rejection = %v (%s), want the last good set's true", d.Value, d.Reason)
	}
}

func maxLine(buf *bytes.Buffer) int {
	n := 0
	for l := range strings.SplitSeq(buf.String(), "\n") {
		n = max(n, len(l))
	}
	return n
}

func TestFlagBombs(t *testing.T) {
	ctx := context.Background()
	t.Run("24 MB valid file with 300,000 flags", func(t *testing.T) {
		dir := flagDir(t, map[string]string{"a.yaml": fmt.Sprintf(oneFlag, "good")})
		p, logs := limitProvider(t, dir, Limits{})
		size := writeFlags(t, filepath.Join(dir, "bomb.yaml"), 300_000)
		if size < 20<<20 {
			t.Fatalf("bomb is only %d bytes", size)
		}
		got := allocated(func() { p.reload(ctx) })
		t.Logf("reload allocated %d bytes", got)
		requireKeptGoodSet(t, p, "file exceeds 1048576 bytes (flags.max_file_bytes)")
		if got > 2*DefaultMaxFileBytes {
			t.Errorf("reload allocated %d bytes for a %d-byte file; want reading stopped at the cap", got, size)
		}
		if n := maxLine(logs); n > 1000 {
			t.Errorf("longest log line is %d bytes", n)
		}
	})
	t.Run("50 MB of garbage through a pipe: the LimitReader stops it", func(t *testing.T) {
		dir := flagDir(t, map[string]string{"a.yaml": fmt.Sprintf(oneFlag, "good")})
		p, _ := limitProvider(t, dir, Limits{})
		// A FIFO has no size to stat, so only the LimitReader bounds the read.
		path := filepath.Join(dir, "garbage.yaml")
		if err := syscall.Mkfifo(path, 0o644); err != nil {
			t.Skip("no FIFOs here:", err)
		}
		wrote := make(chan int64, 1)
		go func() {
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				wrote <- 0
				return
			}
			defer f.Close()
			chunk := bytes.Repeat([]byte("\x00{[garbage: :\t"), 4096)
			var n int64
			for n < 50<<20 {
				k, err := f.Write(chunk)
				n += int64(k)
				if err != nil {
					break // the reader closed the pipe: it stopped reading
				}
			}
			wrote <- n
		}()
		got := allocated(func() { p.reload(ctx) })
		t.Logf("reload allocated %d bytes", got)
		requireKeptGoodSet(t, p, "flags.max_file_bytes")
		if n := <-wrote; n >= 50<<20 {
			t.Errorf("the writer wrote all %d bytes: the reader did not stop at the cap", n)
		}
		if got > 8*DefaultMaxFileBytes { // the read buffer grows by doubling; the race detector adds more
			t.Errorf("reload allocated %d bytes; want reading stopped at the cap", got)
		}
	})
	t.Run("more flags than max_flags in small files", func(t *testing.T) {
		dir := flagDir(t, map[string]string{"a.yaml": fmt.Sprintf(oneFlag, "good")})
		p, logs := limitProvider(t, dir, Limits{})
		writeFlags(t, filepath.Join(dir, "b.yaml"), DefaultMaxFlags) // 1,001 with a.yaml's
		got := allocated(func() { p.reload(ctx) })
		t.Logf("reload allocated %d bytes", got)
		requireKeptGoodSet(t, p, "more than 1000 flags (flags.max_flags)")
		// The YAML tree is parsed but not one flag of it compiled.
		if got > 8*DefaultMaxFileBytes {
			t.Errorf("reload allocated %d bytes", got)
		}
		if n := maxLine(logs); n > 1000 {
			t.Errorf("longest log line is %d bytes", n)
		}
	})
	t.Run("files under the cap adding up to 4× it", func(t *testing.T) {
		dir := flagDir(t, map[string]string{"a.yaml": fmt.Sprintf(oneFlag, "good")})
		p, _ := limitProvider(t, dir, Limits{MaxFileBytes: 10_000, MaxFlags: 10_000})
		for i := range 5 {
			writeFlags(t, filepath.Join(dir, fmt.Sprintf("b%d.yaml", i)), 90) // ~9 KB each
		}
		p.reload(ctx)
		requireKeptGoodSet(t, p, "exceed 40000 bytes in total")
	})
	t.Run("options lower the caps", func(t *testing.T) {
		dir := flagDir(t, map[string]string{"a.yaml": fmt.Sprintf(oneFlag, "good")})
		p, _ := limitProvider(t, dir, Limits{MaxFlags: 2})
		writeFiles(t, dir, map[string]string{"b.yaml": fmt.Sprintf(oneFlag, "b") + fmt.Sprintf(oneFlag, "c")[len("flags:\n"):]})
		p.reload(ctx)
		requireKeptGoodSet(t, p, "more than 2 flags")
	})
}

// TestReloadLogIsASummary: a reload that changes every flag of a full set
// logs the count and a few keys, not the set.
func TestReloadLogIsASummary(t *testing.T) {
	dir := t.TempDir()
	writeFlags(t, filepath.Join(dir, "a.yaml"), DefaultMaxFlags)
	p, logs := limitProvider(t, dir, Limits{})
	if !p.Status().Valid {
		t.Fatalf("a full set of %d flags was rejected: %s", DefaultMaxFlags, p.Status().LastError)
	}
	line := strings.TrimSpace(logs.String())
	if !strings.Contains(line, `"changed":1000`) || !strings.Contains(line, `"changed_first":["flag-number-0000000",`) {
		t.Errorf("log line %q lacks the summary", line)
	}
	if len(line) > 1000 {
		t.Errorf("log line is %d bytes, want a summary", len(line))
	}

	// A rejection whose reason quotes a huge key is clipped too.
	logs.Reset()
	long := strings.Repeat("k", 100_000)
	writeFiles(t, dir, map[string]string{"a.yaml": fmt.Sprintf(oneFlag, long) + "    bogus: 1\n"})
	p.reload(context.Background())
	if p.Status().Valid {
		t.Fatal("broken set accepted")
	}
	if n := maxLine(logs); n > 1000 {
		t.Errorf("rejection log line is %d bytes", n)
	}
	if n := len(p.Status().LastError); n > logChars+len("…") {
		t.Errorf("status error is %d bytes", n)
	}
}
