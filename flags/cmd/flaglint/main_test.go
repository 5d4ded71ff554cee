package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cryptobot-dev/cryptobot/flags"
)

const valid = `flags:
  %s:
    state: ENABLED
    variants: { "on": true, "off": false }
    defaultVariant: "off"
`

func TestRun(t *testing.T) {
	good := func(t *testing.T) string {
		dir := t.TempDir()
		for key := range flags.Catalog {
			writeFile(t, filepath.Join(dir, key+".yaml"), strings.ReplaceAll(valid, "%s", key))
		}
		return dir
	}
	// goodPlus is a clean directory with file name holding body.
	goodPlus := func(name, body string) func(t *testing.T) []string {
		return func(t *testing.T) []string {
			dir := good(t)
			writeFile(t, filepath.Join(dir, name), body)
			return []string{dir}
		}
	}
	tests := []struct {
		name     string
		args     func(t *testing.T) []string
		wantCode int
		wantOut  string // substring of stdout ("" for none)
		wantErr  string // substring of stderr
	}{
		{"shipped flags are clean", func(*testing.T) []string { return []string{"../.."} }, 0, "", ""},
		{"clean directory", func(t *testing.T) []string { return []string{good(t)} }, 0, "", ""},
		{"problem exits 1 with file:line", goodPlus("funding-rates.yaml", strings.ReplaceAll(valid, "%s", "funding-rates")+"    targeting: { in: [{ var: targetingKey }, [42]] }\n"), 1, "funding-rates.yaml:6: unquoted number 42", ""},
		{"key outside the catalog exits 1", goodPlus("extra.yaml", strings.ReplaceAll(valid, "%s", "not-a-flag")), 1, `extra.yaml:2: flag "not-a-flag" is not in flags.Catalog`, ""},
		{"warning alone exits 0", goodPlus("open-interest.yaml", strings.ReplaceAll(valid, "%s", "open-interest")+"    targeting: { fractional: [[\"off\", 95], [\"on\", 5]] }\n"), 0, "open-interest.yaml:6: warning:", ""},
		{"file over the default size cap exits 1", goodPlus("big.yaml", "# "+strings.Repeat("x", flags.DefaultMaxFileBytes)+"\n"), 1, "big.yaml: file exceeds 1048576 bytes (flags.max_file_bytes)", ""},
		{"file over -max-file-bytes exits 1", func(t *testing.T) []string {
			return []string{"-max-file-bytes", "100", good(t)}
		}, 1, "exceeds 100 bytes", ""},
		{"set over -max-flags exits 1", func(t *testing.T) []string {
			return []string{"-max-flags", "2", good(t)}
		}, 1, "more than 2 flags (flags.max_flags)", ""},
		{"bad cap is usage", func(t *testing.T) []string { return []string{"-max-flags", "0", good(t)} }, 2, "", "usage"},
		{"no arguments", func(*testing.T) []string { return nil }, 2, "", "usage"},
		{"missing directory", func(t *testing.T) []string { return []string{filepath.Join(t.TempDir(), "nope")} }, 2, "", "flaglint:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args(t), &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; stdout %q stderr %q", code, tt.wantCode, stdout.String(), stderr.String())
			}
			if tt.wantOut == "" && stdout.Len() > 0 || !strings.Contains(stdout.String(), tt.wantOut) {
				t.Errorf("stdout %q, want %q", stdout.String(), tt.wantOut)
			}
			if !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("stderr %q, want %q", stderr.String(), tt.wantErr)
			}
		})
	}
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
