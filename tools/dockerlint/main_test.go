package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
			dt, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			findings, err := lint(t.Context(), path, dt)
			if err != nil {
				t.Fatal(err)
			}
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
	dt, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	findings, err := lint(t.Context(), path, dt)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range findings {
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
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), tt.args, &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d (stdout %q, stderr %q)", code, tt.wantCode, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) {
				t.Errorf("stdout %q does not contain %q", stdout.String(), tt.wantStdout)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tt.wantStderr)
			}
			if tt.wantCode == 0 && stdout.Len() > 0 {
				t.Errorf("clean run printed %q", stdout.String())
			}
		})
	}
}
