// Package telegram is the bot's Telegram transport: the Bot API client behind
// a small interface, webhook intake and long polling that journal each update
// before acknowledging it, the bounded queue and worker pool, replay of what
// a previous run left unanswered, and outbound sending with rate limits,
// splitting, 429 retry, and memory of chats that refuse the bot.
//
// Besides commands it carries the interaction of modules.Request and Reply:
// replies to the command message in its forum topic with an inline
// keyboard; button presses, limited per user, whose reply edits the pressed
// message and whose query is always answered (with a toast, or at the reply
// deadline); inline queries, always answered; and the bot's own membership
// changes. MemberCache checks group admins for features.
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
	EditMessageText(ctx context.Context, e EditText) error
	// EditMessagePhoto replaces a photo message's photo and caption (editMessageMedia).
	EditMessagePhoto(ctx context.Context, e EditPhoto) error
	AnswerCallbackQuery(ctx context.Context, a CallbackAnswer) error
	AnswerInlineQuery(ctx context.Context, a InlineAnswer) error
	// ChatMember returns user's status in chat (getChatMember): creator,
	// administrator, member, restricted, left or kicked.
	ChatMember(ctx context.Context, chat, user int64) (string, error)
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
	MessageID       int64  `json:"message_id"`
	MessageThreadID int64  `json:"message_thread_id,omitempty"`
	IsTopicMessage  bool   `json:"is_topic_message,omitempty"`
	From            *User  `json:"from,omitempty"`
	Chat            Chat   `json:"chat"`
	Date            int64  `json:"date"` // 0 in a callback query: the message is inaccessible
	Text            string `json:"text,omitempty"`
}

// CallbackQuery is a press of an inline keyboard button.
type CallbackQuery struct {
	ID      string   `json:"id"`
	From    User     `json:"from"`
	Message *Message `json:"message,omitempty"` // absent for a message sent in inline mode
	Data    string   `json:"data,omitempty"`    // absent for a game
}

// InlineQuery is "@bot query" typed in a chat.
type InlineQuery struct {
	ID       string `json:"id"`
	From     User   `json:"from"`
	Query    string `json:"query"`
	ChatType string `json:"chat_type,omitempty"`
}

// ChatMemberUpdated is a change of a member's status; my_chat_member is the bot's own.
type ChatMemberUpdated struct {
	Chat Chat       `json:"chat"`
	From User       `json:"from"`
	Old  ChatMember `json:"old_chat_member"`
	New  ChatMember `json:"new_chat_member"`
}

// ChatMember is the part of a member's record the bot reads.
type ChatMember struct {
	Status string `json:"status"`
}

// Update is one incoming update: a message, a button press, an inline
// query or a change of the bot's membership.
type Update struct {
	UpdateID      int64              `json:"update_id"`
	Message       *Message           `json:"message,omitempty"`
	CallbackQuery *CallbackQuery     `json:"callback_query,omitempty"`
	InlineQuery   *InlineQuery       `json:"inline_query,omitempty"`
	MyChatMember  *ChatMemberUpdated `json:"my_chat_member,omitempty"`
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
	Send
}

// OutPhoto is one sendPhoto call with a PNG uploaded as multipart.
type OutPhoto struct {
	ChatID    int64
	PNG       []byte
	Caption   string
	ParseMode string
	Send
}

// Send is what a sent message carries besides its content.
type Send struct {
	ReplyTo  int64 // reply to this message (sent anyway if it is gone); 0 for none
	ThreadID int64 // forum topic; 0 for none or General
	Keyboard Keyboard
	Silent   bool // disable_notification
}

// Keyboard is an inline keyboard: rows of buttons; nil for none.
type Keyboard [][]InlineButton

// InlineButton is a callback button (CallbackData) or a link (URL).
type InlineButton struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data,omitempty"`
	URL          string `json:"url,omitempty"`
}

// EditText is one editMessageText call.
type EditText struct {
	ChatID, MessageID int64
	Text, ParseMode   string
	Keyboard          Keyboard
}

// EditPhoto is one editMessageMedia call replacing a photo, uploaded as multipart.
type EditPhoto struct {
	ChatID, MessageID  int64
	PNG                []byte
	Caption, ParseMode string
	Keyboard           Keyboard
}

// CallbackAnswer is one answerCallbackQuery call; Text is the toast (≤ 200 characters).
type CallbackAnswer struct {
	ID, Text string
}

// InlineAnswer is one answerInlineQuery call with article results.
type InlineAnswer struct {
	ID        string
	Results   []InlineArticle
	CacheTime int // seconds
	Personal  bool
	// Button, if Text is set, opens the private chat with /start Start.
	ButtonText, ButtonStart string
}

// InlineArticle is an article result sending Text in ParseMode.
type InlineArticle struct {
	ID, Title, Description string
	Text, ParseMode        string
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
