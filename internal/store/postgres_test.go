package store

import "testing"

func TestPreferSSL(t *testing.T) {
	t.Setenv("PGSSLMODE", "")
	for _, c := range []struct{ in, want string }{
		{"postgres://u@h/db", "postgres://u@h/db?sslmode=prefer"},
		{"postgresql://u@h/db?connect_timeout=5", "postgresql://u@h/db?connect_timeout=5&sslmode=prefer"},
		{"postgres://u@h/db?sslmode=verify-full", "postgres://u@h/db?sslmode=verify-full"},
		{"host=h dbname=db", "host=h dbname=db sslmode=prefer"},
		{"host=h sslmode=disable", "host=h sslmode=disable"},
	} {
		if got := preferSSL(c.in); got != c.want {
			t.Errorf("preferSSL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	t.Setenv("PGSSLMODE", "require")
	if got := preferSSL("postgres://u@h/db"); got != "postgres://u@h/db" {
		t.Errorf("with PGSSLMODE set, preferSSL added a mode: %q", got)
	}
}
