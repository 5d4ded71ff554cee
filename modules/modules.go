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

	// Interaction (Telegram buttons, inline mode, membership). At most one
	// of Callback, Inline and Member is set; Command is then "".
	MessageID int64         // the command's message, or the message whose button was pressed
	ThreadID  int64         // forum topic the message is in; 0 outside topics (and in General)
	Callback  *Callback     // a button press; answer with Toast and, for an edit, Edit
	Inline    *InlineQuery  // "@bot query" typed in any chat; answer with Reply.Inline
	Member    *MemberChange // the bot's own membership changed in ChatID
}

// Callback is a press of an inline keyboard button.
type Callback struct {
	ID   string // answered by the transport, always, within the reply deadline
	Data string // the button's Data as Telegram returned it: unvalidated, may be forged or from an older build
	// MessageID is the message the button is on; 0 when Telegram no longer
	// gives it (deleted, or too old), and an edit is then impossible.
	MessageID int64
}

// InlineQuery is an inline query. Request.ChatID is then the sender's
// private chat (= UserID, ChatType "private"): the query belongs to no
// chat yet. The transport always answers it, with no results if need be.
type InlineQuery struct {
	ID       string
	Query    string // as typed, up to 256 characters
	ChatType string // where it is typed: "sender", "private", "group", "supergroup", "channel", or ""
}

// MemberChange is a change of the bot's own status in a chat: added to a
// group ("left" → "member"), removed ("kicked"/"left"), or, in a private
// chat, blocked ("member" → "kicked") and unblocked.
type MemberChange struct {
	Old, New string // "creator", "administrator", "member", "restricted", "left", "kicked"
}

// Reply is what a handler answers. Text is HTML (Telegram's subset): every
// dynamic value in it must be escaped with html.EscapeString.
type Reply struct {
	Text  string
	Photo []byte // optional PNG; when set, Text is its caption (≤ 1024 characters)

	Buttons [][]Button // inline keyboard under the message (or the edited one), rows of buttons
	// Edit, on a reply to a Callback, replaces the pressed message in place
	// (text, or photo for a photo reply) instead of sending a new one.
	Edit  bool
	Toast string // on a reply to a Callback: the short note shown (≤ 200 characters, plain text)
	// Silent sends without a notification sound (disable_notification),
	// for messages the bot sends on its own, such as alerts in a quiet chat.
	Silent bool
	// Inline answers an InlineQuery; nil answers with no results.
	Inline *InlineAnswer
}

// Button is an inline keyboard button: a callback button (Data, 1–64
// bytes, returned in Callback.Data when pressed) or a link (URL).
type Button struct {
	Text string // plain text label
	Data string
	URL  string
}

// InlineAnswer is the answer to an inline query.
type InlineAnswer struct {
	Results   []InlineResult // at most 50
	CacheTime time.Duration  // how long Telegram may reuse it; capped at 10 s so prices stay fresh
	Personal  bool           // results depend on the user (settings), not only the query
	// Hint, if set, is a button above the results that opens the private
	// chat with "/start <HintStart>"; the transport adds one for no results.
	Hint, HintStart string
}

// InlineResult is one article of an inline answer.
type InlineResult struct {
	ID          string // 1–64 bytes, unique within the answer
	Title       string // plain text
	Description string // plain text, may be empty
	Text        string // HTML (as Reply.Text) sent to the chat when the result is chosen
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
	// Flags and Admit are the router's flag gate and memory guard, for work
	// a module does on its own rather than in answer to a command (the
	// alerts runner: a chat whose flag is off has its alerts paused, and
	// digests are declined while the guard sheds). Nil in unit tests.
	Flags Gate
	Admit func(bytes uint64) (release func(), err error) // this module's admission; an error declines
	// Admins tells a group's administrators (getChatMember, cached); nil
	// where there are no groups (console mode) or in unit tests.
	Admins Admins
}

// Admins tells group administrators (telegram.MemberCache).
type Admins interface {
	IsAdmin(ctx context.Context, chat, user int64) (bool, error)
}

// Gate decides a flag for one chat, as the router's gate; any error reads as off.
type Gate interface {
	Enabled(ctx context.Context, key string, req Request) bool
}

var (
	idRE      = regexp.MustCompile(`^(core|enhanced)\.[a-z][a-z0-9_]*$`)
	mu        sync.RWMutex
	registry  = map[string]Info{}
	commandRE = regexp.MustCompile(`^[a-z0-9_]+$`) // length apart: {1,32} would compile 32 copies
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
func ValidCommandName(name string) bool { return len(name) <= 32 && commandRE.MatchString(name) }

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
