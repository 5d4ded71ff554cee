package flags

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// operators is the JsonLogic subset we evaluate, for error messages.
const operators = "if, and, or, !, ==, !=, in, var, cat, fractional, $ref"

// ruleCtx says where in a rule the compiler is.
type ruleCtx struct {
	variants map[string]any // nil: no variant checks (an evaluator on its own)
	ret      bool           // this value may become the targeting result
	via      string         // the evaluator being expanded, for messages and the nested-$ref check
	fracs    *[]fracInfo    // collects fractional bucket orders
}

func (x ruleCtx) operand() ruleCtx { x.ret = false; return x }

func (x ruleCtx) suffix() string {
	if x.via == "" {
		return ""
	}
	return fmt.Sprintf(" (in $evaluators.%s)", x.via)
}

// rule compiles a JsonLogic expression. On a problem it records it and returns
// a null literal so compilation continues and reports every problem.
func (c *compiler) rule(n *yaml.Node, x ruleCtx) node {
	n = deref(n)
	switch n.Kind {
	case yaml.ScalarNode:
		v, ok := c.scalar(n)
		if !ok {
			return literal{}
		}
		if x.ret {
			c.checkResult(n, v, x)
		}
		return literal{v}
	case yaml.SequenceNode:
		if x.ret && x.variants != nil {
			c.errf(n, "targeting returns a list, not a variant name%s", x.suffix())
		}
		items := make([]node, len(n.Content))
		vals := make([]any, len(n.Content))
		allLit := true
		for i, it := range n.Content {
			items[i] = c.rule(it, x.operand())
			if l, ok := items[i].(literal); ok {
				vals[i] = l.v
			} else {
				allLit = false
			}
		}
		if allLit {
			return literal{vals}
		}
		return array{items}
	case yaml.MappingNode:
		return c.operation(n, x)
	}
	c.errf(n, "unsupported YAML node in a rule%s", x.suffix())
	return literal{}
}

func (c *compiler) operation(n *yaml.Node, x ruleCtx) node {
	if len(n.Content) != 2 {
		c.errf(n, "a rule object must hold exactly one operator, found %d keys%s", len(n.Content)/2, x.suffix())
		return literal{}
	}
	opNode, arg := deref(n.Content[0]), deref(n.Content[1])
	op := opNode.Value
	args := []*yaml.Node{arg}
	if arg.Kind == yaml.SequenceNode {
		args = arg.Content
	}
	nodes := func(rc ruleCtx) []node {
		out := make([]node, len(args))
		for i, a := range args {
			out[i] = c.rule(a, rc)
		}
		return out
	}
	arity := func(lo, hi int) bool { return c.arity(opNode, len(args), lo, hi, x) }
	switch op {
	case "if":
		if !arity(2, -1) {
			return literal{}
		}
		out := make([]node, len(args))
		for i, a := range args {
			rc := x
			if i%2 == 0 && i+1 < len(args) {
				rc = x.operand()
			}
			out[i] = c.rule(a, rc)
		}
		return ifNode{out}
	case "and", "or":
		if !arity(1, -1) {
			return literal{}
		}
		if op == "and" {
			return andNode{nodes(x)}
		}
		return orNode{nodes(x)}
	case "!":
		if !arity(1, 1) {
			return literal{}
		}
		return notNode{c.rule(args[0], x.operand())}
	case "==", "!=":
		if !arity(2, 2) {
			return literal{}
		}
		ns := nodes(x.operand())
		return eqNode{a: ns[0], b: ns[1], neg: op == "!="}
	case "in":
		if !arity(2, 2) {
			return literal{}
		}
		c.lintInList(deref(args[1]), x)
		ns := nodes(x.operand())
		return inNode{needle: ns[0], haystack: ns[1]}
	case "var":
		return c.varOp(opNode, args, x)
	case "cat":
		if !arity(1, -1) {
			return literal{}
		}
		return catNode{nodes(x.operand())}
	case "fractional":
		return c.fractional(opNode, args, x)
	case "$ref":
		return c.ref(opNode, arg, x)
	}
	c.errf(opNode, "unknown operator %q (allowed: %s)%s", op, operators, x.suffix())
	return literal{}
}

// arity reports whether operator opNode has between lo and hi arguments (hi
// < 0: no upper bound), recording an error when it has not.
func (c *compiler) arity(opNode *yaml.Node, n, lo, hi int, x ruleCtx) bool {
	if n >= lo && (hi < 0 || n <= hi) {
		return true
	}
	want := strconv.Itoa(lo)
	switch {
	case hi < 0:
		want = "at least " + want
	case hi != lo:
		want = fmt.Sprintf("%d or %d", lo, hi)
	}
	c.errf(opNode, "%q takes %s argument(s), found %d%s", opNode.Value, want, n, x.suffix())
	return false
}

// lintInList flags unquoted numbers in a literal "in" list: YAML reads them
// as numbers, and a number never equals a string chat id.
func (c *compiler) lintInList(list *yaml.Node, x ruleCtx) {
	if list.Kind != yaml.SequenceNode {
		return
	}
	for _, it := range list.Content {
		it = deref(it)
		if t := it.ShortTag(); it.Kind == yaml.ScalarNode && (t == "!!int" || t == "!!float") {
			c.errf(it, "unquoted number %s in an \"in\" list never matches a string id: quote it (\"%s\")%s",
				it.Value, it.Value, x.suffix())
		}
	}
}

func (c *compiler) varOp(opNode *yaml.Node, args []*yaml.Node, x ruleCtx) node {
	if len(args) < 1 || len(args) > 2 {
		c.errf(opNode, "\"var\" takes a path and an optional default, found %d argument(s)%s", len(args), x.suffix())
		return literal{}
	}
	p := deref(args[0])
	if p.Kind != yaml.ScalarNode || (p.ShortTag() != "!!str" && p.ShortTag() != "!!int") {
		c.errf(p, "\"var\" path must be a literal string%s", x.suffix())
		return literal{}
	}
	v := varNode{}
	switch {
	case p.Value == "":
	case strings.HasPrefix(p.Value, "$flagd."):
		v.flagd = strings.TrimPrefix(p.Value, "$flagd.")
		if v.flagd != "flagKey" && v.flagd != "timestamp" {
			c.errf(p, "unknown property %q (allowed: $flagd.flagKey, $flagd.timestamp)%s", p.Value, x.suffix())
			return literal{}
		}
	default:
		v.path = strings.Split(p.Value, ".")
	}
	if len(args) == 2 {
		v.def = c.rule(args[1], x.operand())
	}
	return v
}

func (c *compiler) fractional(opNode *yaml.Node, args []*yaml.Node, x ruleCtx) node {
	n := fracNode{}
	if len(args) > 0 && deref(args[0]).Kind != yaml.SequenceNode {
		first := deref(args[0])
		if first.Kind == yaml.ScalarNode && first.ShortTag() != "!!str" {
			c.errf(first, "fractional bucketing value must be a string or an expression%s", x.suffix())
		}
		n.by = c.rule(first, x.operand())
		args = args[1:]
	}
	if len(args) == 0 {
		c.errf(opNode, "fractional needs at least one [variant, weight] bucket%s", x.suffix())
		return literal{}
	}
	info := fracInfo{line: opNode.Line}
	var total uint64
	for _, a := range args {
		a = deref(a)
		if a.Kind != yaml.SequenceNode || len(a.Content) < 1 || len(a.Content) > 2 {
			c.errf(a, "fractional bucket must be [variant, weight]%s", x.suffix())
			continue
		}
		name := deref(a.Content[0])
		if name.Kind != yaml.ScalarNode || name.ShortTag() != "!!str" {
			c.errf(name, "fractional variant must be a quoted variant name%s", x.suffix())
			continue
		}
		if x.ret && x.variants != nil {
			if _, ok := x.variants[name.Value]; !ok {
				c.errf(name, "fractional bucket %q is not a variant%s", name.Value, x.suffix())
			}
		}
		weight := uint64(1)
		if len(a.Content) == 2 {
			w, ok := c.weight(deref(a.Content[1]), x)
			if !ok {
				continue
			}
			weight = w
		}
		total += weight
		if total > math.MaxInt32 {
			c.errf(a, "fractional weights sum to more than %d%s", math.MaxInt32, x.suffix())
			return literal{}
		}
		n.dist = append(n.dist, fracVariant{name: name.Value, weight: weight})
		info.names = append(info.names, name.Value)
	}
	n.total = total
	if x.fracs != nil {
		*x.fracs = append(*x.fracs, info)
	}
	return n
}

func (c *compiler) weight(w *yaml.Node, x ruleCtx) (uint64, bool) {
	if w.Kind != yaml.ScalarNode || (w.ShortTag() != "!!int" && w.ShortTag() != "!!float") {
		c.errf(w, "fractional weight must be a whole number%s", x.suffix())
		return 0, false
	}
	var f float64
	if err := w.Decode(&f); err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		c.errf(w, "fractional weight %q is not a number%s", w.Value, x.suffix())
		return 0, false
	}
	switch {
	case f < 0:
		c.errf(w, "fractional weight %s is negative%s", w.Value, x.suffix())
		return 0, false
	case f != math.Trunc(f):
		c.errf(w, "fractional weight %s is not a whole number%s", w.Value, x.suffix())
		return 0, false
	case f > math.MaxInt32:
		c.errf(w, "fractional weight %s is more than %d%s", w.Value, math.MaxInt32, x.suffix())
		return 0, false
	}
	return uint64(f), true
}

func (c *compiler) ref(opNode, arg *yaml.Node, x ruleCtx) node {
	if arg.Kind != yaml.ScalarNode || arg.ShortTag() != "!!str" {
		c.errf(arg, "$ref must name an evaluator%s", x.suffix())
		return literal{}
	}
	if x.via != "" {
		c.errf(opNode, "nested $ref %q: an evaluator may not use $ref%s", arg.Value, x.suffix())
		return literal{}
	}
	ev, ok := c.evaluators[arg.Value]
	if !ok {
		c.errf(arg, "unresolved $ref %q: no such entry in $evaluators", arg.Value)
		return literal{}
	}
	if c.refs != nil {
		c.refs[arg.Value] = true
	}
	x.via = arg.Value
	return c.rule(ev, x)
}

// checkResult checks a literal the targeting rule may return.
func (c *compiler) checkResult(n *yaml.Node, v any, x ruleCtx) {
	if x.variants == nil {
		return
	}
	var name string
	switch t := v.(type) {
	case nil:
		return
	case string:
		name = t
	case bool:
		name = strconv.FormatBool(t)
	default:
		c.errf(n, "targeting returns %s, not a variant name%s", n.Value, x.suffix())
		return
	}
	if _, ok := x.variants[name]; !ok {
		c.errf(n, "targeting returns %q, which is not a variant%s", name, x.suffix())
	}
}
