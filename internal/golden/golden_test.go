package golden

import (
	"path/filepath"
	"testing"
)

// recorder stands in for testing.TB to observe Check's verdicts.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.golden")
	r := &recorder{TB: t}
	Check(r, path, "a")
	if !r.failed {
		t.Error("a missing golden file passed")
	}
	*update = true
	Check(t, path, "a")
	*update = false
	for _, tc := range []struct {
		got  string
		fail bool
	}{{"a", false}, {"b", true}} {
		r := &recorder{TB: t}
		Check(r, path, tc.got)
		if r.failed != tc.fail {
			t.Errorf("Check(%q) failed = %v, want %v", tc.got, r.failed, tc.fail)
		}
	}
}
