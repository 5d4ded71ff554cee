package store

import (
	"strings"
	"testing"
)

func TestMigrationsFillEveryPlaceholder(t *testing.T) {
	for name, d := range map[string]dialect{"sqlite": sqliteDialect(), "postgres": postgresDialect()} {
		ms, err := migrations(d)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) == 0 {
			t.Fatalf("%s: no migrations", name)
		}
		for _, m := range ms {
			if strings.Contains(m.sql, "{{") {
				t.Errorf("%s %s: unfilled placeholder in\n%s", name, m.name, m.sql)
			}
		}
	}
	// update_id must be SQLite's rowid (INTEGER PRIMARY KEY, exactly).
	if ms, _ := migrations(sqliteDialect()); !strings.Contains(ms[0].sql, "update_id     INTEGER PRIMARY KEY") {
		t.Error("sqlite journal.update_id is not INTEGER PRIMARY KEY")
	}
}
