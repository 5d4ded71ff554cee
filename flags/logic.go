package flags

import (
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	of "github.com/open-feature/go-sdk/openfeature"
	"github.com/twmb/murmur3"
)

// node is one compiled JsonLogic expression. Rules are compiled once per
// reload, so evaluation never parses, never takes a lock and allocates only
// where an operator builds a new value (cat, array literals with variables).
// env is passed by value so it stays on the stack.
type node interface {
	eval(e env) any
}

// env is what a rule sees during one evaluation.
type env struct {
	flagKey string
	fc      of.FlattenedContext
	now     func() time.Time
}

type literal struct{ v any }

func (l literal) eval(env) any { return l.v }

// array is an array literal holding at least one expression; all-literal
// arrays compile to a literal.
type array struct{ items []node }

func (a array) eval(e env) any {
	out := make([]any, len(a.items))
	for i, n := range a.items {
		out[i] = n.eval(e)
	}
	return out
}

// varNode reads the evaluation context by a dotted path ("user.name").
// "$flagd.flagKey" and "$flagd.timestamp" are served without building a map.
type varNode struct {
	path  []string // nil: the whole context
	def   node     // nil: no default
	flagd string   // "flagKey" or "timestamp" for the $flagd properties
}

func (v varNode) eval(e env) any {
	var out any
	switch {
	case v.flagd == "flagKey":
		out = e.flagKey
	case v.flagd == "timestamp":
		out = float64(e.now().Unix())
	case v.path == nil:
		out = map[string]any(e.fc)
	default:
		out = lookup(map[string]any(e.fc), v.path)
	}
	if out == nil && v.def != nil {
		return v.def.eval(e)
	}
	return out
}

func lookup(cur any, path []string) any {
	for _, seg := range path {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[seg]
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			cur = c[i]
		default:
			return nil
		}
	}
	return cur
}

// ifNode is JsonLogic "if": [cond, then, cond, then, ..., else].
type ifNode struct{ args []node }

func (n ifNode) eval(e env) any {
	i := 0
	for ; i+1 < len(n.args); i += 2 {
		if truthy(n.args[i].eval(e)) {
			return n.args[i+1].eval(e)
		}
	}
	if i < len(n.args) {
		return n.args[i].eval(e)
	}
	return nil
}

// andNode returns the first falsy value, or the last value.
type andNode struct{ args []node }

func (n andNode) eval(e env) any {
	var v any
	for _, a := range n.args {
		if v = a.eval(e); !truthy(v) {
			return v
		}
	}
	return v
}

// orNode returns the first truthy value, or the last value.
type orNode struct{ args []node }

func (n orNode) eval(e env) any {
	var v any
	for _, a := range n.args {
		if v = a.eval(e); truthy(v) {
			return v
		}
	}
	return v
}

type notNode struct{ arg node }

func (n notNode) eval(e env) any { return !truthy(n.arg.eval(e)) }

// eqNode is "==" (neg false) or "!=" (neg true), with JavaScript's loose equality.
type eqNode struct {
	a, b node
	neg  bool
}

func (n eqNode) eval(e env) any { return looseEqual(n.a.eval(e), n.b.eval(e)) != n.neg }

// inNode is "in": membership (strict equality) in an array, or substring in a string.
type inNode struct{ needle, haystack node }

func (n inNode) eval(e env) any {
	needle := n.needle.eval(e)
	switch h := n.haystack.eval(e).(type) {
	case []any:
		for _, x := range h {
			if strictEqual(needle, x) {
				return true
			}
		}
		return false
	case string:
		return strings.Contains(h, jsString(needle))
	default:
		return false
	}
}

// catNode joins the string forms of its arguments; null joins as "" (Array.join).
type catNode struct{ args []node }

func (n catNode) eval(e env) any {
	var b strings.Builder
	for _, a := range n.args {
		b.WriteString(jsString(a.eval(e)))
	}
	return b.String()
}

// fracVariant is one bucket of a fractional rule; name is boxed once at compile time.
type fracVariant struct {
	name   any
	weight uint64
}

// fracNode is flagd's "fractional" with the v2 (high-precision) bucketing:
// bucket = (murmur3(value) * totalWeight) >> 32, and the first variant whose
// running weight sum exceeds the bucket wins.
type fracNode struct {
	by    node // nil: flagKey + targetingKey
	dist  []fracVariant
	total uint64
}

func (n fracNode) eval(e env) any {
	var h uint32
	if n.by == nil {
		tk, _ := e.fc[of.TargetingKey].(string)
		if tk == "" {
			return nil
		}
		h = hashPair(e.flagKey, tk)
	} else {
		s, ok := n.by.eval(e).(string)
		if !ok {
			return nil
		}
		h = murmur3.StringSum32(s)
	}
	return n.pick(h)
}

func (n fracNode) pick(h uint32) any {
	bucket := (uint64(h) * n.total) >> 32
	var end uint64
	for _, v := range n.dist {
		end += v.weight
		if bucket < end {
			return v.name
		}
	}
	return nil // all weights zero
}

// hashPair hashes a+b without allocating for the usual short keys.
func hashPair(a, b string) uint32 {
	var buf [128]byte
	if len(a)+len(b) > len(buf) {
		return murmur3.StringSum32(a + b)
	}
	n := copy(buf[:], a)
	n += copy(buf[n:], b)
	return murmur3.Sum32(buf[:n])
}

// truthy is JsonLogic truthiness: false, null, 0, NaN, "" and [] are false.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	}
	if f, ok := number(v); ok {
		return f != 0 && !math.IsNaN(f)
	}
	return true
}

// number reports v as a float64 when it is any Go numeric type.
func number(v any) (float64, bool) {
	switch rv := reflect.ValueOf(v); {
	case rv.CanFloat():
		return rv.Float(), true
	case rv.CanInt():
		return float64(rv.Int()), true
	case rv.CanUint():
		return float64(rv.Uint()), true
	}
	return 0, false
}

// jsNumber is JavaScript's ToNumber for strings: trimmed, "" is 0, junk is NaN.
func jsNumber(s string) float64 {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return math.NaN()
	}
	return f
}

// looseEqual is JavaScript's "==" over JSON values: null equals only null,
// a string meets a number as a number, a boolean compares as 0 or 1, and
// arrays and objects are never equal to anything.
func looseEqual(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if ab, ok := a.(bool); ok {
		return looseEqual(boolNumber(ab), b)
	}
	if bb, ok := b.(bool); ok {
		return looseEqual(a, boolNumber(bb))
	}
	as, aStr := a.(string)
	bs, bStr := b.(string)
	af, aNum := number(a)
	bf, bNum := number(b)
	switch {
	case aStr && bStr:
		return as == bs
	case aNum && bNum:
		return af == bf
	case aNum && bStr:
		return af == jsNumber(bs)
	case aStr && bNum:
		return jsNumber(as) == bf
	}
	return false
}

func boolNumber(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// strictEqual is JavaScript's "===" over JSON values (what Array.indexOf uses).
func strictEqual(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	}
	af, aNum := number(a)
	bf, bNum := number(b)
	return aNum && bNum && af == bf
}

// jsString is the string form JavaScript's Array.join gives a value.
func jsString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case []any:
		parts := make([]string, len(x))
		for i, p := range x {
			parts[i] = jsString(p)
		}
		return strings.Join(parts, ",")
	case map[string]any:
		return "[object Object]"
	}
	if f, ok := number(v); ok {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return ""
}
