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
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/cryptobot-dev/cryptobot/internal/metrics"
)

// Client defaults.
const (
	DefaultAPIURL      = "https://api.telegram.org"
	DefaultPollTimeout = 30 * time.Second

	// pollGrace is how much longer than the longest long poll the HTTP
	// client waits, so a healthy poll never dies of the client timeout.
	pollGrace = 10 * time.Second
	// maxResponseBytes bounds a getUpdates body (100 updates).
	maxResponseBytes = 16 << 20
)

// ClientConfig configures NewBotClient.
type ClientConfig struct {
	// Token is the bot token; it never appears in errors or logs.
	Token string
	// APIURL is the Bot API server; default DefaultAPIURL.
	APIURL string
	// HTTP is the client for every call. Its Timeout, if set, must exceed
	// PollTimeout by at least a second. Default: Timeout = PollTimeout + 10 s.
	HTTP *http.Client
	// PollTimeout is the longest getUpdates long poll; default 30 s.
	PollTimeout time.Duration
	// Metrics, if set, receives TelegramRequests, TelegramDuration and
	// TelegramRateLimit.
	Metrics *metrics.Metrics
	// Log receives the library's own errors and, with Debug, its request
	// and response traces, always with the token redacted. Nil discards.
	Log *slog.Logger
	// Debug turns on the library's request/response tracing at Debug level.
	// The traces hold message text.
	Debug bool
}

// BotClient implements API over github.com/go-telegram/bot. It never starts
// the library's polling loop or handlers; it only makes calls. It is safe
// for concurrent use.
type BotClient struct {
	bot         *bot.Bot
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
	c := &BotClient{hc: hc, apiURL: apiURL, token: cfg.Token, pollTimeout: poll, m: cfg.Metrics, log: log}

	opts := []bot.Option{
		bot.WithSkipGetMe(),
		bot.WithServerURL(apiURL),
		bot.WithHTTPClient(poll, statusRecorder{hc}),
		bot.WithNotAsyncHandlers(),
		bot.WithErrorsHandler(c.libError),
		bot.WithDebugHandler(c.libDebug),
	}
	if cfg.Debug {
		opts = append(opts, bot.WithDebug())
	}
	b, err := bot.New(cfg.Token, opts...)
	if err != nil {
		return nil, fmt.Errorf("telegram client: %s", Redact(err.Error(), cfg.Token))
	}
	c.bot = b
	return c, nil
}

// GetMe returns the bot's own user.
func (c *BotClient) GetMe(ctx context.Context) (User, error) {
	var u *models.User
	err := c.do(ctx, "getMe", func(ctx context.Context) (err error) {
		u, err = c.bot.GetMe(ctx)
		return err
	})
	if err != nil {
		return User{}, err
	}
	return User{ID: u.ID, IsBot: u.IsBot, FirstName: u.FirstName, Username: u.Username, LanguageCode: u.LanguageCode}, nil
}

// SetWebhook registers w.URL with w.Secret as secret_token. Nil
// AllowedUpdates keeps the server's previous setting; MaxConnections 0 keeps
// the default of 40.
func (c *BotClient) SetWebhook(ctx context.Context, w Webhook) error {
	return c.do(ctx, "setWebhook", func(ctx context.Context) error {
		_, err := c.bot.SetWebhook(ctx, &bot.SetWebhookParams{
			URL:            w.URL,
			SecretToken:    w.Secret,
			AllowedUpdates: w.AllowedUpdates,
			MaxConnections: w.MaxConnections,
		})
		return err
	})
}

// DeleteWebhook removes the webhook and keeps pending updates for getUpdates.
func (c *BotClient) DeleteWebhook(ctx context.Context) error {
	return c.do(ctx, "deleteWebhook", func(ctx context.Context) error {
		_, err := c.bot.DeleteWebhook(ctx, &bot.DeleteWebhookParams{})
		return err
	})
}

// getUpdatesRequest is the getUpdates body; the library keeps its own
// getUpdates unexported, so this one call is made directly, as JSON.
type getUpdatesRequest struct {
	Offset  int64 `json:"offset"`
	Timeout int   `json:"timeout"`
}

// GetUpdates long-polls for up to timeout (clamped to the configured poll
// timeout, sent in whole seconds, 0 = no wait). offset confirms every update
// below it. Cancelling ctx ends a pending poll at once.
func (c *BotClient) GetUpdates(ctx context.Context, offset int64, timeout time.Duration) ([]Update, error) {
	if timeout < 0 {
		return nil, fmt.Errorf("telegram getUpdates: negative timeout %s", timeout)
	}
	body, err := json.Marshal(getUpdatesRequest{
		Offset:  offset,
		Timeout: int(math.Ceil(min(timeout, c.pollTimeout).Seconds())),
	})
	if err != nil {
		return nil, fmt.Errorf("telegram getUpdates: %w", err)
	}
	var ups []Update
	err = c.do(ctx, "getUpdates", func(ctx context.Context) error {
		return c.postJSON(ctx, "getUpdates", body, &ups)
	})
	return ups, err
}

// SendMessage sends text with link previews disabled. ParseMode must be
// "HTML" or "".
func (c *BotClient) SendMessage(ctx context.Context, m OutMessage) error {
	mode, err := parseMode("sendMessage", m.ParseMode)
	if err != nil {
		return err
	}
	return c.do(ctx, "sendMessage", func(ctx context.Context) error {
		_, err := c.bot.SendMessage(ctx, &bot.SendMessageParams{
			ChatID:             m.ChatID,
			Text:               m.Text,
			ParseMode:          mode,
			LinkPreviewOptions: &models.LinkPreviewOptions{IsDisabled: bot.True()},
		})
		return err
	})
}

// SendPhoto uploads p.PNG as multipart with its caption. An empty PNG is
// refused without a request.
func (c *BotClient) SendPhoto(ctx context.Context, p OutPhoto) error {
	mode, err := parseMode("sendPhoto", p.ParseMode)
	if err != nil {
		return err
	}
	if len(p.PNG) == 0 {
		return errors.New("telegram sendPhoto: empty photo")
	}
	return c.do(ctx, "sendPhoto", func(ctx context.Context) error {
		_, err := c.bot.SendPhoto(ctx, &bot.SendPhotoParams{
			ChatID:    p.ChatID,
			Photo:     &models.InputFileUpload{Filename: "chart.png", Data: bytes.NewReader(p.PNG)},
			Caption:   p.Caption,
			ParseMode: mode,
		})
		return err
	})
}

// SetMyCommands replaces the bot's command list (default scope).
func (c *BotClient) SetMyCommands(ctx context.Context, cmds []BotCommand) error {
	list := make([]models.BotCommand, len(cmds))
	for i, cmd := range cmds {
		list[i] = models.BotCommand{Command: cmd.Command, Description: cmd.Description}
	}
	return c.do(ctx, "setMyCommands", func(ctx context.Context) error {
		_, err := c.bot.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: list})
		return err
	})
}

func parseMode(method, mode string) (models.ParseMode, error) {
	switch mode {
	case "":
		return "", nil
	case "HTML":
		return models.ParseModeHTML, nil
	}
	return "", fmt.Errorf("telegram %s: unsupported parse mode %q", method, mode)
}

// do runs one call, turns its error into *Error or a redacted wrapped error,
// and records metrics.
func (c *BotClient) do(ctx context.Context, method string, call func(context.Context) error) error {
	status := 0
	start := time.Now()
	err := c.mapError(method, call(context.WithValue(ctx, httpStatusKey{}, &status)), status)
	c.observe(method, start, err)
	return err
}

func (c *BotClient) observe(method string, start time.Time, err error) {
	if c.m == nil {
		return
	}
	c.m.TelegramDuration.WithLabelValues(method).Observe(time.Since(start).Seconds())
	label := "200"
	var apiErr *Error
	switch {
	case errors.As(err, &apiErr):
		label = statusLabel(apiErr.Code)
	case err != nil:
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

// libSentinels are the library's error sentinels with the error_code each
// stands for; it formats them as "<sentinel>, <description>".
var libSentinels = []struct {
	err  error
	code int
}{
	{bot.ErrorBadRequest, http.StatusBadRequest},
	{bot.ErrorUnauthorized, http.StatusUnauthorized},
	{bot.ErrorForbidden, http.StatusForbidden},
	{bot.ErrorNotFound, http.StatusNotFound},
	{bot.ErrorConflict, http.StatusConflict},
}

// mapError turns a library or transport error into *Error when the server
// answered with an error, and into a wrapped, redacted error otherwise.
// httpStatus is the HTTP status seen by the transport, 0 if none.
func (c *BotClient) mapError(method string, err error, httpStatus int) error {
	if err == nil {
		return nil
	}
	var (
		apiErr  *Error
		tooMany *bot.TooManyRequestsError
		migrate *bot.MigrateError
	)
	switch {
	case errors.As(err, &apiErr):
		return apiErr
	case errors.As(err, &tooMany):
		desc := strings.TrimPrefix(tooMany.Message, bot.ErrorTooManyRequests.Error()+", ")
		return c.apiError(method, http.StatusTooManyRequests, desc, tooMany.RetryAfter)
	case errors.As(err, &migrate):
		return c.apiError(method, http.StatusBadRequest, strings.TrimPrefix(migrate.Message, bot.ErrorBadRequest.Error()+": "), 0)
	}
	for _, s := range libSentinels {
		if errors.Is(err, s.err) {
			return c.apiError(method, s.code, strings.TrimPrefix(err.Error(), s.err.Error()+", "), 0)
		}
	}
	// Any other envelope: "error response from telegram for method M, <code> <description>".
	if rest, ok := strings.CutPrefix(err.Error(), "error response from telegram for method "+method+", "); ok {
		codeText, desc, _ := strings.Cut(rest, " ")
		if code, convErr := strconv.Atoi(codeText); convErr == nil {
			return c.apiError(method, code, desc, 0)
		}
	}
	// A non-JSON error page, e.g. from a proxy in front of the API.
	if httpStatus >= http.StatusBadRequest {
		return c.apiError(method, httpStatus, http.StatusText(httpStatus), 0)
	}
	return &redactedError{err: fmt.Errorf("telegram %s: %w", method, err), token: c.token}
}

func (c *BotClient) apiError(method string, code int, desc string, retryAfter int) *Error {
	return &Error{
		Method:      method,
		Code:        code,
		Description: Redact(desc, c.token),
		RetryAfter:  time.Duration(retryAfter) * time.Second,
	}
}

// envelope is the Bot API response wrapper.
type envelope struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

// postJSON makes one Bot API call with a JSON body and decodes the result
// into dest.
func (c *BotClient) postJSON(ctx context.Context, method string, body []byte, dest any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.apiURL+"/bot"+c.token+"/"+method, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
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
			return c.apiError(method, resp.StatusCode, http.StatusText(resp.StatusCode), 0)
		}
		return fmt.Errorf("decode response (http %d): %w", resp.StatusCode, err)
	}
	if !env.OK {
		code := env.ErrorCode
		if code == 0 {
			code = resp.StatusCode
		}
		return c.apiError(method, code, env.Description, env.Parameters.RetryAfter)
	}
	if err := json.Unmarshal(env.Result, dest); err != nil {
		return fmt.Errorf("decode result: %w", err)
	}
	return nil
}

// libError receives errors the library reports out of band (pipe and body
// close failures).
func (c *BotClient) libError(err error) {
	c.log.Warn("telegram library error", "err", Redact(err.Error(), c.token))
}

// libDebug receives the library's request/response traces (Debug only).
func (c *BotClient) libDebug(format string, args ...any) {
	c.log.Debug("telegram library trace", "trace", Redact(fmt.Sprintf(format, args...), c.token))
}

// httpStatusKey carries a *int through a library call's context: the
// library drops the HTTP status, which we need when the body is not a Bot
// API envelope (a proxy's 502 page).
type httpStatusKey struct{}

// statusRecorder is the library's HTTP client; it reports the status.
type statusRecorder struct{ hc *http.Client }

func (s statusRecorder) Do(req *http.Request) (*http.Response, error) {
	resp, err := s.hc.Do(req)
	if p, ok := req.Context().Value(httpStatusKey{}).(*int); ok && resp != nil {
		*p = resp.StatusCode
	}
	return resp, err
}
