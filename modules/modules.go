// Package modules is the contract between the bot's pipeline and its features.
//
// A module is a feature: the commands it answers and the /price sections it
// contributes. Enhanced modules register themselves from init (Caddy and
// node_exporter style): being compiled in registers a module; config, flags
// and the memory budget decide whether it is built and whether a given chat
// may use it. The core modules read the pipeline's own state (the command
// catalog, the sections, the bot's status), so cmd/server builds them with
// package core and hands each what it reads; none reaches back through Deps.
package modules

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/internal/store"
)

// Request is one command from one chat, independent of the transport.
type Request struct {
	UpdateID int64
	ChatID   int64
	UserID   int64
	ChatType string // "private", "group", "supergroup", "channel"; console mode speaks as "private"
	Lang     string // the sender's IETF language tag, may be empty
	Command  string // lower case, without the slash and the @botname
	Args     []string
	Received time.Time // intake time; the reply deadline runs from here
}

// Reply is what a handler answers. Text is HTML (Telegram's subset): every
// dynamic value in it must be escaped with html.EscapeString.
type Reply struct {
	Text  string
	Photo []byte // optional PNG; when set, Text is its caption (≤ 1024 characters)
}

// Handler answers one command. Expected outcomes (usage, unknown pair) are
// replies with a nil error; an error means the bot failed.
type Handler interface {
	Handle(ctx context.Context, req Request) (Reply, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, req Request) (Reply, error)

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, req Request) (Reply, error) { return f(ctx, req) }

// Command is one slash command a module answers.
type Command struct {
	Name        string // "price": lower case letters, digits and _, 1–32 characters
	Usage       string // "/price SYMBOL": shown by /help
	Description string // one line for /help and setMyCommands
	Admin       bool   // answered only in configured admin chats, hidden elsewhere
	Handler     Handler
}

// Module is a built feature.
type Module interface {
	Commands() []Command
}

// Sectioner is implemented by modules that add a line to /price.
// Section returns HTML ("" for nothing to add) and must honour ctx: a section
// that is late is left out.
type Sectioner interface {
	Section(ctx context.Context, req Request, pair market.Pair) (string, error)
}

// Runner is implemented by modules with background work; Run returns when ctx ends.
type Runner interface {
	Run(ctx context.Context) error
}

// Cost is a module's honest memory cost, checked by tests.
type Cost struct {
	Resident   uint64 // bytes held while the module is loaded
	PerRequest uint64 // bytes one request may hold at its peak
}

// Info describes a module to the registry.
type Info struct {
	ID   string // "core.price", "enhanced.funding"
	Flag string // flag key (flags/flagkey); required for enhanced.*, empty for core.*
	Cost Cost   // required for enhanced.*
	New  func(Deps) (Module, error)
}

// Enhanced reports whether the module is gated by a flag and the memory guard.
func (i Info) Enhanced() bool { return strings.HasPrefix(i.ID, "enhanced.") }

// Deps is what a module's New receives. New must be cheap and side-effect free.
type Deps struct {
	Log    *slog.Logger
	Market market.Source
	Decode func(v any) error // decodes the module's own config subtree (modules.<id>)
	Now    func() time.Time
	// Store is the bot's state store; nil when a module is built without
	// one (unit tests). A feature declares the narrow interface it needs.
	Store *store.Store
}

var (
	idRE      = regexp.MustCompile(`^(core|enhanced)\.[a-z][a-z0-9_]*$`)
	mu        sync.RWMutex
	registry  = map[string]Info{}
	commandRE = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)
)

// Register adds a module from init. It panics on programmer errors: a bad or
// duplicate ID, a nil New, or an enhanced module without a flag or cost.
func Register(info Info) {
	if err := info.validate(); err != nil {
		panic(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[info.ID]; dup {
		panic(fmt.Sprintf("modules: %s registered twice", info.ID))
	}
	registry[info.ID] = info
}

func (i Info) validate() error {
	switch {
	case !idRE.MatchString(i.ID):
		return fmt.Errorf("modules: bad module id %q", i.ID)
	case i.New == nil:
		return fmt.Errorf("modules: %s has no New", i.ID)
	case i.Enhanced() && i.Flag == "":
		return fmt.Errorf("modules: enhanced module %s names no flag", i.ID)
	case i.Enhanced() && i.Cost.Resident == 0 && i.Cost.PerRequest == 0:
		return fmt.Errorf("modules: enhanced module %s declares no memory cost", i.ID)
	case !i.Enhanced() && i.Flag != "":
		return fmt.Errorf("modules: core module %s must not name a flag", i.ID)
	}
	return nil
}

// ValidCommandName reports whether name is a command Telegram accepts.
func ValidCommandName(name string) bool { return commandRE.MatchString(name) }

// Registered returns every registered module sorted by ID (core before enhanced).
func Registered() []Info {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]Info, 0, len(registry))
	for _, i := range registry {
		out = append(out, i)
	}
	slices.SortFunc(out, func(a, b Info) int { return strings.Compare(a.ID, b.ID) })
	return out
}
