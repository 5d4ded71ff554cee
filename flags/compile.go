package flags

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	of "github.com/open-feature/go-sdk/openfeature"
	"go.yaml.in/yaml/v3"
)

// Problem is one reason a flag directory is rejected, or a lint warning.
type Problem struct {
	File    string // the file's path (directory joined with its name), or the directory itself
	Line    int    // 1-based; 0 when the problem concerns a whole file or directory
	Reason  string
	Warning bool // advice from the linter; never rejects a flag set
}

// String formats the problem as "file:line: reason" (no line when it is 0).
func (p Problem) String() string {
	reason := p.Reason
	if p.Warning {
		reason = "warning: " + reason
	}
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, reason)
	}
	return fmt.Sprintf("%s: %s", p.File, reason)
}

// valueKind is the one type all variants of a flag share.
type valueKind uint8

const (
	kindBool valueKind = iota + 1
	kindString
	kindNumber
	kindObject
)

func (k valueKind) String() string {
	switch k {
	case kindBool:
		return "boolean"
	case kindString:
		return "string"
	case kindNumber:
		return "number"
	case kindObject:
		return "object"
	}
	return "unknown"
}

// flagDef is one compiled flag. It is immutable once its set is published.
type flagDef struct {
	key         string
	file        string
	line        int
	disabled    bool
	kind        valueKind
	variants    map[string]any
	defVariant  string // "" when the file names none
	rule        node   // nil: static
	fracs       []fracInfo
	meta        of.FlagMetadata
	static      of.ProviderResolutionDetail // the answer when rule is nil
	fingerprint string                      // canonical definition, to report changed keys
}

// fracInfo records a fractional rule's bucket order for the linter.
type fracInfo struct {
	line  int
	names []string
}

// flagSet is every flag loaded from one directory.
type flagSet struct {
	flags map[string]*flagDef
	files []string
	keys  []string
}

// source is one flag file as read from disk.
type source struct {
	path string
	data []byte
}

// compileSet validates and compiles every source; any problem rejects the
// set. More than maxFlags flags in all rejects it before the excess is compiled.
func compileSet(dir string, srcs []source, maxFlags int) (*flagSet, []Problem) {
	if len(srcs) == 0 {
		return nil, []Problem{{File: dir, Reason: "no flag files (*.yaml, *.yml)"}}
	}
	set := &flagSet{flags: map[string]*flagDef{}}
	var probs []Problem
	for _, s := range srcs {
		set.files = append(set.files, s.path)
		flags, ps, capped := compileFile(s.path, s.data, maxFlags-len(set.flags))
		if capped {
			return nil, []Problem{{File: s.path, Reason: fmt.Sprintf("the flag set would hold more than %d flags (flags.max_flags)", maxFlags)}}
		}
		probs = append(probs, ps...)
		for _, f := range flags {
			if prev, dup := set.flags[f.key]; dup {
				probs = append(probs, Problem{File: f.file, Line: f.line,
					Reason: fmt.Sprintf("flag %q is already defined in %s:%d", f.key, prev.file, prev.line)})
				continue
			}
			set.flags[f.key] = f
		}
	}
	if len(probs) > 0 {
		return nil, dedupe(probs)
	}
	for k := range set.flags {
		set.keys = append(set.keys, k)
	}
	slices.Sort(set.keys)
	return set, nil
}

func dedupe(ps []Problem) []Problem {
	seen := map[Problem]bool{}
	out := ps[:0]
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// compiler holds one file's state while it is compiled.
type compiler struct {
	file       string
	probs      []Problem
	evaluators map[string]*yaml.Node
	refs       map[string]bool // evaluators the current flag uses
}

func (c *compiler) errf(n *yaml.Node, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	c.probs = append(c.probs, Problem{File: c.file, Line: line, Reason: fmt.Sprintf(format, args...)})
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// compileFile compiles one file holding at most budget flags; capped
// reports that it holds more, in which case none of its flags is compiled.
func compileFile(path string, data []byte, budget int) (flags []*flagDef, probs []Problem, capped bool) {
	c := &compiler{file: path, evaluators: map[string]*yaml.Node{}}
	root := c.document(data)
	if root == nil {
		return nil, c.probs, false
	}
	var flagsNode *yaml.Node
	var setMeta of.FlagMetadata
	var metaNode *yaml.Node
	for _, kv := range c.fields(root, "top-level") {
		switch kv.key.Value {
		case "$schema":
			if kv.val.Kind != yaml.ScalarNode || kv.val.ShortTag() != "!!str" {
				c.errf(kv.val, "$schema must be a string")
			}
		case "flags":
			flagsNode = kv.val
		case "$evaluators":
			if kv.val.Kind != yaml.MappingNode {
				c.errf(kv.val, "$evaluators must be a mapping of name to rule")
				continue
			}
			for _, ev := range c.fields(kv.val, "$evaluators") {
				c.evaluators[ev.key.Value] = ev.val
			}
		case "metadata":
			setMeta, metaNode = c.metadata(kv.val), kv.val
		default:
			c.errf(kv.key, "unknown top-level field %q (allowed: $schema, flags, $evaluators, metadata)", kv.key.Value)
		}
	}
	if flagsNode == nil {
		c.errf(root, "missing top-level flags")
		return nil, c.probs, false
	}
	if flagsNode.Kind != yaml.MappingNode {
		c.errf(flagsNode, "flags must be a mapping of flag key to flag")
		return nil, c.probs, false
	}
	if len(flagsNode.Content)/2 > budget {
		return nil, nil, true
	}
	// Evaluators are checked on their own so an unused one with an error is still reported.
	for _, name := range sortedKeys(c.evaluators) {
		c.rule(c.evaluators[name], ruleCtx{via: name})
	}
	var out []*flagDef
	for _, kv := range c.fields(flagsNode, "flags") {
		if kv.key.Value == "" {
			c.errf(kv.key, "empty flag key")
			continue
		}
		if f := c.flag(kv.key, kv.val, setMeta, metaNode); f != nil {
			out = append(out, f)
		}
	}
	if len(out) == 0 && len(c.probs) == 0 {
		c.errf(flagsNode, "flags defines no flag")
	}
	return out, c.probs, false
}

// document decodes data as exactly one YAML document whose top level is a
// mapping and returns that mapping, or nil with the problem recorded.
func (c *compiler) document(data []byte) *yaml.Node {
	if len(bytes.TrimSpace(data)) == 0 {
		c.errf(nil, "empty file")
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			c.errf(nil, "empty file (comments only)")
			return nil
		}
		c.yamlError(err)
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			c.yamlError(err)
		} else {
			c.errf(&extra, "more than one YAML document")
		}
		return nil
	}
	if len(doc.Content) == 0 {
		c.errf(nil, "empty file")
		return nil
	}
	root := deref(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		c.errf(root, "top level must be a mapping with a flags key")
		return nil
	}
	return root
}

func (c *compiler) yamlError(err error) {
	msg := err.Error()
	for l := range strings.SplitSeq(msg, "\n") {
		l = strings.TrimSpace(l)
		if m := yamlLineRE.FindStringSubmatch(l); m != nil {
			line, _ := strconv.Atoi(m[1])
			c.probs = append(c.probs, Problem{File: c.file, Line: line, Reason: "invalid YAML: " + m[2]})
			return
		}
	}
	c.errf(nil, "invalid YAML: %s", strings.TrimPrefix(msg, "yaml: "))
}

type keyVal struct{ key, val *yaml.Node }

// fields lists a mapping's pairs, reporting non-string, merge and duplicate keys.
func (c *compiler) fields(n *yaml.Node, what string) []keyVal {
	var out []keyVal
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		switch {
		case k.Kind != yaml.ScalarNode:
			c.errf(k, "%s keys must be strings", what)
			continue
		case k.ShortTag() == "!!merge":
			c.errf(k, "YAML merge keys (<<) are not supported")
			continue
		}
		if first, dup := seen[k.Value]; dup {
			c.errf(k, "duplicate key %q in %s (first at line %d)", k.Value, what, first)
			continue
		}
		seen[k.Value] = k.Line
		out = append(out, keyVal{k, v})
	}
	return out
}

func (c *compiler) flag(keyNode, n *yaml.Node, setMeta of.FlagMetadata, setMetaNode *yaml.Node) *flagDef {
	key := keyNode.Value
	if n.Kind != yaml.MappingNode {
		c.errf(n, "flag %q must be a mapping", key)
		return nil
	}
	before := len(c.probs)
	c.refs = map[string]bool{}
	f := &flagDef{key: key, file: c.file, line: keyNode.Line}
	var stateNode, variantsNode, defNode, targetingNode *yaml.Node
	meta := of.FlagMetadata{}
	for _, kv := range c.fields(n, "flag "+strconv.Quote(key)) {
		switch kv.key.Value {
		case "state":
			stateNode = kv.val
		case "variants":
			variantsNode = kv.val
		case "defaultVariant":
			defNode = kv.val
		case "targeting":
			targetingNode = kv.val
		case "metadata":
			meta = c.metadata(kv.val)
		default:
			c.errf(kv.key, "flag %q: unknown field %q (allowed: state, variants, defaultVariant, targeting, metadata)", key, kv.key.Value)
		}
	}
	switch {
	case stateNode == nil:
		c.errf(n, "flag %q: missing state (ENABLED or DISABLED)", key)
	case stateNode.Kind == yaml.ScalarNode && stateNode.Value == "ENABLED":
	case stateNode.Kind == yaml.ScalarNode && stateNode.Value == "DISABLED":
		f.disabled = true
	default:
		c.errf(stateNode, "flag %q: state must be ENABLED or DISABLED, not %q", key, stateNode.Value)
	}
	if variantsNode == nil {
		c.errf(n, "flag %q: missing variants", key)
		return nil
	}
	f.variants, f.kind = c.variants(key, variantsNode)
	if f.variants == nil {
		return nil
	}
	if defNode != nil {
		switch {
		case defNode.Kind == yaml.ScalarNode && defNode.ShortTag() == "!!null":
		case defNode.Kind == yaml.ScalarNode && defNode.ShortTag() == "!!str":
			if _, ok := f.variants[defNode.Value]; !ok {
				c.errf(defNode, "flag %q: defaultVariant %q is not one of its variants", key, defNode.Value)
			}
			f.defVariant = defNode.Value
		default:
			c.errf(defNode, "flag %q: defaultVariant must be a quoted variant name", key)
		}
	}
	if targetingNode != nil && !emptyRule(targetingNode) {
		rc := ruleCtx{variants: f.variants, ret: true, fracs: &f.fracs}
		f.rule = c.rule(targetingNode, rc)
	}
	if len(c.probs) > before {
		return nil
	}
	for k, v := range setMeta {
		if _, ok := meta[k]; !ok {
			meta[k] = v
		}
	}
	f.meta = meta
	f.static = f.staticDetail()
	f.fingerprint = c.fingerprint(n, setMetaNode)
	return f
}

// staticDetail is the answer for a flag without targeting (or disabled).
func (f *flagDef) staticDetail() of.ProviderResolutionDetail {
	d := of.ProviderResolutionDetail{FlagMetadata: f.meta}
	switch {
	case f.disabled:
		d.Reason = of.DisabledReason
	case f.defVariant == "":
		d.Reason = of.DefaultReason
	default:
		d.Reason = of.StaticReason
		d.Variant = f.defVariant
	}
	return d
}

// fingerprint is the canonical JSON of what decides a flag's answers: its own
// definition, the evaluators it references and the set-level metadata.
func (c *compiler) fingerprint(n, setMeta *yaml.Node) string {
	refs := map[string]any{}
	for name := range c.refs {
		refs[name] = nodeValue(c.evaluators[name])
	}
	b, err := json.Marshal([]any{nodeValue(n), refs, nodeValue(setMeta)})
	if err != nil {
		// Only reachable with values JSON cannot hold; such a flag always counts as changed.
		return ""
	}
	return string(b)
}

func emptyRule(n *yaml.Node) bool {
	return (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null") ||
		(n.Kind == yaml.MappingNode && len(n.Content) == 0)
}

func (c *compiler) variants(key string, n *yaml.Node) (map[string]any, valueKind) {
	if n.Kind != yaml.MappingNode {
		c.errf(n, "flag %q: variants must be a mapping of name to value", key)
		return nil, 0
	}
	kvs := c.fields(n, "variants of "+strconv.Quote(key))
	if len(kvs) == 0 {
		c.errf(n, "flag %q: variants is empty", key)
		return nil, 0
	}
	out := make(map[string]any, len(kvs))
	var kind valueKind
	var kindLine int
	for _, kv := range kvs {
		v, k, ok := c.value(kv.val)
		if !ok {
			continue
		}
		if k == 0 {
			c.errf(kv.val, "flag %q: variant %q has no value", key, kv.key.Value)
			continue
		}
		if kind == 0 {
			kind, kindLine = k, kv.val.Line
		} else if k != kind {
			c.errf(kv.val, "flag %q: variant %q is a %s but the variant at line %d is a %s; all variants must share one type",
				key, kv.key.Value, k, kindLine, kind)
			continue
		}
		out[kv.key.Value] = v
	}
	return out, kind
}

// value converts a variant's YAML value, reporting its kind (0 for null).
func (c *compiler) value(n *yaml.Node) (any, valueKind, bool) {
	switch n.Kind {
	case yaml.MappingNode, yaml.SequenceNode:
		v, ok := c.plain(n)
		return v, kindObject, ok
	case yaml.ScalarNode:
		v, ok := c.scalar(n)
		if !ok {
			return nil, 0, false
		}
		switch v.(type) {
		case bool:
			return v, kindBool, true
		case string:
			return v, kindString, true
		case float64:
			return v, kindNumber, true
		}
		return nil, 0, true
	}
	c.errf(n, "unsupported YAML node")
	return nil, 0, false
}

// plain converts an object variant to JSON-shaped Go values.
func (c *compiler) plain(n *yaml.Node) (any, bool) {
	n = deref(n)
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		ok := true
		for _, kv := range c.fields(n, "object") {
			v, vok := c.plain(kv.val)
			ok = ok && vok
			m[kv.key.Value] = v
		}
		return m, ok
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		ok := true
		for _, it := range n.Content {
			v, vok := c.plain(it)
			ok = ok && vok
			s = append(s, v)
		}
		return s, ok
	}
	return c.scalar(n)
}

// scalar converts a YAML scalar to a JSON value: string, bool, float64 or nil.
func (c *compiler) scalar(n *yaml.Node) (any, bool) {
	switch n.ShortTag() {
	case "!!str":
		return n.Value, true
	case "!!null":
		return nil, true
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			c.errf(n, "bad boolean %q", n.Value)
			return nil, false
		}
		return b, true
	case "!!int", "!!float":
		var f float64
		if err := n.Decode(&f); err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			c.errf(n, "%q is not a finite number", n.Value)
			return nil, false
		}
		return f, true
	}
	c.errf(n, "unsupported value %q (%s); quote it if it is a string", n.Value, n.ShortTag())
	return nil, false
}

func (c *compiler) metadata(n *yaml.Node) of.FlagMetadata {
	out := of.FlagMetadata{}
	if n.Kind != yaml.MappingNode {
		c.errf(n, "metadata must be a mapping")
		return out
	}
	for _, kv := range c.fields(n, "metadata") {
		if kv.val.Kind != yaml.ScalarNode {
			c.errf(kv.val, "metadata %q must be a string, number or boolean", kv.key.Value)
			continue
		}
		if kv.val.ShortTag() == "!!int" {
			var i int64
			if err := kv.val.Decode(&i); err == nil {
				out[kv.key.Value] = i
				continue
			}
		}
		v, ok := c.scalar(kv.val)
		if !ok {
			continue
		}
		if v == nil {
			c.errf(kv.val, "metadata %q has no value", kv.key.Value)
			continue
		}
		out[kv.key.Value] = v
	}
	return out
}

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// nodeValue converts any YAML node to plain Go values, for fingerprints.
func nodeValue(n *yaml.Node) any {
	n = deref(n)
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = nodeValue(n.Content[i+1])
		}
		return m
	case yaml.SequenceNode:
		s := make([]any, len(n.Content))
		for i, it := range n.Content {
			s[i] = nodeValue(it)
		}
		return s
	case yaml.DocumentNode:
		if len(n.Content) > 0 {
			return nodeValue(n.Content[0])
		}
		return nil
	}
	return n.ShortTag() + ":" + n.Value
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
