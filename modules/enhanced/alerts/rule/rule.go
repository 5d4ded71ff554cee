// Package rule is the alerts feature's vocabulary: the typed Rule a chat's
// /alert command parses to, the persisted Alert with its Status, the other
// alert commands (/unalert, /watch, /unwatch, /digest), and the wording of
// acknowledgements, listings, states and firings. It is pure: no I/O, no
// clock, so the module, the engine and the store agree on one definition.
package rule

import (
	"fmt"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
)

// Kind is what an alert watches. Its String form is stable: the store keeps
// it and metrics label alerts by it.
type Kind uint8

// The alert kinds.
const (
	Above        Kind = iota + 1 // last price at or above Level
	Below                        // last price at or below Level
	Move                         // price moved Percent either way within Window
	FundingAbove                 // funding rate at or above Level
	FundingBelow                 // funding rate at or below Level
	OIMove                       // open interest moved Percent within Window
)

var kindNames = [...]string{Above: "above", Below: "below", Move: "move",
	FundingAbove: "funding_above", FundingBelow: "funding_below", OIMove: "oi_move"}

func (k Kind) String() string { return names(kindNames[:]).str(uint8(k), "kind") }

// ParseKind reads a Kind's String form back (from the store).
func ParseKind(s string) (Kind, error) {
	k, err := names(kindNames[:]).parse(s, "kind")
	return Kind(k), err
}

// Kinds lists every kind's String form: the metric label set.
func Kinds() []string { return names(kindNames[:]).list() }

// IsLevel reports whether k fires on a price level.
func (k Kind) IsLevel() bool { return k == Above || k == Below }

// IsFunding reports whether k watches a funding rate.
func (k Kind) IsFunding() bool { return k == FundingAbove || k == FundingBelow }

// IsMove reports whether k fires on a percent move over a window.
func (k Kind) IsMove() bool { return k == Move || k == OIMove }

// Defaults and bounds of the grammar.
const (
	DefaultWindow   = time.Hour
	MinWindow       = 15 * time.Minute
	MaxWindow       = 24 * time.Hour
	DefaultCooldown = time.Hour
	MinCooldown     = time.Minute
	MaxCooldown     = 7 * 24 * time.Hour
	DefaultLife     = 30 * 24 * time.Hour // a repeating alert's expiry unless `for` says otherwise
	MinLife         = time.Minute
	MaxLife         = 365 * 24 * time.Hour
	MaxPercent      = 1000
	MaxFundingPct   = 10 // |RATE%|: no venue caps funding anywhere near this
	AbsurdFactor    = 100
)

// Venues are the venues a funding alert can name, in the order the engine
// numbers them (index+1; 0 means any venue).
var venues = [...]string{"binance", "bybit", "okx"}

// Venues returns the venue names `on VENUE` accepts.
func Venues() []string { return append([]string(nil), venues[:]...) }

// VenueIndex is 1+ the position of name in Venues, or 0 for "" or unknown.
func VenueIndex(name string) uint8 {
	for i, v := range venues {
		if v == name {
			return uint8(i + 1)
		}
	}
	return 0
}

// VenueName is the inverse of VenueIndex.
func VenueName(i uint8) string {
	if i >= 1 && int(i) <= len(venues) {
		return venues[i-1]
	}
	return ""
}

// Rule is one parsed /alert. Defaults are filled in by Parse, so a Rule says
// everything explicitly: Cooldown is set when Repeat, Expiry is set for a
// repeating alert even when the user gave no `for`.
type Rule struct {
	Kind     Kind
	Symbol   string        // as typed; the module resolves it to a pair
	Level    float64       // Above/Below: price; Funding*: rate as a fraction per interval (0.0005 = 0.05 %)
	Percent  float64       // Move/OIMove: 5 means 5 %
	Window   time.Duration // Move/OIMove: whole minutes, MinWindow…MaxWindow
	Venue    string        // Funding*: "binance", "bybit", "okx"; "" = any venue
	Repeat   bool          // re-arms after firing
	Cooldown time.Duration // Repeat: minimum time between firings
	Expiry   time.Duration // 0: lives until it fires; else the alert's lifetime from creation
	Confirm  bool          // the user confirmed an absurd level
}

// State is an alert's lifecycle state; its String form is stable (store, metrics).
type State uint8

// The states. Armed and Cooling are live (evaluated); the others are not.
const (
	Armed   State = iota + 1 // waiting for its condition
	Cooling                  // repeating alert after a firing: waits for the cooldown and the re-arm margin
	Fired                    // one-shot alert that fired: done
	Paused                   // kept but not evaluated (flag off for the chat, chat blocked the bot)
	Expired                  // its lifetime ended
)

var stateNames = [...]string{Armed: "armed", Cooling: "cooling", Fired: "fired", Paused: "paused", Expired: "expired"}

func (s State) String() string { return names(stateNames[:]).str(uint8(s), "state") }

// ParseState reads a State's String form back (from the store).
func ParseState(s string) (State, error) {
	st, err := names(stateNames[:]).parse(s, "state")
	return State(st), err
}

// States lists every state's String form: the metric label set.
func States() []string { return names(stateNames[:]).list() }

// names are the String forms of an enumeration numbered from 1.
type names []string

func (n names) str(i uint8, what string) string {
	if i >= 1 && int(i) < len(n) {
		return n[i]
	}
	return fmt.Sprintf("%s(%d)", what, i)
}

func (n names) parse(s, what string) (uint8, error) {
	for i := 1; i < len(n); i++ {
		if n[i] == s {
			return uint8(i), nil
		}
	}
	return 0, fmt.Errorf("unknown alert %s %q", what, s)
}

func (n names) list() []string { return append([]string(nil), n[1:]...) }

// Live reports whether alerts in s are evaluated.
func (s State) Live() bool { return s == Armed || s == Cooling }

// Alert is an alert as the store keeps it: the immutable part set at
// creation and the Status the engine changes.
type Alert struct {
	ID      int64
	ChatID  int64
	Pair    market.Pair // resolved from Rule.Symbol at creation
	Rule    Rule
	Created time.Time
	Expires time.Time // zero: never
	Status
}

// Status is the mutable part of an alert, written with each firing (in the
// same transaction as the outbound message) and on re-arm and expiry.
type Status struct {
	State     State
	LastFired time.Time // zero: never fired
	Value     float64   // the value that last fired it (price, rate or OI in USD)
	Up        bool      // the last firing was on a rise (above, funding above, move up)
	Retreated bool      // since the last firing the value moved back past the re-arm margin
}

// NewAlert is a fresh armed alert created at now; a repeating alert's
// expiry comes from its Rule (Parse sets DefaultLife).
func NewAlert(id, chatID int64, pair market.Pair, r Rule, now time.Time) Alert {
	a := Alert{ID: id, ChatID: chatID, Pair: pair, Rule: r, Created: now, Status: Status{State: Armed}}
	if r.Expiry > 0 {
		a.Expires = now.Add(r.Expiry)
	}
	return a
}

// CooldownUntil is when a cooling alert's cooldown ends.
func (a Alert) CooldownUntil() time.Time { return a.LastFired.Add(a.Rule.Cooldown) }

// Re-arm margins: a repeating alert fires again only after the value moved
// back past RearmBound, so a price hovering at a level sends one message.
const (
	LevelMargin   = 0.002 // of the level: 0.2 %
	FundingMargin = 1e-6  // absolute rate floor (0.0001 %), for levels near zero
)

// RearmBound is the value a repeating alert must move back to (at or past)
// after a firing with value fired; up says whether that firing was on a rise.
// Past the bound means at or below it when up, at or above it otherwise.
func RearmBound(r Rule, fired float64, up bool) float64 {
	switch {
	case r.Kind.IsLevel():
		if up {
			return r.Level * (1 - LevelMargin)
		}
		return r.Level * (1 + LevelMargin)
	case r.Kind.IsFunding():
		m := max(abs(r.Level)*LevelMargin, FundingMargin)
		if up {
			return r.Level - m
		}
		return r.Level + m
	}
	// Moves: back by half the move from where it fired.
	half := r.Percent / 200
	if up {
		return fired * (1 - half)
	}
	return fired * (1 + half)
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}
