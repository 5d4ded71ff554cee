package flags

import (
	"bytes"
	"context"
	"encoding/base64"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	of "github.com/open-feature/go-sdk/openfeature"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestFractionalTestbedV2 replays the flagd-testbed @fractional-v2 vectors.
func TestFractionalTestbedV2(t *testing.T) {
	p, _ := newTestProvider(t, "testdata/testbed")
	if s := p.Status(); !s.Valid {
		t.Fatalf("testbed flags rejected: %s", s.LastError)
	}
	user := func(name string) of.FlattenedContext {
		return of.FlattenedContext{"user": map[string]any{"name": name}}
	}
	tk := func(key string) of.FlattenedContext { return of.FlattenedContext{of.TargetingKey: key} }
	tests := []struct {
		name       string
		flag       string
		fc         of.FlattenedContext
		want       string
		wantReason of.Reason
	}{
		{"jack", "fractional-flag", user("jack"), "hearts", of.TargetingMatchReason},
		{"queen", "fractional-flag", user("queen"), "spades", of.TargetingMatchReason},
		{"ten", "fractional-flag", user("ten"), "clubs", of.TargetingMatchReason},
		{"nine", "fractional-flag", user("nine"), "diamonds", of.TargetingMatchReason},
		{"3", "fractional-flag", user("3"), "clubs", of.TargetingMatchReason},
		// The testbed's v2 shorthand table heads its column "targeting key" while the step reads
		// <targeting_key>, so its rows never bind; jon@company.com is left out (v2 gives "heads").
		{"shorthand jane", "fractional-flag-shorthand", tk("jane@company.com"), "tails", of.TargetingMatchReason},
		{"A seven", "fractional-flag-A-shared-seed", user("seven"), "hearts", of.TargetingMatchReason},
		{"A eight", "fractional-flag-A-shared-seed", user("eight"), "diamonds", of.TargetingMatchReason},
		{"A nine", "fractional-flag-A-shared-seed", user("nine"), "clubs", of.TargetingMatchReason},
		{"A two", "fractional-flag-A-shared-seed", user("two"), "spades", of.TargetingMatchReason},
		{"B seven", "fractional-flag-B-shared-seed", user("seven"), "ace-of-hearts", of.TargetingMatchReason},
		{"B eight", "fractional-flag-B-shared-seed", user("eight"), "ace-of-diamonds", of.TargetingMatchReason},
		{"B nine", "fractional-flag-B-shared-seed", user("nine"), "ace-of-clubs", of.TargetingMatchReason},
		{"B two", "fractional-flag-B-shared-seed", user("two"), "ace-of-spades", of.TargetingMatchReason},
		{"single entry", "fractional-single-entry-flag", tk("some-targeting-key"), "single", of.TargetingMatchReason},
		{"edge ejOoVL", "fractional-hash-edge-flag", tk("ejOoVL"), "lower", of.TargetingMatchReason},
		{"edge bY9fO-", "fractional-hash-edge-flag", tk("bY9fO-"), "lower", of.TargetingMatchReason},
		{"edge SI7p-", "fractional-hash-edge-flag", tk("SI7p-"), "lower", of.TargetingMatchReason},
		{"edge 6LvT0", "fractional-hash-edge-flag", tk("6LvT0"), "upper", of.TargetingMatchReason},
		{"edge ceQdGm", "fractional-hash-edge-flag", tk("ceQdGm"), "upper", of.TargetingMatchReason},
		{"null bucket key", "fractional-null-bucket-key-flag", tk("any-user"), "fallback", of.DefaultReason},
		{"zero weights", "fractional-zero-weights-flag", tk("any-user"), "fallback", of.DefaultReason},
		{"missing targeting key", "fractional-single-entry-flag", of.FlattenedContext{}, "fallback", of.DefaultReason},
		{"empty targeting key", "fractional-single-entry-flag", tk(""), "fallback", of.DefaultReason},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := p.StringEvaluation(context.Background(), tt.flag, "code-default", tt.fc)
			if d.Value != tt.want || d.Reason != tt.wantReason {
				t.Errorf("%s = %q (%s, %v), want %q (%s)", tt.flag, d.Value, d.Reason, d.Error(), tt.want, tt.wantReason)
			}
		})
	}
}

// TestFractionalBoundaries checks the v2 arithmetic at the bucket edges.
func TestFractionalBoundaries(t *testing.T) {
	n := fracNode{dist: []fracVariant{{"on", 25}, {"off", 75}}, total: 100}
	tests := []struct {
		name string
		h    uint32
		want any
	}{
		{"hash 0", 0, "on"},
		{"last hash of bucket 24", uint32((uint64(25)<<32)/100) - 1, "on"},
		{"first hash of bucket 25", uint32((uint64(25) << 32) / 100), "off"},
		{"max hash", ^uint32(0), "off"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := n.pick(tt.h); got != tt.want {
				t.Errorf("pick(%d) = %v, want %v", tt.h, got, tt.want)
			}
		})
	}
}

const analysisFlag = `flags:
  advanced-analysis:
    state: ENABLED
    variants: { "on": true, "off": false }
    defaultVariant: "off"
    targeting:
      fractional: [["on", 25], ["off", 75]]
`

// TestFractionalGolden is the reference's bit-exact check: 100,000 chat ids,
// exactly 24,782 "on", and the assignment itself pinned in a bitmap.
func TestFractionalGolden(t *testing.T) {
	dir := flagDir(t, map[string]string{"analysis.yaml": analysisFlag})
	p, _ := newTestProvider(t, dir)
	const first, count = 100_000_000, 100_000
	bitmap := make([]byte, count/8)
	on := 0
	for i := range count {
		d := boolEval(p, "advanced-analysis", strconv.Itoa(first+i), nil)
		if d.Error() != nil || d.Reason != of.TargetingMatchReason {
			t.Fatalf("chat %d: %v %s", first+i, d.Error(), d.Reason)
		}
		if d.Value {
			on++
			bitmap[i/8] |= 1 << (i % 8)
		}
	}
	if on != 24_782 {
		t.Errorf("%d chats on, want 24782 (flagd v2 bucketing)", on)
	}
	var buf bytes.Buffer
	buf.WriteString("# advanced-analysis [[on,25],[off,75]]: bit i (LSB first) set = chat 100000000+i is on\n")
	enc := base64.StdEncoding.EncodeToString(bitmap)
	for len(enc) > 76 {
		buf.WriteString(enc[:76] + "\n")
		enc = enc[76:]
	}
	buf.WriteString(enc + "\n")
	golden := filepath.Join("testdata", "fractional-advanced-analysis.golden")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		got, wantLines := strings.Split(buf.String(), "\n"), strings.Split(string(want), "\n")
		for i := range min(len(got), len(wantLines)) {
			if got[i] != wantLines[i] {
				t.Fatalf("assignment differs from %s at line %d", golden, i+1)
			}
		}
		t.Fatalf("assignment differs from %s in length", golden)
	}
}

// TestRollout25 checks a 25 % rollout over 10,000 supergroup-style ids lands
// in 23–27 % and is the same for two provider instances.
func TestRollout25(t *testing.T) {
	dir := flagDir(t, map[string]string{"analysis.yaml": analysisFlag})
	p1, _ := newTestProvider(t, dir)
	p2, _ := newTestProvider(t, dir)
	on := 0
	for i := range 10_000 {
		chat := strconv.FormatInt(-1001000000000-int64(i)*7919, 10)
		a := boolEval(p1, "advanced-analysis", chat, nil)
		b := boolEval(p2, "advanced-analysis", chat, nil)
		if a.Value != b.Value {
			t.Fatalf("chat %s: instances disagree", chat)
		}
		if a.Value {
			on++
		}
	}
	if on < 2300 || on > 2700 {
		t.Errorf("%d of 10000 chats on, want 23–27 %%", on)
	}
}
