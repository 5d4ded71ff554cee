package flags

import (
	"path/filepath"
	"strings"
	"testing"
)

// base is a valid flag; line numbers in the cases below count from it.
//
//	1 flags:
//	2   f:
//	3     state: ENABLED
//	4     variants: { "on": true, "off": false }
//	5     defaultVariant: "off"
const base = `flags:
  f:
    state: ENABLED
    variants: { "on": true, "off": false }
    defaultVariant: "off"
`

func TestValidateRejects(t *testing.T) {
	tests := []struct {
		name     string
		files    map[string]string
		file     string // file of the expected problem ("" for the directory)
		line     int
		contains string
	}{
		{"broken YAML", map[string]string{"a.yaml": base + "    targeting: [\n"}, "a.yaml", 6, "invalid YAML"},
		// yaml.v3 reports the line of the mapping the bad key breaks, not the key's own line.
		{"bad indentation", map[string]string{"a.yaml": "flags:\n  f:\n    state: ENABLED\n   variants: x\n"}, "a.yaml", 1, "invalid YAML"},
		{"empty file", map[string]string{"a.yaml": ""}, "a.yaml", 0, "empty file"},
		{"whitespace file", map[string]string{"a.yaml": "\n  \n"}, "a.yaml", 0, "empty file"},
		{"comments only", map[string]string{"a.yaml": "# nothing yet\n"}, "a.yaml", 0, "empty file"},
		{"two documents", map[string]string{"a.yaml": base + "---\nflags: {}\n"}, "a.yaml", 6, "more than one YAML document"},
		{"top level not a mapping", map[string]string{"a.yaml": "- flags\n"}, "a.yaml", 1, "top level must be a mapping"},
		{"missing flags", map[string]string{"a.yaml": "$schema: https://flagd.dev/schema/v0/flags.json\n"}, "a.yaml", 1, "missing top-level flags"},
		{"flags empty", map[string]string{"a.yaml": "flags: {}\n"}, "a.yaml", 1, "defines no flag"},
		{"unknown top-level field", map[string]string{"a.yaml": base + "flag: {}\n"}, "a.yaml", 6, `unknown top-level field "flag"`},
		{"unknown flag field", map[string]string{"a.yaml": base + "    defaultvariant: \"on\"\n"}, "a.yaml", 6, `unknown field "defaultvariant"`},
		{"missing state", map[string]string{"a.yaml": "flags:\n  f:\n    variants: { \"on\": true }\n"}, "a.yaml", 3, "missing state"},
		{"bad state", map[string]string{"a.yaml": strings.Replace(base, "ENABLED", "enabled", 1)}, "a.yaml", 3, "state must be ENABLED or DISABLED"},
		{"missing variants", map[string]string{"a.yaml": "flags:\n  f:\n    state: ENABLED\n"}, "a.yaml", 3, "missing variants"},
		{"empty variants", map[string]string{"a.yaml": "flags:\n  f:\n    state: ENABLED\n    variants: {}\n"}, "a.yaml", 4, "variants is empty"},
		{"null variant", map[string]string{"a.yaml": "flags:\n  f:\n    state: ENABLED\n    variants:\n      a: ~\n"}, "a.yaml", 5, "has no value"},
		{"mixed variant types", map[string]string{"a.yaml": "flags:\n  f:\n    state: ENABLED\n    variants:\n      a: true\n      b: \"x\"\n"}, "a.yaml", 6, "all variants must share one type"},
		{"defaultVariant unknown", map[string]string{"a.yaml": strings.Replace(base, `defaultVariant: "off"`, `defaultVariant: "of"`, 1)}, "a.yaml", 5, `defaultVariant "of" is not one of its variants`},
		{"defaultVariant not a string", map[string]string{"a.yaml": strings.Replace(base, `defaultVariant: "off"`, `defaultVariant: false`, 1)}, "a.yaml", 5, "defaultVariant must be a quoted variant name"},
		{"duplicate key in file", map[string]string{"a.yaml": base + "    state: DISABLED\n"}, "a.yaml", 6, `duplicate key "state"`},
		{"duplicate flag across files", map[string]string{"a.yaml": base, "b.yaml": "# other\n" + base}, "b.yaml", 3, `flag "f" is already defined in`},
		{"targeting returns unknown variant", map[string]string{"a.yaml": base + "    targeting:\n      if: [true, \"onn\", \"off\"]\n"}, "a.yaml", 7, `targeting returns "onn", which is not a variant`},
		{"targeting returns a number", map[string]string{"a.yaml": base + "    targeting: { if: [true, 1, \"off\"] }\n"}, "a.yaml", 6, "targeting returns 1"},
		{"targeting returns a list", map[string]string{"a.yaml": base + "    targeting: [\"on\"]\n"}, "a.yaml", 6, "returns a list"},
		{"unknown operator", map[string]string{"a.yaml": base + "    targeting:\n      if: [{ starts_with: [{ var: chatType }, \"g\"] }, \"on\", \"off\"]\n"}, "a.yaml", 7, `unknown operator "starts_with"`},
		{"two operators in one object", map[string]string{"a.yaml": base + "    targeting: { if: [true, \"on\"], or: [] }\n"}, "a.yaml", 6, "exactly one operator"},
		{"bad arity", map[string]string{"a.yaml": base + "    targeting: { if: [{ \"==\": [1] }, \"on\"] }\n"}, "a.yaml", 6, `"==" takes 2 argument(s), found 1`},
		{"unknown $flagd property", map[string]string{"a.yaml": base + "    targeting: { if: [{ var: $flagd.nope }, \"on\"] }\n"}, "a.yaml", 6, "unknown property"},
		{"unresolved $ref", map[string]string{"a.yaml": base + "    targeting: { if: [{ $ref: admins }, \"on\"] }\n"}, "a.yaml", 6, `unresolved $ref "admins"`},
		{"nested $ref", map[string]string{"a.yaml": base + "$evaluators:\n  a: { $ref: b }\n  b: true\n"}, "a.yaml", 7, "nested $ref"},
		{"unquoted number in in-list", map[string]string{"a.yaml": base + "    targeting:\n      if:\n        - in: [{ var: targetingKey }, [\"42\", -1001234567890]]\n        - \"on\"\n"}, "a.yaml", 8, "unquoted number -1001234567890"},
		{"unquoted number in evaluator", map[string]string{"a.yaml": base + "$evaluators:\n  admins:\n    in:\n      - var: targetingKey\n      - - 42\n"}, "a.yaml", 10, "unquoted number 42"},
		{"negative weight", map[string]string{"a.yaml": base + "    targeting: { fractional: [[\"on\", -5], [\"off\", 105]] }\n"}, "a.yaml", 6, "is negative"},
		{"fractional weight not whole", map[string]string{"a.yaml": base + "    targeting: { fractional: [[\"on\", 2.5], [\"off\", 97.5]] }\n"}, "a.yaml", 6, "not a whole number"},
		{"fractional weight a string", map[string]string{"a.yaml": base + "    targeting: { fractional: [[\"on\", \"5\"], [\"off\"]] }\n"}, "a.yaml", 6, "must be a whole number"},
		{"weights above MaxInt32", map[string]string{"a.yaml": base + "    targeting: { fractional: [[\"on\", 2147483647], [\"off\", 1]] }\n"}, "a.yaml", 6, "more than 2147483647"},
		{"fractional unknown variant", map[string]string{"a.yaml": base + "    targeting: { fractional: [[\"on\", 5], [\"of\", 95]] }\n"}, "a.yaml", 6, `fractional bucket "of" is not a variant`},
		{"fractional no buckets", map[string]string{"a.yaml": base + "    targeting: { fractional: [{ var: targetingKey }] }\n"}, "a.yaml", 6, "at least one"},
		{"merge key", map[string]string{"a.yaml": "flags:\n  f:\n    <<: { state: ENABLED }\n    variants: { a: true }\n"}, "a.yaml", 3, "merge keys"},
		{"unsupported scalar", map[string]string{"a.yaml": "flags:\n  f:\n    state: ENABLED\n    variants: { a: !!binary aGVsbG8= }\n"}, "a.yaml", 4, "unsupported value"},
		{"no flag files", map[string]string{"notes.txt": "hello"}, "", 0, "no flag files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := flagDir(t, tt.files)
			probs, err := Validate(dir)
			if err != nil {
				t.Fatal(err)
			}
			wantFile := dir
			if tt.file != "" {
				wantFile = filepath.Join(dir, tt.file)
			}
			for _, p := range probs {
				if p.File == wantFile && p.Line == tt.line && strings.Contains(p.Reason, tt.contains) && !p.Warning {
					return
				}
			}
			t.Errorf("want a problem %s:%d containing %q; got %v", tt.file, tt.line, tt.contains, probs)
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
	}{
		{"minimal", map[string]string{"a.yaml": base}},
		{"yml extension and several files", map[string]string{"a.yml": base, "b.yaml": strings.Replace(base, "  f:", "  g:", 1)}},
		{"null targeting", map[string]string{"a.yaml": base + "    targeting: ~\n"}},
		{"empty targeting", map[string]string{"a.yaml": base + "    targeting: {}\n"}},
		{"no defaultVariant", map[string]string{"a.yaml": "flags:\n  f:\n    state: DISABLED\n    variants: { a: 1, b: 2.5 }\n"}},
		{"object variants", map[string]string{"a.yaml": "flags:\n  f:\n    state: ENABLED\n    variants:\n      a: { limit: 5 }\n      b: [1, 2]\n    defaultVariant: a\n"}},
		{"boolean shorthand result", map[string]string{"a.yaml": "flags:\n  f:\n    state: ENABLED\n    variants: { \"true\": 1, \"false\": 0 }\n    targeting: { \"==\": [{ var: chatType }, \"group\"] }\n"}},
		{"ids in evaluator", map[string]string{"a.yaml": base + "    targeting: { if: [{ $ref: admins }, \"on\"] }\n$evaluators:\n  admins: { in: [{ var: targetingKey }, [\"42\", \"-100\"]] }\n"}},
		{"cat bucketing", map[string]string{"a.yaml": base + "    targeting:\n      fractional: [{ cat: [\"cohort-1\", { var: targetingKey }] }, [\"on\", 10], [\"off\", 90]]\n"}},
		{"metadata", map[string]string{"a.yaml": base + "    metadata: { owner: x, version: 2 }\nmetadata: { flagSetId: cryptobot }\n"}},
		{"anchors", map[string]string{"a.yaml": "flags:\n  f:\n    state: ENABLED\n    variants: &v { \"on\": true, \"off\": false }\n    defaultVariant: \"off\"\n  g:\n    state: ENABLED\n    variants: *v\n"}},
		{"hidden and other files ignored", map[string]string{"a.yaml": base, ".a.yaml.swp": "junk", "README.md": "# x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := flagDir(t, tt.files)
			probs, err := Validate(dir)
			if err != nil || len(probs) > 0 {
				t.Errorf("Validate = %v, %v; want no problems", probs, err)
			}
		})
	}
}

func TestValidateMissingDir(t *testing.T) {
	if _, err := Validate(filepath.Join(t.TempDir(), "nope")); err == nil {
		t.Error("Validate on a missing directory: want an error")
	}
}

func TestProblemString(t *testing.T) {
	tests := []struct {
		name string
		p    Problem
		want string
	}{
		{"with line", Problem{File: "flags/a.yaml", Line: 7, Reason: "bad"}, "flags/a.yaml:7: bad"},
		{"without line", Problem{File: "flags/a.yaml", Reason: "empty file"}, "flags/a.yaml: empty file"},
		{"warning", Problem{File: "f.yaml", Line: 2, Reason: "list on first", Warning: true}, "f.yaml:2: warning: list on first"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}
