// Package telegramtest is a fake Telegram Bot API server for tests and local
// end-to-end runs. It speaks the real wire format (JSON, urlencoded and
// multipart requests; {"ok":…} envelopes), long-polls getUpdates for real,
// pushes updates to a webhook with the secret header and retries, and can
// inject 429 and 5xx answers. It knows the interaction the bot uses, with
// the real server's checks: replies and forum topics, inline keyboards,
// edits in place, button presses (Press), inline queries (Inline), the
// bot's membership (MemberChange), getChatMember statuses (SetMember) and
// allowed_updates. It uses only the standard library and does not import
// package telegram, so tests inside that package can use it.
package telegramtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/tick"
)

// DefaultToken is the bot token the server accepts unless Options.Token is set.
const DefaultToken = "7000000001:AAFakeTokenForTests-0123456789abcdef"

// Options configures New. The zero value is ready to use.
type Options struct {
	// Addr is the listen address; default "127.0.0.1:0".
	Addr string
	// Token is the only accepted bot token; default DefaultToken.
	Token string
	// Username is getMe's username; default "CryptoTestBot".
	Username string
	// Log receives webhook delivery failures; nil discards.
	Log *slog.Logger
	// RetryBackoff is the first webhook retry delay, doubled per failed
	// attempt up to 1 s; default 50 ms (the real server starts at 1 s).
	RetryBackoff time.Duration
	// MaxRetryAfter caps a webhook's Retry-After answer; default 5 s
	// (the real server caps at 3600 s).
	MaxRetryAfter time.Duration
	// MaxAttempts is how often one update is pushed before it is dropped;
	// default 10.
	MaxAttempts int

	// sleep waits between webhook attempts; tests replace it to observe
	// the delays without waiting.
	sleep func(ctx context.Context, d time.Duration) bool
}

// Update is a Bot API update as the fake serves it.
type Update struct {
	UpdateID      int64              `json:"update_id"`
	Message       *Message           `json:"message,omitempty"`
	CallbackQuery *CallbackQuery     `json:"callback_query,omitempty"`
	InlineQuery   *InlineQuery       `json:"inline_query,omitempty"`
	MyChatMember  *ChatMemberUpdated `json:"my_chat_member,omitempty"`
}

// Message is the subset of a Bot API message the fake produces.
type Message struct {
	MessageID       int64       `json:"message_id"`
	MessageThreadID int64       `json:"message_thread_id,omitempty"`
	IsTopicMessage  bool        `json:"is_topic_message,omitempty"`
	From            *User       `json:"from,omitempty"`
	Chat            Chat        `json:"chat"`
	Date            int64       `json:"date"` // 0 marks an InaccessibleMessage in a callback query
	Text            string      `json:"text,omitempty"`
	Entities        []Entity    `json:"entities,omitempty"`
	Caption         string      `json:"caption,omitempty"`
	Photo           []PhotoSize `json:"photo,omitempty"`
	ReplyMarkup     *Keyboard   `json:"reply_markup,omitempty"`
}

// User is a Telegram user or bot.
type User struct {
	ID           int64  `json:"id"`
	IsBot        bool   `json:"is_bot"`
	FirstName    string `json:"first_name"`
	Username     string `json:"username,omitempty"`
	LanguageCode string `json:"language_code,omitempty"`
}

// Chat is a message's chat.
type Chat struct {
	ID      int64  `json:"id"`
	Type    string `json:"type"`
	IsForum bool   `json:"is_forum,omitempty"`
}

// Entity is a message entity such as bot_command.
type Entity struct {
	Type   string `json:"type"`
	Offset int    `json:"offset"`
	Length int    `json:"length"`
}

// PhotoSize describes an uploaded photo.
type PhotoSize struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	FileSize     int    `json:"file_size"`
}

// Command is one setMyCommands entry.
type Command struct {
	Command     string `json:"command"`
	Description string `json:"description"`
}

// SentMessage is one accepted sendMessage, sendPhoto, editMessageText or
// editMessageMedia call.
type SentMessage struct {
	Method              string     `json:"method"`
	MessageID           int64      `json:"message_id"` // the new message, or the edited one
	ChatID              int64      `json:"chat_id"`
	Text                string     `json:"text"` // the text as sent, or the photo caption
	ParseMode           string     `json:"parse_mode,omitempty"`
	LinkPreviewDisabled bool       `json:"link_preview_disabled,omitempty"`
	PhotoSize           int        `json:"photo_size,omitempty"` // bytes uploaded, 0 for text
	ReplyTo             int64      `json:"reply_to,omitempty"`   // reply_parameters.message_id
	ThreadID            int64      `json:"thread_id,omitempty"`  // message_thread_id
	Buttons             [][]Button `json:"buttons,omitempty"`    // the inline keyboard
	Silent              bool       `json:"silent,omitempty"`     // disable_notification
	Time                time.Time  `json:"time"`
}

type failure struct {
	status     int
	left       int
	retryAfter int
}

type webhook struct {
	url, secret    string
	maxConnections int
	lastErrorDate  int64
	lastError      string
}

// Server is a running fake Bot API. Create it with New and stop it with Close.
type Server struct {
	opts   Options
	log    *slog.Logger
	me     User
	url    string
	srv    *http.Server
	pushHC *http.Client
	cancel context.CancelFunc
	done   <-chan struct{}
	kick   chan struct{} // wakes the webhook dispatcher
	wg     sync.WaitGroup
	once   sync.Once

	mu         sync.Mutex
	closed     bool
	nextUpdate int64
	nextMsg    int64
	pending    []Update      // awaiting getUpdates, ascending update_id
	arrived    chan struct{} // closed and replaced when pending grows
	poll       chan struct{} // the pending getUpdates; closed to terminate it
	hook       webhook
	chats      map[int64][]Update // awaiting webhook delivery, per chat
	delivering map[int64]bool
	inflight   map[int64]int64 // chat → update_id being pushed
	chatTypes  map[int64]string
	sent       []SentMessage
	sentCh     chan struct{} // closed and replaced on every sent message
	calls      map[string]int
	fail       map[string][]failure
	refusals   map[int64]Refusal // chat → how sends to it are refused
	commands   []Command
	allowed    []string // allowed_updates of the last setWebhook or getUpdates; nil = default

	msgs     map[msgKey]*stored // every message in every chat, the bot's and the users'
	topics   map[msgKey]bool    // forum topics: {chat, message_thread_id}
	members  map[msgKey]string  // getChatMember statuses: {chat, user}
	queries  map[string]*query  // callback and inline query ids → unanswered or answered
	nextQ    int64
	answers  []CallbackAnswer
	inlineAs []InlineAnswer
}

// New starts a server on opts.Addr (127.0.0.1 and a free port by default).
// It panics if it cannot listen, like httptest.NewServer; use Start to get
// the error instead.
func New(opts Options) *Server {
	s, err := Start(opts)
	if err != nil {
		panic(err)
	}
	return s
}

// Start is New returning the listen error.
func Start(opts Options) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Token == "" {
		opts.Token = DefaultToken
	}
	if opts.Username == "" {
		opts.Username = "CryptoTestBot"
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.RetryBackoff <= 0 {
		opts.RetryBackoff = 50 * time.Millisecond
	}
	if opts.MaxRetryAfter <= 0 {
		opts.MaxRetryAfter = 5 * time.Second
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 10
	}
	if opts.sleep == nil {
		opts.sleep = tick.Sleep
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("telegramtest: listen: %w", err)
	}
	botID, err := strconv.ParseInt(strings.SplitN(opts.Token, ":", 2)[0], 10, 64)
	if err != nil {
		botID = 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		opts:       opts,
		log:        opts.Log,
		me:         User{ID: botID, IsBot: true, FirstName: "Crypto Test Bot", Username: opts.Username},
		url:        "http://" + ln.Addr().String(),
		pushHC:     &http.Client{Timeout: 10 * time.Second, Transport: http.DefaultTransport.(*http.Transport).Clone()},
		cancel:     cancel,
		done:       ctx.Done(),
		kick:       make(chan struct{}, 1),
		arrived:    make(chan struct{}),
		sentCh:     make(chan struct{}),
		chats:      map[int64][]Update{},
		delivering: map[int64]bool{},
		inflight:   map[int64]int64{},
		chatTypes:  map[int64]string{},
		calls:      map[string]int{},
		fail:       map[string][]failure{},
		msgs:       map[msgKey]*stored{},
		topics:     map[msgKey]bool{},
		members:    map[msgKey]string{},
		queries:    map[string]*query{},
	}
	mux := http.NewServeMux()
	s.controlRoutes(mux)
	mux.HandleFunc("/", s.serveBotAPI)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		if err := s.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("telegramtest: serve", "err", err)
		}
	}()
	go func() {
		defer s.wg.Done()
		s.dispatch(ctx)
	}()
	return s, nil
}

// URL is the base URL to give a client as its API URL.
func (s *Server) URL() string { return s.url }

// Token is the bot token the server accepts.
func (s *Server) Token() string { return s.opts.Token }

// Close ends pending long polls and webhook deliveries, stops the server and
// waits for every goroutine it started. It is safe to call more than once.
func (s *Server) Close() {
	s.once.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.cancel()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil {
			s.srv.Close()
		}
		s.wg.Wait()
		s.pushHC.CloseIdleConnections()
	})
}

// AddUpdate assigns u the next update_id (and a message_id and date if its
// message lacks them), then pushes it to the webhook if one is set or queues
// it for getUpdates. It returns the update_id, or 0 when the update's type
// is not in the bot's allowed_updates: the real server discards those when
// they happen.
func (s *Server) AddUpdate(u Update) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addUpdate(u)
}

// addUpdate is AddUpdate; s.mu must be held.
func (s *Server) addUpdate(u Update) int64 {
	if !s.allows(updateType(u)) {
		return 0
	}
	s.nextUpdate++
	u.UpdateID = s.nextUpdate
	if m := u.Message; m != nil {
		if m.MessageID == 0 {
			s.nextMsg++
			m.MessageID = s.nextMsg
		}
		if m.Date == 0 {
			m.Date = time.Now().Unix()
		}
		s.chatTypes[m.Chat.ID] = m.Chat.Type
		s.store(m, nil)
	}
	if c := u.MyChatMember; c != nil {
		s.chatTypes[c.Chat.ID] = c.Chat.Type
	}
	if s.hook.url != "" {
		s.chats[chatOf(u)] = append(s.chats[chatOf(u)], u)
		s.kickDispatcher()
	} else {
		s.pending = append(s.pending, u)
		s.notifyArrived()
	}
	return u.UpdateID
}

// SendText injects a text message from userID in chatID, as Telegram would
// deliver it: a leading /command gets a bot_command entity. chatType ""
// means "private".
func (s *Server) SendText(chatID, userID int64, chatType, text string) int64 {
	if chatType == "" {
		chatType = "private"
	}
	m := &Message{
		From: &User{ID: userID, FirstName: "Tester", LanguageCode: "en"},
		Chat: Chat{ID: chatID, Type: chatType},
		Text: text,
	}
	if strings.HasPrefix(text, "/") {
		cmd, _, _ := strings.Cut(text, " ")
		m.Entities = []Entity{{Type: "bot_command", Offset: 0, Length: utf16Len(cmd)}}
	}
	return s.AddUpdate(Update{Message: m})
}

// Sent returns every accepted sendMessage and sendPhoto, in order.
func (s *Server) Sent() []SentMessage {
	return copyOf(s, func() []SentMessage { return s.sent })
}

// WaitSent blocks until at least n messages were sent and returns them all,
// or fails when ctx ends or the server closes.
func (s *Server) WaitSent(ctx context.Context, n int) ([]SentMessage, error) {
	return waitN(ctx, s, n, "messages sent", func() []SentMessage { return s.sent })
}

// copyOf returns a copy of the list that list reads under s.mu.
func copyOf[T any](s *Server, list func() []T) []T {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(list())
}

// waitN blocks until list (read under s.mu) holds n entries and returns a
// copy, or fails when ctx ends or the server closes.
func waitN[T any](ctx context.Context, s *Server, n int, what string, list func() []T) ([]T, error) {
	for {
		s.mu.Lock()
		l, ch := list(), s.sentCh
		if len(l) >= n {
			out := slices.Clone(l)
			s.mu.Unlock()
			return out, nil
		}
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("telegramtest: %d of %d %s: %w", len(l), n, what, ctx.Err())
		case <-s.done:
			return nil, fmt.Errorf("telegramtest: %d of %d %s: server closed", len(l), n, what)
		}
	}
}

// FailNext makes the next n calls of method (case-insensitive) fail with
// status and a Telegram-shaped body before any validation. For 429 the body
// carries retry_after, retryAfter rounded up to whole seconds.
func (s *Server) FailNext(method string, status, n int, retryAfter time.Duration) {
	if n <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := strings.ToLower(method)
	s.fail[m] = append(s.fail[m], failure{status: status, left: n, retryAfter: ceilSeconds(retryAfter)})
}

// Refusal is how the fake refuses sends to one chat, with the real
// server's envelope.
type Refusal struct {
	// Code 403: blocked by the user; 400: chat not found, or, with
	// MigrateTo, a group upgraded to the supergroup MigrateTo.
	Code      int
	MigrateTo int64
}

// Chat refusals the real server answers.
var (
	Blocked      = Refusal{Code: http.StatusForbidden}
	ChatNotFound = Refusal{Code: http.StatusBadRequest}
)

// Migrated is the refusal of a group that became the supergroup to.
func Migrated(to int64) Refusal { return Refusal{Code: http.StatusBadRequest, MigrateTo: to} }

// Refuse makes every later sendMessage and sendPhoto to chat
// fail with r until Accept(chat).
func (s *Server) Refuse(chat int64, r Refusal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refusals == nil {
		s.refusals = map[int64]Refusal{}
	}
	s.refusals[chat] = r
}

// Accept undoes Refuse.
func (s *Server) Accept(chat int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.refusals, chat)
}

// refused returns the error for a send to chat, nil if it is accepted.
func (s *Server) refused(chat int64) *apiError {
	s.mu.Lock()
	r, ok := s.refusals[chat]
	s.mu.Unlock()
	switch {
	case !ok:
		return nil
	case r.MigrateTo != 0:
		e := badRequest("group chat was upgraded to a supergroup chat")
		e.migrateTo = r.MigrateTo
		return e
	case r.Code == http.StatusForbidden:
		return &apiError{code: r.Code, desc: "Forbidden: bot was blocked by the user"}
	}
	return badRequest("chat not found")
}

// Calls reports how many requests named method (case-insensitive) arrived
// with the right token, failed or not.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[strings.ToLower(method)]
}

// Webhook returns the webhook URL and secret token; both empty if none is set.
func (s *Server) Webhook() (url, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hook.url, s.hook.secret
}

// Polling reports whether a getUpdates long poll is waiting for updates.
func (s *Server) Polling() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.poll != nil
}

// Commands returns the last setMyCommands list.
func (s *Server) Commands() []Command {
	return copyOf(s, func() []Command { return s.commands })
}

// notifyArrived wakes long polls; s.mu must be held.
func (s *Server) notifyArrived() {
	close(s.arrived)
	s.arrived = make(chan struct{})
}

// record stores a sent message and wakes WaitSent; s.mu must be held.
func (s *Server) record(m SentMessage) {
	s.sent = append(s.sent, m)
	s.changed()
}

// changed wakes the waiters on what the bot sent or answered; s.mu must be held.
func (s *Server) changed() {
	close(s.sentCh)
	s.sentCh = make(chan struct{})
}

// takeFailure consumes an injected failure for method; s.mu must be held.
func (s *Server) takeFailure(method string) (failure, bool) {
	q := s.fail[method]
	if len(q) == 0 {
		return failure{}, false
	}
	f := q[0]
	if q[0].left--; q[0].left == 0 {
		s.fail[method] = q[1:]
	}
	return f, true
}

// apiError is a Telegram-shaped error answer.
type apiError struct {
	code       int
	desc       string
	retryAfter int
	migrateTo  int64
}

func badRequest(format string, args ...any) *apiError {
	return &apiError{code: http.StatusBadRequest, desc: "Bad Request: " + fmt.Sprintf(format, args...)}
}

// injected builds the answer for a FailNext failure.
func injected(f failure) *apiError {
	switch f.status {
	case http.StatusTooManyRequests:
		return &apiError{code: f.status, desc: fmt.Sprintf("Too Many Requests: retry after %d", f.retryAfter), retryAfter: f.retryAfter}
	case http.StatusBadRequest:
		return badRequest("chat not found")
	case http.StatusForbidden:
		return &apiError{code: f.status, desc: "Forbidden: bot was blocked by the user"}
	case http.StatusConflict:
		return &apiError{code: f.status, desc: conflictPoll}
	}
	return &apiError{code: f.status, desc: http.StatusText(f.status)}
}

func writeResult(w http.ResponseWriter, result any) {
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "result": result})
}

func writeError(w http.ResponseWriter, e *apiError) {
	body := map[string]any{"ok": false, "error_code": e.code, "description": e.desc}
	switch {
	case e.migrateTo != 0:
		body["parameters"] = map[string]int64{"migrate_to_chat_id": e.migrateTo}
	case e.retryAfter > 0 || e.code == http.StatusTooManyRequests:
		body["parameters"] = map[string]int{"retry_after": e.retryAfter}
	}
	writeJSON(w, e.code, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client is gone if this fails
}

// chatOf is the webhook queue an update waits in.
func chatOf(u Update) int64 {
	switch {
	case u.Message != nil:
		return u.Message.Chat.ID
	case u.CallbackQuery != nil && u.CallbackQuery.Message != nil:
		return u.CallbackQuery.Message.Chat.ID
	case u.CallbackQuery != nil:
		return u.CallbackQuery.From.ID
	case u.InlineQuery != nil:
		return u.InlineQuery.From.ID
	case u.MyChatMember != nil:
		return u.MyChatMember.Chat.ID
	}
	return 0
}

func ceilSeconds(d time.Duration) int {
	return int((d + time.Second - 1) / time.Second)
}
