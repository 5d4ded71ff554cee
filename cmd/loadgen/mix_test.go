package main

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestParseMix(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		weights map[string]int
		wantErr string
	}{
		{"default", defaultMix, map[string]int{"price": 60, "oi": 10, "funding": 10, "analysis": 10, "help": 5, "garbage": 5}, ""},
		{"omitted categories are zero, spaces allowed", "price=1, help=3", map[string]int{"price": 1, "help": 3}, ""},
		{"unknown category", "price=1,pirce=2", nil, `unknown category "pirce"`},
		{"not name=weight", "price", nil, `"price" is not name=weight`},
		{"negative", "price=-1", nil, "non-negative integer"},
		{"fraction", "price=0.5", nil, "non-negative integer"},
		{"twice", "price=1,price=2", nil, `"price" given twice`},
		{"all zero", "price=0,help=0", nil, "add up to zero"},
		{"empty", "", nil, "is not name=weight"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := parseMix(tt.in)
			if errorCase(t, err, tt.wantErr) {
				return
			}
			for i, c := range categories {
				if m.weights[i] != tt.weights[c.name] {
					t.Errorf("%s = %d, want %d", c.name, m.weights[i], tt.weights[c.name])
				}
			}
		})
	}
}

// With a fixed seed the draw is deterministic; the shares must follow the
// weights and only the chosen categories may appear.
func TestMixPick(t *testing.T) {
	m, err := parseMix("price=60,oi=10,funding=10,analysis=10,help=5,garbage=5")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 20000
	got := map[string]int{}
	for range n {
		got[m.pick(rng).kind]++
	}
	share := func(kinds ...string) float64 {
		s := 0
		for _, k := range kinds {
			s += got[k]
		}
		return float64(s) / n
	}
	tests := []struct {
		name  string
		kinds []string
		want  float64
	}{
		{"price", []string{kindPrice}, 0.60},
		{"oi", []string{kindOI}, 0.10},
		{"funding", []string{kindFunding}, 0.10},
		{"analysis", []string{kindAnalysis}, 0.10},
		{"help", []string{kindHelp}, 0.05},
		{"garbage", []string{kindUnknown, kindText, kindUsage, kindUnknownPair}, 0.05},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if s := share(tt.kinds...); s < tt.want-0.02 || s > tt.want+0.02 {
				t.Errorf("share %.3f, want %.2f ± 0.02", s, tt.want)
			}
		})
	}

	only, _ := parseMix("help=1")
	for range 100 {
		if c := only.pick(rng); c.text != "/help" {
			t.Fatalf("help-only mix picked %q", c.text)
		}
	}
}

func TestMixInteractionCategories(t *testing.T) {
	m, err := parseMix("price=6,inline=2,press=2,alert=1")
	if err != nil {
		t.Fatal(err)
	}
	if !m.uses(kindInline) || !m.uses(kindPress) || !m.uses(kindAlert) || m.uses("help") {
		t.Errorf("uses: %+v", m)
	}
	r := rand.New(rand.NewPCG(1, 2))
	alert, _ := parseMix("alert=1")
	seen := map[string]bool{}
	for range 200 {
		c := alert.pick(r)
		f := strings.Fields(c.text)
		if c.kind != kindAlert || len(f) != 4 || f[0] != "/alert" || (f[2] != "above" && f[2] != "below") {
			t.Fatalf("alert command %+v", c)
		}
		seen[c.text] = true
	}
	if len(seen) < 190 {
		t.Errorf("%d distinct alert commands in 200: levels should vary", len(seen))
	}
}
