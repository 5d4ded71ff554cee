// Package clitest runs a tool's command line in its tests and checks the exit
// code and what it printed. Import it from _test.go files only.
package clitest

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

// Want is what one run must give.
type Want struct {
	Code   int
	Stdout string // a substring of standard output
	Stderr string // a substring of standard error
}

// Run calls run with args and checks the exit code and output against want.
// It returns standard output for further checks.
func Run(t *testing.T, run func(ctx context.Context, args []string, stdout, stderr io.Writer) int, args []string, want Want) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), args, &stdout, &stderr)
	if code != want.Code {
		t.Errorf("exit code %d, want %d (stdout %q, stderr %q)", code, want.Code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), want.Stdout) {
		t.Errorf("stdout %q does not contain %q", stdout.String(), want.Stdout)
	}
	if !strings.Contains(stderr.String(), want.Stderr) {
		t.Errorf("stderr %q does not contain %q", stderr.String(), want.Stderr)
	}
	return stdout.String()
}
