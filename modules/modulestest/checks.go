package modulestest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	flags "github.com/cryptobot-dev/cryptobot/flags/flagkey"
	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/modules"
)

// CheckMarketModule checks the registration of an enhanced module that reads
// the market: it is gated by flag, which has a catalog entry; New refuses
// Deps without a market source, and with deps builds a module that has
// exactly the one valid command and contributes a /price section.
func CheckMarketModule(t *testing.T, id, flag string, deps modules.Deps, command string) {
	t.Helper()
	info := Registered(t, id)
	if info.Flag != flag || flags.Catalog[info.Flag] == "" {
		t.Errorf("flag = %q, want %q with a catalog entry", info.Flag, flag)
	}
	if _, err := info.New(modules.Deps{}); err == nil {
		t.Error("New without a market source succeeded, want an error")
	}
	m, err := info.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	cmds := m.Commands()
	if len(cmds) != 1 || cmds[0].Name != command || !modules.ValidCommandName(cmds[0].Name) || cmds[0].Handler == nil {
		t.Errorf("Commands() = %+v, want one valid /%s", cmds, command)
	}
	if _, ok := m.(modules.Sectioner); !ok {
		t.Error("module does not contribute a /price section")
	}
}

// CheckNilClock handles req with h, the handler of a module built with a
// nil clock (New falls back to time.Now): the reply must contain want.
func CheckNilClock(t *testing.T, h modules.Handler, req modules.Request, want string) {
	t.Helper()
	reply, err := h.Handle(t.Context(), req)
	if err != nil || !strings.Contains(reply.Text, want) {
		t.Errorf("Handle with a nil clock = %q, %v; want it to contain %q", reply.Text, err, want)
	}
}

// CheckReplyAtDeadline handles req with a deadline d in a synctest bubble,
// for a handler whose source has a stalled venue: the reply must come at the
// deadline, not after it, and contain every want.
func CheckReplyAtDeadline(t *testing.T, h modules.Handler, req modules.Request, d time.Duration, want ...string) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), d)
		defer cancel()
		start := time.Now()
		reply, err := h.Handle(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took != d {
			t.Errorf("reply after %v, want at the %v deadline", took, d)
		}
		for _, w := range want {
			if !strings.Contains(reply.Text, w) {
				t.Errorf("reply lacks %q:\n%s", w, reply.Text)
			}
		}
	})
}

// CheckSectionAtDeadline asks s for pair's section with a one-second
// deadline in a synctest bubble, for a stalled source: the section must give
// up with "" and context.DeadlineExceeded.
func CheckSectionAtDeadline(t *testing.T, s modules.Sectioner, pair market.Pair) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		got, err := s.Section(ctx, modules.Request{}, pair)
		if got != "" || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Section = %q, %v; want \"\", deadline exceeded", got, err)
		}
	})
}

// SectionCase is one /price section check: Modify (if set) changes a fresh
// canned market, then the section must be Want and, when WantErr is set, fail
// with an error wrapping it.
type SectionCase struct {
	Name    string
	Modify  func(*Source)
	Want    string
	WantErr error
}

// CheckSections runs each case's section for pair on the module build makes
// over a fresh newSource, and checks that every section is valid HTML.
func CheckSections(t *testing.T, newSource func() *Source, build func(*Source) modules.Sectioner, pair market.Pair, cases []SectionCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			got, err := build(fresh(newSource, tc.Modify)).Section(t.Context(), modules.Request{Command: "price"}, pair)
			if !errors.Is(err, tc.WantErr) || (tc.WantErr == nil) != (err == nil) {
				t.Fatalf("Section error = %v, want %v", err, tc.WantErr)
			}
			if got != tc.Want {
				t.Errorf("Section = %q, want %q", got, tc.Want)
			}
			CheckHTML(t, got)
		})
	}
}

// CheckUsage checks that h answers each argument list, and fifty arguments,
// with the usage it gives for none (text starting with prefix), never
// ignoring input silently, and that calls (the venue calls so far) stays put.
func CheckUsage(t *testing.T, h modules.Handler, command, prefix string, calls func() int64, args ...[]string) {
	t.Helper()
	usage, err := h.Handle(t.Context(), modules.Request{Command: command})
	if err != nil || !strings.HasPrefix(usage.Text, prefix) {
		t.Fatalf("/%s without arguments = %q, %v; want the usage", command, usage.Text, err)
	}
	before := calls()
	for _, a := range append(args, slices.Repeat([]string{"btc"}, 50)) {
		got, err := h.Handle(t.Context(), modules.Request{Command: command, Args: a})
		if err != nil || got.Text != usage.Text {
			t.Errorf("/%s %s = %q, %v; want the usage", command, strings.Join(a, " "), got.Text, err)
		}
	}
	if n := calls() - before; n != 0 {
		t.Errorf("/%s with extra arguments asked the venues %d times", command, n)
	}
}
