package modulestest

import (
	"strings"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/modules"
)

// PerpSource is the canned perpetual market the venue-table modules share:
// "btc", "btcusdt" and "btc-usdt" resolve to BTC (perpetuals only), other
// input is unknown with BTC and BTCDOM as suggestions, primary answers the
// failover calls and all are the venues side by side.
func PerpSource(primary *Venue, all ...*Venue) *Source {
	return &Source{
		Pairs:   map[string]market.Pair{"btc": BTC, "btcusdt": BTC, "btc-usdt": BTC},
		Suggest: []market.Pair{BTC, {Base: "BTCDOM", Quote: "USDT"}},
		Kind:    market.Perp,
		Primary: primary,
		All:     all,
	}
}

// fresh is a new canned market from newSource, changed by modify when set.
func fresh(newSource func() *Source, modify func(*Source)) *Source {
	src := newSource()
	if modify != nil {
		modify(src)
	}
	return src
}

// ReplyCase is one golden reply: Modify (if set) changes a fresh canned
// market, then the command with Args must answer valid HTML equal to
// testdata/<Name>.golden.
type ReplyCase struct {
	Name   string
	Args   []string
	Modify func(*Source)
}

// CheckReplies runs each case's command on the module build makes over a
// fresh newSource.
func CheckReplies(t *testing.T, newSource func() *Source, build func(*Source) modules.Module, command string, cases []ReplyCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			reply, err := Handler(t, build(fresh(newSource, tc.Modify)), command).Handle(t.Context(), modules.Request{Command: command, Args: tc.Args})
			if err != nil {
				t.Fatalf("Handle(%q) error = %v, want a reply", tc.Args, err)
			}
			CheckHTML(t, reply.Text)
			Golden(t, tc.Name, reply.Text)
		})
	}
}

// Market is the module under test over the canned market (Source), with
// one command and a /price section: what every check needs to build and
// call it.
type Market struct {
	ID, Flag, Command string // registered id, its flag and the one command
	NewSource         func() *Source
	New               func(src *Source, now func() time.Time) modules.Module
}

// Handler is the command's handler of the module over src at Clock.
func (m Market) Handler(t testing.TB, src *Source) modules.Handler {
	t.Helper()
	return Handler(t, m.New(src, Clock), m.Command)
}

// Sectioner is the module over src at now, or fails the test when it
// contributes no /price section.
func (m Market) Sectioner(t testing.TB, src *Source, now func() time.Time) modules.Sectioner {
	t.Helper()
	s, ok := m.New(src, now).(modules.Sectioner)
	if !ok {
		t.Fatal("module does not contribute a /price section")
	}
	return s
}

// CheckReplies is CheckReplies for the module.
func (m Market) CheckReplies(t *testing.T, cases []ReplyCase) {
	t.Helper()
	CheckReplies(t, m.NewSource, func(src *Source) modules.Module { return m.New(src, Clock) }, m.Command, cases)
}

// CheckSections is CheckSections for the module and BTC.
func (m Market) CheckSections(t *testing.T, cases []SectionCase) {
	t.Helper()
	m.Sectioner(t, m.NewSource(), Clock) // fails here, not in each case, without a section
	CheckSections(t, m.NewSource, func(src *Source) modules.Sectioner { return m.New(src, Clock).(modules.Sectioner) }, BTC, cases)
}

// Contract is what CheckContract needs beyond the module itself.
type Contract struct {
	// Heaviest is the arguments of the heaviest request: its memory is
	// measured, and it must answer at the deadline with venue Stalled of
	// All hanging, the reply still showing every AtDeadline.
	Heaviest   []string
	Stalled    int
	AtDeadline []string

	// Plain is a request's arguments whose reply, from a module built with
	// a nil clock, must contain PlainWant.
	Plain     []string
	PlainWant string
}

// CheckContract runs what every such module keeps, each as a subtest: its
// registration, its declared memory cost, a nil clock, and a stalled venue
// (for the reply) or source (for the section) that must not hold the answer
// past the deadline.
func (m Market) CheckContract(t *testing.T, c Contract) {
	t.Run("registration", func(t *testing.T) {
		CheckMarketModule(t, m.ID, m.Flag, modules.Deps{Market: m.NewSource(), Now: Clock}, m.Command)
	})
	t.Run("memory cost", func(t *testing.T) {
		CheckSourceMemoryCost(t, m.ID, m.NewSource(), modules.Request{Command: m.Command, Args: c.Heaviest})
	})
	t.Run("nil clock", func(t *testing.T) {
		CheckNilClock(t, Handler(t, m.New(m.NewSource(), nil), m.Command), modules.Request{Args: c.Plain}, c.PlainWant)
	})
	t.Run("deadline reply", func(t *testing.T) {
		src := m.NewSource()
		src.All[c.Stalled].Hang = true
		CheckReplyAtDeadline(t, m.Handler(t, src), modules.Request{Command: m.Command, Args: c.Heaviest}, 3*time.Second, c.AtDeadline...)
	})
	t.Run("deadline section", func(t *testing.T) {
		src := m.NewSource()
		src.Primary.Hang = true
		CheckSectionAtDeadline(t, m.Sectioner(t, src, Clock), BTC)
	})
}

// UnresolvedCases are the golden replies every perpetual module over
// PerpSource gives when the pair does not resolve: unknown input with and
// without suggestions, hostile input that must come back escaped, and a
// resolver that is unavailable.
func UnresolvedCases() []ReplyCase {
	return []ReplyCase{
		{Name: "unknown_pair", Args: []string{"btcc"}},
		{Name: "unknown_pair_no_suggestions", Args: []string{"zzz"}, Modify: func(s *Source) { s.Suggest = nil }},
		{Name: "unknown_pair_hostile_input", Args: []string{"<b>&" + strings.Repeat("x", 100)}},
		{Name: "unavailable", Args: []string{"btc"}, Modify: func(s *Source) { s.ResolveErr = market.ErrUnavailable }},
	}
}

// SectionFailures are the section cases every module over the failover
// source keeps, fail making Primary's call end with an error: a spot-only
// pair (no venue lists the perpetual) has no section, and an unavailable
// source fails it.
func SectionFailures(fail func(s *Source, err error)) []SectionCase {
	return []SectionCase{
		{Name: "spot-only pair", Modify: func(s *Source) { fail(s, market.ErrUnknownSymbol) }, Want: ""},
		{Name: "unavailable", Modify: func(s *Source) { fail(s, market.ErrUnavailable) }, WantErr: market.ErrUnavailable},
	}
}
