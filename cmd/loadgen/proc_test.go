package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

const statusSample = `Name:	cryptobot
Umask:	0022
State:	S (sleeping)
Pid:	4242
VmPeak:	 1263932 kB
VmSize:	 1263932 kB
VmHWM:	   31744 kB
VmRSS:	   29696 kB
Threads:	9
`

func TestParseStatus(t *testing.T) {
	checkParser(t, func(in string) (memStatus, error) { return parseStatus(strings.NewReader(in)) }, []parserCase[memStatus]{
		{"typical", statusSample, memStatus{RSS: 29696 << 10, PeakRSS: 31744 << 10}, ""},
		{"kernel thread has no Vm lines", "Name:\tkthreadd\nState:\tS (sleeping)\n", memStatus{}, "no VmRSS or VmHWM"},
		{"only VmRSS", "VmRSS:\t 10 kB\n", memStatus{}, "no VmRSS or VmHWM"},
		{"wrong unit", "VmHWM:\t 10 MB\nVmRSS:\t 10 kB\n", memStatus{}, `VmHWM: want "N kB"`},
		{"not a number", "VmHWM:\t ten kB\nVmRSS:\t 10 kB\n", memStatus{}, `VmHWM: bad size "ten"`},
		{"negative", "VmHWM:\t 10 kB\nVmRSS:\t -1 kB\n", memStatus{}, `VmRSS: bad size "-1"`},
	})
}

// parserCase is one input of a /proc parser and what it must give: the
// value, or an error containing wantErr.
type parserCase[T comparable] struct {
	name    string
	in      string
	want    T
	wantErr string
}

func checkParser[T comparable](t *testing.T, parse func(string) (T, error), cases []parserCase[T]) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse(tt.in)
			if errorCase(t, err, tt.wantErr) {
				return
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseStatCPU(t *testing.T) {
	// Fields 14 and 15 (utime, stime) are 250 and 50 ticks: 3 s.
	const rest = " S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 50 0 0 20 0 9 0 12345 1263932 7424 18446744073709551615"
	checkParser(t, func(in string) (time.Duration, error) { return parseStatCPU([]byte(in)) }, []parserCase[time.Duration]{
		{"typical", "4242 (cryptobot)" + rest, 3 * time.Second, ""},
		{"command with spaces and parens", "4242 (my (odd) bot)" + rest, 3 * time.Second, ""},
		{"zero", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0", 0, ""},
		{"no command", "4242 cryptobot S 1", 0, "no ')'"},
		{"truncated", "4242 (cryptobot) S 1 4242", 0, "fields after the command name"},
		{"bad ticks", "4242 (x) S 1 1 1 0 -1 0 0 0 0 0 abc 50", 0, `bad tick count "abc"`},
	})
}

// The parsers must agree with the running kernel, not only with samples.
func TestReadOwnProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	st, err := readStatus(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st.RSS <= 0 || st.PeakRSS < st.RSS {
		t.Errorf("RSS %d, peak %d: want 0 < RSS <= peak", st.RSS, st.PeakRSS)
	}
	if _, err := readCPU(os.Getpid()); err != nil {
		t.Error(err)
	}
	if _, err := readStatus(-1); err == nil {
		t.Error("readStatus(-1) succeeded")
	}
}

func TestParseSchedstat(t *testing.T) {
	checkParser(t, func(in string) (time.Duration, error) { return parseSchedstat([]byte(in)) }, []parserCase[time.Duration]{
		{"typical", "123456789 2500000000 4242\n", 2500 * time.Millisecond, ""},
		{"idle", "0 0 0", 0, ""},
		{"short", "1 2", 0, "want 3 fields"},
		{"bad wait", "1 x 3", 0, `bad wait "x"`},
	})
	if _, err := os.Stat("/proc/self/task"); err == nil {
		if _, err := readRunQueueWait(os.Getpid()); err != nil {
			t.Errorf("own process: %v", err)
		}
	}
}
