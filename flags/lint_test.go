package flags

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cryptobot-dev/cryptobot/flags/flagkey"
)

func TestLint(t *testing.T) {
	catalog := map[string]string{"f": "test flag", "g": "other flag"}
	g := strings.Replace(base, "  f:", "  g:", 1)
	tests := []struct {
		name  string
		files map[string]string
		want  []string // Problem.String() with the directory stripped
	}{
		{"clean", map[string]string{"f.yaml": base, "g.yaml": g}, nil},
		{"catalog key without a file", map[string]string{"f.yaml": base}, []string{`: flag "g" is in flags.Catalog but in no flag file`}},
		{"file key not in catalog", map[string]string{"f.yaml": base, "g.yaml": g, "h.yaml": strings.Replace(base, "  f:", "  h:", 1)},
			[]string{`/h.yaml:2: flag "h" is not in flags.Catalog (flags/flagkey)`}},
		{"on not first is a warning", map[string]string{"f.yaml": base + "    targeting:\n      fractional: [[\"off\", 75], [\"on\", 25]]\n", "g.yaml": g},
			[]string{`/f.yaml:7: warning: flag "f": list "on" first in fractional so raising its weight keeps chats already in`}},
		{"validation problems come alone", map[string]string{"f.yaml": "flags: [\n"}, []string{"/f.yaml:1: invalid YAML: did not find expected node content"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := flagDir(t, tt.files)
			probs, err := Lint(dir, catalog, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range probs {
				got = append(got, strings.TrimPrefix(p.String(), dir))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Lint = %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("missing directory", func(t *testing.T) {
		if _, err := Lint(filepath.Join(t.TempDir(), "nope"), catalog, Limits{}); err == nil {
			t.Error("want an error")
		}
	})
}

// TestShippedFlags: the files in this directory load, pass the linter, and
// are production-safe: off by default, on in staging and for the allow-list.
func TestShippedFlags(t *testing.T) {
	probs, err := Lint(".", Catalog, Limits{})
	if err != nil || len(probs) > 0 {
		t.Fatalf("Lint(flags/) = %v, %v", probs, err)
	}
	p, _ := newTestProvider(t, ".")
	for _, key := range []string{flagkey.OpenInterest, flagkey.FundingRates, flagkey.MarketAnalysis} {
		t.Run(key, func(t *testing.T) {
			cases := []struct {
				name  string
				tk    string
				attrs map[string]any
				want  bool
			}{
				{"production chat is off", "-1009999999999", map[string]any{"environment": "production"}, false},
				{"no environment is off", "12345", nil, false},
				{"staging is on", "12345", map[string]any{"environment": "staging"}, true},
				{"allow-list placeholder is on", "0", map[string]any{"environment": "production"}, true},
			}
			for _, c := range cases {
				if d := boolEval(p, key, c.tk, c.attrs); d.Value != c.want || d.Error() != nil {
					t.Errorf("%s: %v (%s, %v), want %v", c.name, d.Value, d.Reason, d.Error(), c.want)
				}
			}
		})
	}
}
