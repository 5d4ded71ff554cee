package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"

	_ "github.com/lib/pq"
)

// fakeTB records how a helper gave up.
type fakeTB struct {
	testing.TB
	skipped, failed string
}

func (f *fakeTB) Helper()                        {}
func (f *fakeTB) Skipf(format string, _ ...any)  { f.skipped = format }
func (f *fakeTB) Fatalf(format string, _ ...any) { f.failed = format }

func TestUnavailableSkipsLocallyFailsInCI(t *testing.T) {
	for _, tc := range []struct {
		ci, envURL string
		err        error
		wantSkip   bool
	}{
		{"", "", errNoBinaries, true},
		{"true", "", errNoBinaries, false},
		{"true", "postgres://db/postgres", errNoBinaries, true}, // NewServer beside an external server
		{"", "", errors.New("initdb: exit status 1"), false},    // installed but broken: always a failure
	} {
		t.Setenv("CI", tc.ci)
		t.Setenv(EnvURL, tc.envURL)
		f := &fakeTB{}
		unavailable(f, tc.err)
		if skipped := f.skipped != ""; skipped != tc.wantSkip || skipped == (f.failed != "") {
			t.Errorf("CI=%q, %v: skipped %q, failed %q; want skip %v", tc.ci, tc.err, f.skipped, f.failed, tc.wantSkip)
		}
	}
}

func TestStartGivesEachTestItsOwnDatabase(t *testing.T) {
	srv := NewServer(t)
	t.Setenv(EnvURL, srv.URL("postgres"))
	a, b := Start(t), Start(t)
	if a == b || !strings.Contains(a, "127.0.0.1") {
		t.Fatalf("Start gave %q and %q, want two databases on the server", a, b)
	}
	ctx := context.Background()
	conn, err := sql.Open("postgres", a)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "CREATE TABLE t (x int)"); err != nil {
		t.Fatal(err)
	}
	other, err := sql.Open("postgres", b)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var n int
	if err := other.QueryRowContext(ctx, "SELECT count(*) FROM pg_tables WHERE tablename = 't'").Scan(&n); err != nil || n != 0 {
		t.Errorf("second database sees %d tables named t (%v), want 0", n, err)
	}
}
