package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	goldenfile "github.com/cryptobot-dev/cryptobot/internal/golden"
)

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), got)
}

func TestWriteFlagsShipped(t *testing.T) {
	for _, on := range []bool{true, false} {
		t.Run(onOff(on), func(t *testing.T) {
			dst := t.TempDir()
			if err := writeFlags("../../flags", dst, on); err != nil {
				t.Fatal(err)
			}
			if err := validateFlags(dst); err != nil {
				t.Fatalf("the bot would reject the rewrite: %v", err)
			}
			files, _ := filepath.Glob(filepath.Join(dst, "*.yaml"))
			shipped, _ := filepath.Glob("../../flags/*.yaml")
			if len(files) != len(shipped) || len(files) == 0 {
				t.Fatalf("wrote %d files for %d shipped", len(files), len(shipped))
			}
			for _, f := range files {
				b, _ := os.ReadFile(f)
				if strings.Contains(string(b), "targeting:") {
					t.Errorf("%s still has targeting", filepath.Base(f))
				}
			}
		})
	}
}

const flagFile = `$schema: https://flagd.dev/schema/v0/flags.json
flags:
  funding-rates:
    state: DISABLED
    variants: { "on": true, "off": false }
    defaultVariant: "off"
    targeting:
      if: [{ "==": [{ var: environment }, "staging"] }, "on", "off"]
    metadata:
      owner: enhanced.funding
metadata:
  flagSetId: cryptobot
`

func TestForceFlags(t *testing.T) {
	t.Run("on", func(t *testing.T) {
		out, err := forceFlags([]byte(flagFile), true)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "forced_on.yaml", string(out))
	})
	t.Run("off", func(t *testing.T) {
		out, err := forceFlags([]byte(flagFile), false)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "forced_off.yaml", string(out))
	})
	bad := []struct{ name, in, want string }{
		{"not yaml", "flags: [", "parse"},
		{"no flags", "metadata: {}\n", "no flags map"},
		{"flag not a map", "flags:\n  x: 1\n", `flag "x" is not a map`},
		{"no boolean variants", "flags:\n  x:\n    variants: {a: red, b: blue}\n    defaultVariant: a\n", `flag "x" has no boolean true variant`},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := forceFlags([]byte(tt.in), true)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
	t.Run("empty dir", func(t *testing.T) {
		err := writeFlags(t.TempDir(), t.TempDir(), true)
		if err == nil || !strings.Contains(err.Error(), "no flag files") {
			t.Errorf("err = %v, want no flag files", err)
		}
	})
}
