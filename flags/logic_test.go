package flags

import (
	"reflect"
	"testing"
	"time"

	of "github.com/open-feature/go-sdk/openfeature"
	"go.yaml.in/yaml/v3"
)

// compileExpr compiles one JsonLogic expression with no variant checks.
func compileExpr(t *testing.T, src string) node {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatalf("yaml: %v", err)
	}
	c := &compiler{file: "expr.yaml", evaluators: map[string]*yaml.Node{}}
	n := c.rule(doc.Content[0], ruleCtx{})
	if len(c.probs) > 0 {
		t.Fatalf("compile %s: %v", src, c.probs)
	}
	return n
}

func TestOperators(t *testing.T) {
	ctx := of.FlattenedContext{
		of.TargetingKey: "42",
		"chatType":      "group",
		"environment":   "staging",
		"userNum":       int64(5),
		"user":          map[string]any{"name": "jack", "tags": []any{"a", "b"}},
	}
	tests := []struct {
		name string
		expr string
		want any
	}{
		{"literal string", `"on"`, "on"},
		{"var", `{var: chatType}`, "group"},
		{"var dotted path", `{var: user.name}`, "jack"},
		{"var array index", `{var: user.tags.1}`, "b"},
		{"var missing is null", `{var: nope}`, nil},
		{"var missing nested is null", `{var: user.name.first}`, nil},
		{"var default", `{var: [nope, "dflt"]}`, "dflt"},
		{"var default unused", `{var: [chatType, "dflt"]}`, "group"},
		{"var targetingKey", `{var: targetingKey}`, "42"},
		{"var flagd flagKey", `{var: $flagd.flagKey}`, "my-flag"},
		{"var flagd timestamp", `{var: $flagd.timestamp}`, float64(1_700_000_000)},
		{"in array hit", `{in: [{var: targetingKey}, ["7", "42"]]}`, true},
		{"in array miss", `{in: [{var: targetingKey}, ["7", "43"]]}`, false},
		{"in array is strict", `{in: [{var: userNum}, ["5"]]}`, false},
		{"in string", `{in: ["ell", "hello"]}`, true},
		{"in string miss", `{in: ["xyz", "hello"]}`, false},
		{"in non-container", `{in: ["x", {var: userNum}]}`, false},
		{"in dynamic array", `{in: ["group", [{var: chatType}, "private"]]}`, true},
		{"== strings", `{"==": [{var: environment}, "staging"]}`, true},
		{"== number and string", `{"==": [1, "1"]}`, true},
		{"== number and decimal string", `{"==": ["1.0", 1]}`, true},
		{"== int64 context", `{"==": [{var: userNum}, "5"]}`, true},
		{"== bool and number", `{"==": [true, 1]}`, true},
		{"== null null", `{"==": [null, null]}`, true},
		{"== null zero", `{"==": [null, 0]}`, false},
		{"== missing and empty", `{"==": [{var: nope}, ""]}`, false},
		{"== junk string", `{"==": ["abc", 0]}`, false},
		{"== empty string zero", `{"==": ["", 0]}`, true},
		{"!= differs", `{"!=": [{var: chatType}, "private"]}`, true},
		{"!= same", `{"!=": [{var: chatType}, "group"]}`, false},
		{"! zero", `{"!": [0]}`, true},
		{"! empty string", `{"!": [""]}`, true},
		{"! string zero is truthy", `{"!": ["0"]}`, false},
		{"! empty list", `{"!": [[]]}`, true},
		{"! null", `{"!": [null]}`, true},
		{"! unary", `{"!": {var: nope}}`, true},
		{"and all truthy returns last", `{and: [1, "x"]}`, "x"},
		{"and returns first falsy", `{and: [0, "x"]}`, float64(0)},
		{"or returns first truthy", `{or: [0, "", "y"]}`, "y"},
		{"or all falsy returns last", `{or: [0, ""]}`, ""},
		{"if first branch", `{if: [true, "a", "b"]}`, "a"},
		{"if else-if", `{if: [false, "a", true, "b", "c"]}`, "b"},
		{"if else", `{if: [false, "a", "c"]}`, "c"},
		{"if no else is null", `{if: [false, "a"]}`, nil},
		{"if on context", `{if: [{"==": [{var: environment}, "staging"]}, "on", "off"]}`, "on"},
		{"cat", `{cat: ["a", 1, null, true, 2.5]}`, "a1true2.5"},
		{"cat context", `{cat: ["cohort-", {var: targetingKey}]}`, "cohort-42"},
		{"cat list", `{cat: [["a", "b"]]}`, "a,b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := compileExpr(t, tt.expr)
			e := env{flagKey: "my-flag", fc: ctx, now: func() time.Time { return time.Unix(1_700_000_000, 0) }}
			if got := n.eval(e); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s = %#v, want %#v", tt.expr, got, tt.want)
			}
		})
	}
}

func TestTruthy(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want bool
	}{
		{"nil", nil, false},
		{"false", false, false},
		{"true", true, true},
		{"zero", 0.0, false},
		{"int zero", int64(0), false},
		{"int", 3, true},
		{"empty string", "", false},
		{"string", "0", true},
		{"empty list", []any{}, false},
		{"list", []any{nil}, true},
		{"object", map[string]any{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := truthy(tt.v); got != tt.want {
				t.Errorf("truthy(%#v) = %v, want %v", tt.v, got, tt.want)
			}
		})
	}
}
