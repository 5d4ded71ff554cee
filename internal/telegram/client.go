package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/metrics"
)

// Client defaults.
const (
	DefaultAPIURL = "https://api.telegram.org"
	// DefaultPollTimeout is the getUpdates long-poll timeout, the one value
	// used by both the client and the Bot.
	DefaultPollTimeout = 25 * time.Second

	// pollGrace is how much longer than the longest long poll the HTTP
	// client waits, so a healthy poll never dies of the client timeout.
	pollGrace = 10 * time.Second
	// maxResponseBytes bounds a getUpdates body (100 updates).
	maxResponseBytes = 16 << 20
)

// Methods are the Bot API methods the client calls, the "method" label of
// the Telegram request metrics.
func Methods() []string {
	return []string{"getMe", "setWebhook", "deleteWebhook", "getUpdates", "sendMessage", "sendPhoto", "setMyCommands",
		"editMessageText", "editMessageMedia", "answerCallbackQuery", "answerInlineQuery", "getChatMember"}
}

// Statuses are the values of the "status" label of TelegramRequests.
func Statuses() []string {
	return []string{"200", "400", "401", "403", "409", "429", "4xx", "5xx", "error"}
}

// ClientConfig configures NewBotClient.
type ClientConfig struct {
	// Token is the bot token; it never appears in errors or logs.
	Token string
	// APIURL is the Bot API server; default DefaultAPIURL.
	APIURL string
	// HTTP is the client for every call. Its Timeout, if set, must exceed
	// PollTimeout by at least a second. Default: Timeout = PollTimeout + 10 s.
	HTTP *http.Client
	// PollTimeout is the longest getUpdates long poll; default DefaultPollTimeout.
	PollTimeout time.Duration
	// Metrics, if set, receives TelegramRequests, TelegramDuration and
	// TelegramRateLimit.
	Metrics *metrics.Metrics
	// Log receives the client's own warnings. Nil discards.
	Log *slog.Logger
}

// BotClient implements API over net/http and encoding/json: each method is
// one POST to /bot<token>/<method> answered by the Bot API envelope. It is
// safe for concurrent use.
type BotClient struct {
	hc          *http.Client
	apiURL      string
	token       string
	pollTimeout time.Duration
	m           *metrics.Metrics
	log         *slog.Logger
}

var _ API = (*BotClient)(nil)

// NewBotClient validates cfg and builds a client. It makes no request.
// Errors never contain the token.
func NewBotClient(cfg ClientConfig) (*BotClient, error) {
	if cfg.Token == "" || strings.ContainsAny(cfg.Token, "/?#% \t\r\n") {
		return nil, errors.New("telegram client: invalid bot token")
	}
	apiURL := cfg.APIURL
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	apiURL = strings.TrimRight(apiURL, "/")
	if u, err := url.Parse(apiURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("telegram client: invalid api url %q", apiURL)
	}
	poll := cfg.PollTimeout
	switch {
	case poll < 0:
		return nil, fmt.Errorf("telegram client: negative poll timeout %s", poll)
	case poll == 0:
		poll = DefaultPollTimeout
	}
	hc := cfg.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: poll + pollGrace}
	} else if hc.Timeout != 0 && hc.Timeout < poll+time.Second {
		return nil, fmt.Errorf("telegram client: http timeout %s must exceed poll timeout %s by at least 1s", hc.Timeout, poll)
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &BotClient{hc: hc, apiURL: apiURL, token: cfg.Token, pollTimeout: poll, m: cfg.Metrics, log: log}, nil
}

// GetMe returns the bot's own user.
func (c *BotClient) GetMe(ctx context.Context) (User, error) {
	var u User
	err := c.callJSON(ctx, "getMe", struct{}{}, &u)
	return u, err
}

// SetWebhook registers w.URL with w.Secret as secret_token. Nil
// AllowedUpdates keeps the server's previous setting; MaxConnections 0 keeps
// the default of 40.
func (c *BotClient) SetWebhook(ctx context.Context, w Webhook) error {
	return c.callJSON(ctx, "setWebhook", struct {
		URL            string   `json:"url"`
		Secret         string   `json:"secret_token,omitempty"`
		AllowedUpdates []string `json:"allowed_updates,omitempty"`
		MaxConnections int      `json:"max_connections,omitempty"`
	}{w.URL, w.Secret, w.AllowedUpdates, w.MaxConnections}, nil)
}

// DeleteWebhook removes the webhook and keeps pending updates for getUpdates.
func (c *BotClient) DeleteWebhook(ctx context.Context) error {
	return c.callJSON(ctx, "deleteWebhook", struct{}{}, nil)
}

// AllowedUpdates are the update types the bot asks for, in setWebhook and
// getUpdates: Telegram discards the others when they happen.
func AllowedUpdates() []string {
	return []string{"message", "callback_query", "inline_query", "my_chat_member"}
}

// GetUpdates long-polls for up to timeout (clamped to the configured poll
// timeout, sent in whole seconds, 0 = no wait) for AllowedUpdates. offset
// confirms every update below it. Cancelling ctx ends a pending poll at once.
func (c *BotClient) GetUpdates(ctx context.Context, offset int64, timeout time.Duration) ([]Update, error) {
	if timeout < 0 {
		return nil, fmt.Errorf("telegram getUpdates: negative timeout %s", timeout)
	}
	var raws []json.RawMessage
	err := c.callJSON(ctx, "getUpdates", struct {
		Offset  int64    `json:"offset"`
		Timeout int      `json:"timeout"`
		Allowed []string `json:"allowed_updates"`
	}{offset, int(math.Ceil(min(timeout, c.pollTimeout).Seconds())), AllowedUpdates()}, &raws)
	if err != nil {
		return nil, err
	}
	ups := make([]Update, 0, len(raws))
	for _, raw := range raws {
		var u Update
		if err := json.Unmarshal(raw, &u); err != nil {
			return nil, fmt.Errorf("telegram getUpdates: decode update: %w", err)
		}
		u.Raw = raw
		ups = append(ups, u)
	}
	return ups, nil
}

// SendMessage sends text with link previews disabled. ParseMode must be
// "HTML" or "".
func (c *BotClient) SendMessage(ctx context.Context, m OutMessage) error {
	if err := checkParseMode("sendMessage", m.ParseMode); err != nil {
		return err
	}
	return c.callJSON(ctx, "sendMessage", struct {
		ChatID    int64        `json:"chat_id"`
		Text      string       `json:"text"`
		ParseMode string       `json:"parse_mode,omitempty"`
		Preview   linkPreview  `json:"link_preview_options"`
		Thread    int64        `json:"message_thread_id,omitempty"`
		Reply     *replyParams `json:"reply_parameters,omitempty"`
		Markup    *markup      `json:"reply_markup,omitempty"`
		Silent    bool         `json:"disable_notification,omitempty"`
	}{m.ChatID, m.Text, m.ParseMode, noPreview, m.ThreadID, m.replyParams(), m.Keyboard.markup(), m.Silent}, nil)
}

// linkPreview is LinkPreviewOptions: prices need no link previews.
type linkPreview struct {
	IsDisabled bool `json:"is_disabled"`
}

var noPreview = linkPreview{IsDisabled: true}

// replyParams are ReplyParameters: a reply that is sent even when the
// message it answers is gone.
type replyParams struct {
	MessageID    int64 `json:"message_id"`
	WithoutReply bool  `json:"allow_sending_without_reply"`
}

func (s Send) replyParams() *replyParams {
	if s.ReplyTo == 0 {
		return nil
	}
	return &replyParams{s.ReplyTo, true}
}

// markup is an InlineKeyboardMarkup.
type markup struct {
	InlineKeyboard Keyboard `json:"inline_keyboard"`
}

func (k Keyboard) markup() *markup {
	if len(k) == 0 {
		return nil
	}
	return &markup{k}
}

// fields are s as multipart form fields.
func (s Send) fields() [][2]string {
	var f [][2]string
	if s.ThreadID != 0 {
		f = append(f, [2]string{"message_thread_id", strconv.FormatInt(s.ThreadID, 10)})
	}
	if rp := s.replyParams(); rp != nil {
		f = append(f, [2]string{"reply_parameters", jsonField(rp)})
	}
	return append(f, keyboardField(s.Keyboard)...)
}

func keyboardField(k Keyboard) [][2]string {
	if m := k.markup(); m != nil {
		return [][2]string{{"reply_markup", jsonField(m)}}
	}
	return nil
}

// jsonField encodes a form field's JSON value; our plain structs cannot fail.
func jsonField(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// SendPhoto uploads p.PNG as multipart with its caption. An empty PNG is
// refused without a request.
func (c *BotClient) SendPhoto(ctx context.Context, p OutPhoto) error {
	if err := checkParseMode("sendPhoto", p.ParseMode); err != nil {
		return err
	}
	fields := [][2]string{{"chat_id", strconv.FormatInt(p.ChatID, 10)}, {"caption", p.Caption}, {"parse_mode", p.ParseMode}}
	return c.upload(ctx, "sendPhoto", append(fields, p.fields()...), "photo", p.PNG)
}

// upload makes a multipart call with png as the file field file; empty
// fields are left out. An empty PNG is refused without a request.
func (c *BotClient) upload(ctx context.Context, method string, fields [][2]string, file string, png []byte) error {
	if len(png) == 0 {
		return fmt.Errorf("telegram %s: empty photo", method)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range fields {
		if f[1] != "" {
			_ = mw.WriteField(f[0], f[1]) // writes to a bytes.Buffer cannot fail
		}
	}
	part, _ := mw.CreateFormFile(file, "chart.png")
	_, _ = part.Write(png)
	_ = mw.Close()
	return c.call(ctx, method, mw.FormDataContentType(), body.Bytes(), nil)
}

// EditMessageText replaces a message's text and keyboard (none if nil).
func (c *BotClient) EditMessageText(ctx context.Context, e EditText) error {
	if err := checkParseMode("editMessageText", e.ParseMode); err != nil {
		return err
	}
	return c.callJSON(ctx, "editMessageText", struct {
		ChatID    int64       `json:"chat_id"`
		MessageID int64       `json:"message_id"`
		Text      string      `json:"text"`
		ParseMode string      `json:"parse_mode,omitempty"`
		Preview   linkPreview `json:"link_preview_options"`
		Markup    *markup     `json:"reply_markup,omitempty"`
	}{e.ChatID, e.MessageID, e.Text, e.ParseMode, noPreview, e.Keyboard.markup()}, nil)
}

// EditMessagePhoto replaces a photo message's photo, caption and keyboard
// with editMessageMedia, the PNG attached as multipart (attach://).
func (c *BotClient) EditMessagePhoto(ctx context.Context, e EditPhoto) error {
	if err := checkParseMode("editMessageMedia", e.ParseMode); err != nil {
		return err
	}
	media := jsonField(struct {
		Type      string `json:"type"`
		Media     string `json:"media"`
		Caption   string `json:"caption,omitempty"`
		ParseMode string `json:"parse_mode,omitempty"`
	}{"photo", "attach://chart", e.Caption, e.ParseMode})
	fields := [][2]string{{"chat_id", strconv.FormatInt(e.ChatID, 10)}, {"message_id", strconv.FormatInt(e.MessageID, 10)},
		{"media", media}}
	return c.upload(ctx, "editMessageMedia", append(fields, keyboardField(e.Keyboard)...), "chart", e.PNG)
}

// AnswerCallbackQuery stops the client's spinner, showing a.Text as a toast if set.
func (c *BotClient) AnswerCallbackQuery(ctx context.Context, a CallbackAnswer) error {
	return c.callJSON(ctx, "answerCallbackQuery", struct {
		ID   string `json:"callback_query_id"`
		Text string `json:"text,omitempty"`
	}{a.ID, a.Text}, nil)
}

// AnswerInlineQuery answers an inline query with article results.
func (c *BotClient) AnswerInlineQuery(ctx context.Context, a InlineAnswer) error {
	type content struct {
		Text      string      `json:"message_text"`
		ParseMode string      `json:"parse_mode,omitempty"`
		Preview   linkPreview `json:"link_preview_options"`
	}
	type article struct {
		Type        string  `json:"type"`
		ID          string  `json:"id"`
		Title       string  `json:"title"`
		Description string  `json:"description,omitempty"`
		Content     content `json:"input_message_content"`
	}
	type button struct {
		Text  string `json:"text"`
		Start string `json:"start_parameter"`
	}
	results := make([]article, len(a.Results))
	for i, r := range a.Results {
		results[i] = article{Type: "article", ID: r.ID, Title: r.Title, Description: r.Description,
			Content: content{Text: r.Text, ParseMode: r.ParseMode, Preview: noPreview}}
	}
	var b *button
	if a.ButtonText != "" {
		b = &button{a.ButtonText, a.ButtonStart}
	}
	return c.callJSON(ctx, "answerInlineQuery", struct {
		ID        string    `json:"inline_query_id"`
		Results   []article `json:"results"`
		CacheTime int       `json:"cache_time"`
		Personal  bool      `json:"is_personal,omitempty"`
		Button    *button   `json:"button,omitempty"`
	}{a.ID, results, a.CacheTime, a.Personal, b}, nil)
}

// ChatMember returns user's status in chat.
func (c *BotClient) ChatMember(ctx context.Context, chat, user int64) (string, error) {
	var m ChatMember
	err := c.callJSON(ctx, "getChatMember", struct {
		Chat int64 `json:"chat_id"`
		User int64 `json:"user_id"`
	}{chat, user}, &m)
	return m.Status, err
}

// SetMyCommands replaces the bot's command list (default scope).
func (c *BotClient) SetMyCommands(ctx context.Context, cmds []BotCommand) error {
	if cmds == nil {
		cmds = []BotCommand{}
	}
	return c.callJSON(ctx, "setMyCommands", struct {
		Commands []BotCommand `json:"commands"`
	}{cmds}, nil)
}

func checkParseMode(method, mode string) error {
	if mode != "" && mode != parseModeHTML {
		return fmt.Errorf("telegram %s: unsupported parse mode %q", method, mode)
	}
	return nil
}

func (c *BotClient) callJSON(ctx context.Context, method string, params, dest any) error {
	body, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("telegram %s: %w", method, err)
	}
	return c.call(ctx, method, "application/json", body, dest)
}

// call makes one Bot API call, records its metrics and returns *Error when
// Telegram (or a proxy in front of it) answered with an error, else a
// wrapped error with the token redacted.
func (c *BotClient) call(ctx context.Context, method, contentType string, body []byte, dest any) error {
	start := time.Now()
	err := c.post(ctx, method, contentType, body, dest)
	if err != nil {
		if _, ok := errors.AsType[*Error](err); !ok {
			err = &redactedError{err: fmt.Errorf("telegram %s: %w", method, err), token: c.token}
		}
	}
	c.observe(method, start, err)
	return err
}

func (c *BotClient) post(ctx context.Context, method, contentType string, body []byte, dest any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.apiURL+"/bot"+c.token+"/"+method, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := c.hc.Do(req)
	if err != nil {
		if urlErr, ok := errors.AsType[*url.Error](err); ok {
			urlErr.URL = Redact(urlErr.URL, c.token)
		}
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return fmt.Errorf("read response: %w", err)
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		if resp.StatusCode >= http.StatusBadRequest {
			// A non-JSON error page, e.g. from a proxy in front of the API.
			return c.apiError(method, resp.StatusCode, http.StatusText(resp.StatusCode), env.Parameters)
		}
		return fmt.Errorf("decode response (http %d): %w", resp.StatusCode, err)
	}
	if !env.OK {
		code := env.ErrorCode
		if code == 0 {
			code = resp.StatusCode
		}
		return c.apiError(method, code, env.Description, env.Parameters)
	}
	if dest == nil {
		return nil
	}
	if err := json.Unmarshal(env.Result, dest); err != nil {
		return fmt.Errorf("decode result: %w", err)
	}
	return nil
}

// envelope is the Bot API response wrapper.
type envelope struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  responseParams  `json:"parameters"`
}

// responseParams is the envelope's ResponseParameters.
type responseParams struct {
	RetryAfter      int   `json:"retry_after"`
	MigrateToChatID int64 `json:"migrate_to_chat_id"`
}

func (c *BotClient) apiError(method string, code int, desc string, p responseParams) *Error {
	return &Error{
		Method:      method,
		Code:        code,
		Description: Redact(desc, c.token),
		RetryAfter:  time.Duration(p.RetryAfter) * time.Second,
		MigrateTo:   p.MigrateToChatID,
	}
}

func (c *BotClient) observe(method string, start time.Time, err error) {
	if c.m == nil {
		return
	}
	c.m.TelegramDuration.WithLabelValues(method).Observe(time.Since(start).Seconds())
	label := "200"
	if apiErr, ok := errors.AsType[*Error](err); ok {
		label = statusLabel(apiErr.Code)
	} else if err != nil {
		label = "error"
	}
	c.m.TelegramRequests.WithLabelValues(method, label).Inc()
	if label == "429" {
		c.m.TelegramRateLimit.Inc()
	}
}

// statusLabel keeps the status label bounded.
func statusLabel(code int) string {
	switch {
	case code == 400, code == 401, code == 403, code == 409, code == 429:
		return strconv.Itoa(code)
	case code >= 500:
		return "5xx"
	}
	return "4xx"
}
