// Package settings is /settings: one chat's preferences (default quote asset,
// compact /price, time zone, silent alerts, number format, and in groups who
// may set and delete alerts), kept in the
// store and changed from an inline keyboard that is edited in place. In
// groups only administrators may change them. Other features read them
// through Service.For, which caches them.
package settings

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/store"
)

// Settings are one chat's preferences. The zero value is the defaults.
type Settings struct {
	Quote   string // default quote asset of a bare symbol (/price btc): "" is USDT; USDC, USD, BTC
	Zone    string // IANA time zone for countdowns and digests; "" is UTC
	Numbers string // "" is 1,234.56; NumbersEU is 1.234,56
	Compact bool   // /price on one line, without the range, volume and sections
	Silent  bool   // alert notifications without sound (disable_notification)
	// AlertsBy is who may set and delete alerts in a group: "" anyone,
	// AlertsByAdmins its administrators (the alerts module checks).
	AlertsBy string
}

// Values the settings take.
const (
	DefaultQuote   = "USDT"
	NumbersEU      = "eu"
	AlertsByAdmins = "admins"
)

// Quotes are the default quote assets a chat may choose, in menu order.
var quotes = [...]string{"USDT", "USDC", "USD", "BTC"}

// DefaultQuoteOr returns the chat's default quote asset.
func (s Settings) DefaultQuoteOr() string {
	if s.Quote == "" {
		return DefaultQuote
	}
	return s.Quote
}

// Location is the chat's time zone, UTC when unset or unknown.
func (s Settings) Location() *time.Location {
	if s.Zone == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(s.Zone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Number rewrites a number formatted as 1,234.56 in the chat's format.
func (s Settings) Number(v string) string {
	if s.Numbers != NumbersEU {
		return v
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case ',':
			return '.'
		case '.':
			return ','
		}
		return r
	}, v)
}

// Store keeps settings per chat (internal/store).
type Store interface {
	ChatSettings(ctx context.Context, chatID int64) (store.ChatSettings, error) // zero value when none are stored
	SetChatSettings(ctx context.Context, chatID int64, s store.ChatSettings) error
}

// Admins tells group administrators (telegram.MemberCache).
type Admins interface {
	IsAdmin(ctx context.Context, chat, user int64) (bool, error)
}

// cacheSize bounds the chats whose settings Service keeps; past it the
// cache starts over, which costs one store read per chat.
const cacheSize = 10000

// Service reads and writes settings, with a cache in front of the store: a
// /price reads the chat's settings every time. Writes go through it, so the
// cache is never stale on one replica; with replicas, another replica's
// change shows within cacheTTL.
type Service struct {
	st     Store
	admins Admins
	log    *slog.Logger
	now    func() time.Time

	mu    sync.Mutex
	cache map[int64]cached
}

// cached is one chat's entry: 16 bytes for the many chats on the defaults.
type cached struct {
	s  *Settings // nil: the defaults
	at int64     // Unix ns of the read
}

const cacheTTL = time.Minute

// New returns a Service over st, with admins checking group changes (nil:
// no group change can be checked, so none is made). log may be nil.
func New(st Store, admins Admins, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{st: st, admins: admins, log: log, now: time.Now, cache: map[int64]cached{}}
}

// For returns the chat's settings; the defaults when the store fails (a
// reply with default settings beats no reply). A nil Service has defaults.
func (s *Service) For(ctx context.Context, chat int64) Settings {
	if s == nil {
		return Settings{}
	}
	now := s.now()
	s.mu.Lock()
	c, ok := s.cache[chat]
	s.mu.Unlock()
	if ok && now.UnixNano()-c.at < int64(cacheTTL) {
		if c.s == nil {
			return Settings{}
		}
		return *c.s
	}
	row, err := s.st.ChatSettings(ctx, chat)
	if err != nil {
		s.log.WarnContext(ctx, "settings read failed; using the defaults", "err", err)
		return Settings{}
	}
	st := Settings(row)
	s.remember(chat, st, now)
	return st
}

func (s *Service) remember(chat int64, st Settings, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.cache) >= cacheSize {
		clear(s.cache)
	}
	c := cached{at: now.UnixNano()}
	if st != (Settings{}) {
		c.s = &st
	}
	s.cache[chat] = c
}
