package promcheck

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// recorder stands in for the test given to Promtool so a skip or failure
// can be observed instead of ending this test.
type recorder struct {
	testing.TB
	fatal, skip string
}

type stopped struct{}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	panic(stopped{})
}

func (r *recorder) Skipf(format string, args ...any) {
	r.skip = fmt.Sprintf(format, args...)
	panic(stopped{})
}

func run(t *testing.T, args ...string) (rec *recorder, out string, err error) {
	rec = &recorder{TB: t}
	defer func() {
		if p := recover(); p != nil && p != (stopped{}) {
			panic(p)
		}
	}()
	out, err = Promtool(t.Context(), rec, t.TempDir(), args...)
	return rec, out, err
}

func TestPromtool(t *testing.T) {
	fakeTool := func(version string) string {
		dir := t.TempDir()
		script := "#!/bin/sh\n[ \"$1\" = --version ] && { echo \"promtool, version " + version + " (branch: HEAD)\"; exit 0; }\n" +
			"echo \"args: $*\"\n[ \"$1\" = ok ]\n"
		if err := os.WriteFile(filepath.Join(dir, "promtool"), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	fake, debian := fakeTool("3.16.0"), fakeTool("2.42.0+ds")
	empty := t.TempDir()
	for _, tc := range []struct {
		name, path, ci string
		args           []string
		wantFatal      bool
		wantSkip       bool
		wantErr        bool
	}{
		{name: "missing, CI=true fails", path: empty, ci: "true", wantFatal: true},
		{name: "missing, outside CI skips", path: empty, ci: "", wantSkip: true},
		{name: "Prometheus 2, CI=true fails", path: debian, ci: "true", wantFatal: true},
		{name: "Prometheus 2, outside CI skips", path: debian, ci: "", wantSkip: true},
		{name: "exit 0 returns output", path: fake, ci: "true", args: []string{"ok", "x"}},
		{name: "non-zero exit is an error", path: fake, ci: "true", args: []string{"bad"}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PATH", tc.path)
			t.Setenv("CI", tc.ci)
			rec, out, err := run(t, tc.args...)
			if (rec.fatal != "") != tc.wantFatal || (rec.skip != "") != tc.wantSkip {
				t.Fatalf("fatal %q, skip %q; want fatal %v, skip %v", rec.fatal, rec.skip, tc.wantFatal, tc.wantSkip)
			}
			if tc.wantFatal || tc.wantSkip {
				return
			}
			if (err != nil) != tc.wantErr {
				t.Errorf("err %v, want error %v", err, tc.wantErr)
			}
			if want := "args: " + strings.Join(tc.args, " "); !strings.Contains(out, want) {
				t.Errorf("output %q, want %q", out, want)
			}
		})
	}
}

func TestSelectors(t *testing.T) {
	for _, tc := range []struct {
		name, expr string
		want       []Selector
	}{
		{"with matchers", `sum(rate(cryptobot_commands_total{job=~"$job",outcome="ok"}[5m]))`,
			[]Selector{{"cryptobot_commands_total", `job=~"$job",outcome="ok"`}}},
		{"bare and up", `up == 0 and go_goroutines`, []Selector{{"up", ""}, {"go_goroutines", ""}}},
		{"binary expression", `(go_memory_classes_total_bytes{job="a"} - process_resident_memory_bytes{job="a"})`,
			[]Selector{{"go_memory_classes_total_bytes", `job="a"`}, {"process_resident_memory_bytes", `job="a"`}}},
		{"label names and values are not metrics", `sum by (command, le) (x{outcome="up",kind="go_x"})`, nil},
		{"recording rule names are not metrics", `job:cryptobot_x:rate5m`, nil},
		{"functions only", `vector(0) or time()`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Selectors(tc.expr); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Selectors(%q) = %q, want %q", tc.expr, got, tc.want)
			}
		})
	}
}

func TestKnown(t *testing.T) {
	known := Metrics()
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"up", true},
		{"cryptobot_commands_total", true}, // a vector with no children yet
		{"cryptobot_command_duration_seconds_bucket", true},
		{"cryptobot_command_duration_seconds_count", true},
		{"go_gc_gomemlimit_bytes", true},
		{"go_memory_classes_total_bytes", true},
		{"process_resident_memory_bytes", true},
		{"cryptobot_store_journal_depth", true}, // registered by store.Open
		{"cryptobot_store_operation_duration_seconds_bucket", true},
		{"cryptobot_telegram_unreachable_total", true}, // by telegram.New
		{"cryptobot_telegram_journal_replayed_total", true},
		{"cryptobot_market_data_age_seconds_bucket", true}, // by market.New
		{"cryptobot_exchange_rejected_total", true},
		{"cryptobot_command_total", false},
		{"cryptobot_bucket", false},
		{"go_memstats_nope", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Known(known, tc.name); got != tc.want {
				t.Errorf("Known(%s) = %v, want %v", tc.name, got, tc.want)
			}
		})
	}
}
