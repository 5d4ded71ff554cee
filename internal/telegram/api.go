// Package telegram is the bot's Telegram transport: the Bot API client behind
// a small interface, webhook intake and long polling that journal each update
// before acknowledging it, the bounded queue and worker pool, replay of what
// a previous run left unanswered, and outbound sending with rate limits,
// splitting, 429 retry, and memory of chats that refuse the bot.
package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// API is the part of the Telegram Bot API the bot uses; BotClient implements
// it over net/http.
type API interface {
	GetMe(ctx context.Context) (User, error)
	SetWebhook(ctx context.Context, w Webhook) error
	DeleteWebhook(ctx context.Context) error
	// GetUpdates long-polls: offset confirms everything below it.
	GetUpdates(ctx context.Context, offset int64, timeout time.Duration) ([]Update, error)
	SendMessage(ctx context.Context, m OutMessage) error
	SendPhoto(ctx context.Context, p OutPhoto) error
	SetMyCommands(ctx context.Context, cmds []BotCommand) error
}

// User is a Telegram user or bot.
type User struct {
	ID           int64  `json:"id"`
	IsBot        bool   `json:"is_bot"`
	FirstName    string `json:"first_name"`
	Username     string `json:"username,omitempty"`
	LanguageCode string `json:"language_code,omitempty"`
}

// Chat is the chat a message belongs to.
type Chat struct {
	ID   int64  `json:"id"`
	Type string `json:"type"` // private, group, supergroup, channel
}

// Message is the subset of a Telegram message the bot reads.
type Message struct {
	MessageID int64  `json:"message_id"`
	From      *User  `json:"from,omitempty"`
	Chat      Chat   `json:"chat"`
	Date      int64  `json:"date"`
	Text      string `json:"text,omitempty"`
}

// Update is one incoming update; the bot reads messages only.
type Update struct {
	UpdateID int64    `json:"update_id"`
	Message  *Message `json:"message,omitempty"`
	// Raw is the update's JSON as received (webhook body or getUpdates
	// element), journaled as is; empty for an update built in code.
	Raw json.RawMessage `json:"-"`
}

// Webhook is the setWebhook call.
type Webhook struct {
	URL            string
	Secret         string
	AllowedUpdates []string
	MaxConnections int
}

// OutMessage is one sendMessage call. ParseMode is "HTML" or "" for plain text.
type OutMessage struct {
	ChatID    int64
	Text      string
	ParseMode string
}

// OutPhoto is one sendPhoto call with a PNG uploaded as multipart.
type OutPhoto struct {
	ChatID    int64
	PNG       []byte
	Caption   string
	ParseMode string
}

// BotCommand is one entry of setMyCommands.
type BotCommand struct {
	Command     string `json:"command"`
	Description string `json:"description"`
}

// Error is a Bot API error envelope: {"ok":false,"error_code":…,"description":…,"parameters":{…}}.
type Error struct {
	Method      string
	Code        int
	Description string
	RetryAfter  time.Duration // from parameters.retry_after on 429
	MigrateTo   int64         // from parameters.migrate_to_chat_id: the group became this supergroup
}

func (e *Error) Error() string {
	return fmt.Sprintf("telegram %s: %d %s", e.Method, e.Code, e.Description)
}

// ErrTooManyRequests matches a 429 *Error with errors.Is.
var ErrTooManyRequests = errors.New("telegram: too many requests")

// Is makes errors.Is(err, ErrTooManyRequests) true for 429.
func (e *Error) Is(target error) bool { return target == ErrTooManyRequests && e.Code == 429 }
