package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat. It
// is fixed at 100 in the Linux ABI whatever the kernel's HZ.
const clockTicks = 100

// memStatus is what /proc/PID/status says about a process's memory.
type memStatus struct {
	RSS     int64 // VmRSS, bytes
	PeakRSS int64 // VmHWM (high-water mark of RSS), bytes
}

// parseStatus reads VmRSS and VmHWM from /proc/PID/status. A status without
// both lines (a kernel thread, a zombie) is an error.
func parseStatus(r io.Reader) (memStatus, error) {
	var st memStatus
	var haveRSS, haveHWM bool
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		n, err := parseKB(val)
		if err != nil {
			return memStatus{}, fmt.Errorf("%s: %w", key, err)
		}
		if key == "VmRSS" {
			st.RSS, haveRSS = n, true
		} else {
			st.PeakRSS, haveHWM = n, true
		}
	}
	if err := sc.Err(); err != nil {
		return memStatus{}, err
	}
	if !haveRSS || !haveHWM {
		return memStatus{}, errors.New("no VmRSS or VmHWM line")
	}
	return st, nil
}

// parseKB parses "   1234 kB" into bytes.
func parseKB(s string) (int64, error) {
	f := strings.Fields(s)
	if len(f) != 2 || f[1] != "kB" {
		return 0, fmt.Errorf("want \"N kB\", got %q", strings.TrimSpace(s))
	}
	n, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad size %q", f[0])
	}
	return n * 1024, nil
}

// parseStatCPU returns utime+stime from the contents of /proc/PID/stat. The
// command name (field 2) may hold spaces and parentheses, so the fields are
// counted from the last ')'.
func parseStatCPU(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("no ')' after the command name")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state), so utime (14) and stime (15) are f[11], f[12].
	if len(f) < 13 {
		return 0, fmt.Errorf("%d fields after the command name, want at least 13", len(f))
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("bad tick count %q", s)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

func readStatus(pid int) (memStatus, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memStatus{}, err
	}
	defer f.Close()
	st, err := parseStatus(f)
	if err != nil {
		return memStatus{}, fmt.Errorf("/proc/%d/status: %w", pid, err)
	}
	return st, nil
}

func readCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	d, err := parseStatCPU(b)
	if err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return d, nil
}

// rssStats summarises RSS samples.
type rssStats struct {
	Max     int64
	Samples int
}

// sampleRSS reads the process's VmRSS every interval until ctx ends, then
// sends the summary. Failed reads (the process is exiting) are skipped.
func sampleRSS(ctx context.Context, pid int, every time.Duration) <-chan rssStats {
	out := make(chan rssStats, 1)
	go func() {
		var s rssStats
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if st, err := readStatus(pid); err == nil {
				s.Max = max(s.Max, st.RSS)
				s.Samples++
			}
			select {
			case <-ctx.Done():
				out <- s
				return
			case <-t.C:
			}
		}
	}()
	return out
}

// loadAvg returns the first three fields of /proc/loadavg, or "?".
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// parseSchedstat returns the run-queue wait from a /proc/…/schedstat line:
// "on-CPU ns, waiting-to-run ns, timeslices". The wait is CPU time the
// thread wanted but did not get: contention, not the bot's own work.
func parseSchedstat(b []byte) (time.Duration, error) {
	f := strings.Fields(string(b))
	if len(f) != 3 {
		return 0, fmt.Errorf("want 3 fields, got %d", len(f))
	}
	n, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad wait %q", f[1])
	}
	return time.Duration(n), nil
}

// readRunQueueWait sums the run-queue wait of every thread of pid. Threads
// that exited take their share with them; Go rarely ends threads.
func readRunQueueWait(pid int) (time.Duration, error) {
	dir := fmt.Sprintf("/proc/%d/task", pid)
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var sum time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(dir + "/" + t.Name() + "/schedstat")
		if err != nil {
			continue // the thread ended meanwhile
		}
		d, err := parseSchedstat(b)
		if err != nil {
			return 0, fmt.Errorf("%s/%s/schedstat: %w", dir, t.Name(), err)
		}
		sum += d
	}
	return sum, nil
}
