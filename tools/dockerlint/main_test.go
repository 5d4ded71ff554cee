package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cryptobot-dev/cryptobot/tools/internal/clitest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// TestLintGolden lints every testdata/*.Dockerfile and compares the printed
// findings with testdata/NAME.golden (empty for a clean file).
func TestLintGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.Dockerfile")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".Dockerfile")
		t.Run(name, func(t *testing.T) {
			findings := lintFile(t, path)
			var got strings.Builder
			for _, f := range findings {
				got.WriteString(f.String() + "\n")
			}
			golden := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if got.String() != string(want) {
				t.Errorf("findings:\n%s\nwant:\n%s", got.String(), want)
			}
		})
	}
}

// TestRepositoryDockerfile keeps the image's Dockerfile free of findings.
func TestRepositoryDockerfile(t *testing.T) {
	const path = "../../Dockerfile"
	for _, f := range lintFile(t, path) {
		t.Errorf("%s", f)
	}
}

func TestRun(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string // substring
		wantStderr string // substring
	}{
		{name: "clean", args: []string{"testdata/good.Dockerfile"}, wantCode: 0},
		{
			name:       "findings",
			args:       []string{"testdata/good.Dockerfile", "testdata/bad.Dockerfile"},
			wantCode:   1,
			wantStdout: "testdata/bad.Dockerfile:1: StageNameCasing:",
		},
		{
			name:       "parse error is a finding",
			args:       []string{"testdata/unknown-instruction.Dockerfile"},
			wantCode:   1,
			wantStdout: "unknown instruction: COPPY",
		},
		{name: "no arguments", args: nil, wantCode: 2, wantStderr: "usage: dockerlint"},
		{name: "help", args: []string{"-h"}, wantCode: 2, wantStderr: "usage: dockerlint"},
		{name: "missing file", args: []string{"testdata/nope.Dockerfile"}, wantCode: 2, wantStderr: "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout := clitest.Run(t, run, tt.args, clitest.Want{Code: tt.wantCode, Stdout: tt.wantStdout, Stderr: tt.wantStderr})
			if tt.wantCode == 0 && stdout != "" {
				t.Errorf("clean run printed %q", stdout)
			}
		})
	}
}

// lintFile reads and lints the Dockerfile at path.
func lintFile(t *testing.T, path string) []Finding {
	t.Helper()
	dt, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	findings, err := lint(t.Context(), path, dt)
	if err != nil {
		t.Fatal(err)
	}
	return findings
}
