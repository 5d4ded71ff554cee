package main

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// command is one update's text and the kind of reply it should get. A
// command with gen draws its text at each pick (an alert's level). For
// kindInline the text is the inline query; kindPress presses Refresh on a
// message the bot sent earlier and has no text.
type command struct {
	text string
	kind string
	gen  func(r *rand.Rand) string
}

// categories are the -mix names, each with the commands it draws from
// uniformly. Symbols are the ones the fake venues list.
var categories = []struct {
	name string
	cmds []command
}{
	{"price", []command{
		{"/price btc", kindPrice, nil}, {"/price ETH", kindPrice, nil}, {"/price sol", kindPrice, nil},
		{"/price doge", kindPrice, nil}, {"/price pepe", kindPrice, nil}, {"/price eth-btc", kindPrice, nil},
		{"/price BTC/USDT", kindPrice, nil},
	}},
	{"oi", []command{{"/oi btc", kindOI, nil}, {"/oi eth", kindOI, nil}, {"/oi sol", kindOI, nil}, {"/oi btc all", kindOI, nil}}},
	{"funding", []command{{"/funding btc", kindFunding, nil}, {"/funding eth", kindFunding, nil}, {"/funding sol", kindFunding, nil}}},
	{"analysis", []command{
		{"/analysis btc", kindAnalysis, nil}, {"/analysis eth 4h", kindAnalysis, nil},
		{"/analysis sol 15m", kindAnalysis, nil}, {"/analysis btc 1d", kindAnalysis, nil},
	}},
	{"help", []command{{"/help", kindHelp, nil}}},
	{"inline", []command{
		{"btc", kindInline, nil}, {"eth", kindInline, nil}, {"sol", kindInline, nil}, {"eth usdt", kindInline, nil},
		{"btc perp", kindInline, nil}, {"", kindInline, nil}, {"doge", kindInline, nil},
	}},
	{"press", []command{{"", kindPress, nil}}},
	{"alert", alertCommands()},
	{"garbage", []command{
		{"/frobnicate", kindUnknown, nil}, {"hello there", kindText, nil}, {"🚀🚀🚀 <b>&amp;", kindText, nil},
		{"/price", kindUsage, nil}, {"/price zzzq", kindUnknownPair, nil},
	}},
}

// warmSymbols are the /price symbols the -warm pass asks for once each.
var warmSymbols = []string{"btc", "eth", "sol", "doge", "pepe", "eth-btc"}

// defaultMix is the realistic command mix of the task: mostly /price.
const defaultMix = "price=60,oi=10,funding=10,analysis=10,help=5,garbage=5"

// mix is a weighted choice over categories.
type mix struct {
	weights []int // by categories index
	total   int
}

// parseMix reads "name=weight,..." with names from categories and
// non-negative integer weights; omitted categories get 0. At least one
// weight must be positive and a name may appear once.
func parseMix(s string) (mix, error) {
	m := mix{weights: make([]int, len(categories))}
	seen := map[string]bool{}
	for part := range strings.SplitSeq(s, ",") {
		name, w, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return mix{}, fmt.Errorf("mix: %q is not name=weight", part)
		}
		i := categoryIndex(name)
		if i < 0 {
			return mix{}, fmt.Errorf("mix: unknown category %q (want %s)", name, categoryNames())
		}
		if seen[name] {
			return mix{}, fmt.Errorf("mix: %q given twice", name)
		}
		seen[name] = true
		n, err := strconv.Atoi(w)
		if err != nil || n < 0 {
			return mix{}, fmt.Errorf("mix: weight of %q must be a non-negative integer, got %q", name, w)
		}
		m.weights[i] = n
		m.total += n
	}
	if m.total <= 0 {
		return mix{}, fmt.Errorf("mix: the weights add up to zero")
	}
	return m, nil
}

func categoryIndex(name string) int {
	for i, c := range categories {
		if c.name == name {
			return i
		}
	}
	return -1
}

func categoryNames() string {
	names := make([]string, len(categories))
	for i, c := range categories {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}

// pick draws a command.
func (m mix) pick(r *rand.Rand) command {
	n := r.IntN(m.total)
	for i, w := range m.weights {
		if n < w {
			cmds := categories[i].cmds
			c := cmds[r.IntN(len(cmds))]
			if c.gen != nil {
				c.text = c.gen(r)
			}
			return c
		}
		n -= w
	}
	panic("unreachable: weights add up to total")
}
