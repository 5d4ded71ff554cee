package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cryptobot-dev/cryptobot/internal/metrics"
	"github.com/cryptobot-dev/cryptobot/internal/telegram/telegramtest"
)

// bcFixture is a BotClient against a fresh fake Bot API.
type bcFixture struct {
	c   *BotClient
	srv *telegramtest.Server
	m   *metrics.Metrics
}

func newBCFixture(t *testing.T, opts telegramtest.Options) bcFixture {
	t.Helper()
	m := metrics.New("test", "test")
	srv, c := newFakeBotAPI(t, opts, ClientConfig{PollTimeout: 5 * time.Second, Metrics: m})
	return bcFixture{c: c, srv: srv, m: m}
}

// newFakeBotAPI starts a fake Bot API, closed at cleanup, and a BotClient
// against it.
func newFakeBotAPI(t testing.TB, opts telegramtest.Options, cfg ClientConfig) (*telegramtest.Server, *BotClient) {
	t.Helper()
	srv := telegramtest.New(opts)
	t.Cleanup(srv.Close)
	return srv, clientFor(t, srv, cfg)
}

// clientFor is a BotClient against srv; cfg's Token and APIURL are filled in.
func clientFor(t testing.TB, srv *telegramtest.Server, cfg ClientConfig) *BotClient {
	t.Helper()
	cfg.Token, cfg.APIURL = srv.Token(), srv.URL()
	c, err := NewBotClient(cfg)
	if err != nil {
		t.Fatalf("NewBotClient: %v", err)
	}
	return c
}

// bcCtx bounds every test so a hang fails instead of stalling the suite.
func bcCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// bcWaitPolling waits until the fake holds a pending getUpdates.
func bcWaitPolling(ctx context.Context, t *testing.T, srv *telegramtest.Server) {
	t.Helper()
	for !srv.Polling() {
		select {
		case <-ctx.Done():
			t.Fatal("getUpdates never reached the server")
		case <-time.After(2 * time.Millisecond):
		}
	}
}

func bcPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func asAPIError(t *testing.T, err error) *Error {
	t.Helper()
	var apiErr *Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v (%T), want *telegram.Error", err, err)
	}
	return apiErr
}

func TestNewBotClientConfig(t *testing.T) {
	const token = "123456:SECRET-token_value"
	tests := []struct {
		name    string
		cfg     ClientConfig
		wantErr string
	}{
		{"empty token", ClientConfig{}, "invalid bot token"},
		{"token with slash", ClientConfig{Token: "123456:SECRET/x"}, "invalid bot token"},
		{"token with space", ClientConfig{Token: "123456:SECRET x"}, "invalid bot token"},
		{"non-http url", ClientConfig{Token: token, APIURL: "ftp://example.org"}, "invalid api url"},
		{"url without host", ClientConfig{Token: token, APIURL: "http://"}, "invalid api url"},
		{"negative poll timeout", ClientConfig{Token: token, PollTimeout: -time.Second}, "negative poll timeout"},
		{"http timeout below poll timeout", ClientConfig{Token: token, HTTP: &http.Client{Timeout: DefaultPollTimeout}}, "must exceed poll timeout"},
		{"defaults", ClientConfig{Token: token}, ""},
		{"explicit", ClientConfig{Token: token, APIURL: "http://127.0.0.1:8081/", PollTimeout: 10 * time.Second, HTTP: &http.Client{}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewBotClient(tc.cfg)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "SECRET") {
					t.Errorf("error leaks the token: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if c.hc == nil || c.log == nil {
				t.Fatal("client not fully built")
			}
			if c.hc.Timeout != 0 && c.hc.Timeout <= c.pollTimeout {
				t.Errorf("http timeout %s must exceed poll timeout %s", c.hc.Timeout, c.pollTimeout)
			}
		})
	}
	t.Run("default values", func(t *testing.T) {
		c, err := NewBotClient(ClientConfig{Token: token})
		if err != nil {
			t.Fatal(err)
		}
		if c.apiURL != DefaultAPIURL || c.pollTimeout != DefaultPollTimeout || c.hc.Timeout != DefaultPollTimeout+pollGrace {
			t.Errorf("got url %q poll %s http %s", c.apiURL, c.pollTimeout, c.hc.Timeout)
		}
	})
}

func TestBotClientGetMe(t *testing.T) {
	f := newBCFixture(t, telegramtest.Options{Username: "PriceBot"})
	u, err := f.c.GetMe(bcCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	want := User{ID: 7000000001, IsBot: true, FirstName: "Crypto Test Bot", Username: "PriceBot"}
	if u != want {
		t.Errorf("GetMe = %+v, want %+v", u, want)
	}
	if got := testutil.ToFloat64(f.m.TelegramRequests.WithLabelValues("getMe", "200")); got != 1 {
		t.Errorf("requests{getMe,200} = %v, want 1", got)
	}
	if n := testutil.CollectAndCount(f.m.TelegramDuration); n != 1 {
		t.Errorf("duration series = %d, want 1", n)
	}
}

func TestBotClientSendMessage(t *testing.T) {
	tests := []struct {
		name string
		msg  OutMessage
	}{
		{"plain", OutMessage{ChatID: 42, Text: "BTC-USDT 97,123.40 <no html> & co"}},
		{"html", OutMessage{ChatID: -100123, Text: `<b>BTC</b> <a href="https://x.org/?a=1&amp;b=2">chart</a> &lt;3 &#9650;`, ParseMode: "HTML"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newBCFixture(t, telegramtest.Options{})
			if err := f.c.SendMessage(bcCtx(t), tc.msg); err != nil {
				t.Fatal(err)
			}
			sent := f.srv.Sent()
			if len(sent) != 1 {
				t.Fatalf("sent %d messages, want 1", len(sent))
			}
			got := sent[0]
			if got.Method != "sendMessage" || got.ChatID != tc.msg.ChatID || got.Text != tc.msg.Text ||
				got.ParseMode != tc.msg.ParseMode || !got.LinkPreviewDisabled {
				t.Errorf("sent %+v, want %+v with link previews disabled", got, tc.msg)
			}
		})
	}
}

func TestBotClientSendMessageRejected(t *testing.T) {
	tests := []struct {
		name     string
		msg      OutMessage
		wantDesc string // server answer; "" for a local error
		local    string
	}{
		{"unknown tag", OutMessage{ChatID: 1, Text: "<br>x", ParseMode: "HTML"}, `Bad Request: can't parse entities: Unsupported start tag "br" at byte offset 0`, ""},
		{"unclosed tag", OutMessage{ChatID: 1, Text: "<b>x", ParseMode: "HTML"}, `Bad Request: can't parse entities: Can't find end tag corresponding to start tag "b"`, ""},
		{"bare ampersand", OutMessage{ChatID: 1, Text: "R&D", ParseMode: "HTML"}, "Bad Request: can't parse entities: Unsupported entity at byte offset 1: escape '&' as &amp;", ""},
		{"empty text", OutMessage{ChatID: 1, Text: "  "}, "Bad Request: message text is empty", ""},
		{"too long", OutMessage{ChatID: 1, Text: strings.Repeat("a", 4097)}, "Bad Request: message is too long", ""},
		{"no chat", OutMessage{Text: "x"}, "Bad Request: chat not found", ""},
		{"unsupported parse mode", OutMessage{ChatID: 1, Text: "x", ParseMode: "MarkdownV2"}, "", `unsupported parse mode "MarkdownV2"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newBCFixture(t, telegramtest.Options{})
			err := f.c.SendMessage(bcCtx(t), tc.msg)
			if tc.local != "" {
				if err == nil || !strings.Contains(err.Error(), tc.local) {
					t.Fatalf("err = %v, want %q", err, tc.local)
				}
				if n := f.srv.Calls("sendMessage"); n != 0 {
					t.Errorf("made %d requests for a local error", n)
				}
				return
			}
			apiErr := asAPIError(t, err)
			if apiErr.Code != 400 || apiErr.Description != tc.wantDesc || apiErr.Method != "sendMessage" {
				t.Errorf("err = %+v, want 400 %q", apiErr, tc.wantDesc)
			}
			if got := testutil.ToFloat64(f.m.TelegramRequests.WithLabelValues("sendMessage", "400")); got != 1 {
				t.Errorf("requests{sendMessage,400} = %v, want 1", got)
			}
			if len(f.srv.Sent()) != 0 {
				t.Error("a rejected message was recorded as sent")
			}
		})
	}
}

func TestBotClientSendPhoto(t *testing.T) {
	img := bcPNG(t, 64, 32)
	tests := []struct {
		name     string
		photo    OutPhoto
		wantDesc string
		local    string
	}{
		{"png with html caption", OutPhoto{ChatID: 7, PNG: img, Caption: "<b>BTC</b> 1h", ParseMode: "HTML"}, "", ""},
		{"not an image", OutPhoto{ChatID: 7, PNG: []byte("GIF89a? no")}, "Bad Request: IMAGE_PROCESS_FAILED", ""},
		{"caption too long", OutPhoto{ChatID: 7, PNG: img, Caption: strings.Repeat("é", 1025)}, "Bad Request: message caption is too long", ""},
		{"extreme aspect ratio", OutPhoto{ChatID: 7, PNG: bcPNG(t, 420, 20)}, "Bad Request: PHOTO_INVALID_DIMENSIONS", ""},
		{"empty photo", OutPhoto{ChatID: 7}, "", "empty photo"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newBCFixture(t, telegramtest.Options{})
			err := f.c.SendPhoto(bcCtx(t), tc.photo)
			switch {
			case tc.local != "":
				if err == nil || !strings.Contains(err.Error(), tc.local) || f.srv.Calls("sendPhoto") != 0 {
					t.Fatalf("err = %v, calls %d; want local %q", err, f.srv.Calls("sendPhoto"), tc.local)
				}
			case tc.wantDesc != "":
				if apiErr := asAPIError(t, err); apiErr.Code != 400 || apiErr.Description != tc.wantDesc {
					t.Errorf("err = %+v, want 400 %q", apiErr, tc.wantDesc)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				sent := f.srv.Sent()
				want := telegramtest.SentMessage{Method: "sendPhoto", MessageID: 1, ChatID: 7, Text: tc.photo.Caption, ParseMode: "HTML", PhotoSize: len(img)}
				if len(sent) != 1 {
					t.Fatalf("sent %d, want 1", len(sent))
				}
				sent[0].Time = time.Time{}
				if !reflect.DeepEqual(sent[0], want) {
					t.Errorf("sent %+v, want %+v", sent[0], want)
				}
			}
		})
	}
}

func TestBotClientSetMyCommands(t *testing.T) {
	tests := []struct {
		name     string
		cmds     []BotCommand
		wantDesc string
	}{
		{"valid", []BotCommand{{"price", "Price of a pair"}, {"help", "How to use the bot"}}, ""},
		{"upper case", []BotCommand{{"Price", "Price"}}, "Bad Request: BOT_COMMAND_INVALID"},
		{"too long", []BotCommand{{strings.Repeat("a", 33), "x"}}, "Bad Request: BOT_COMMAND_INVALID"},
		{"empty description", []BotCommand{{"price", ""}}, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newBCFixture(t, telegramtest.Options{})
			err := f.c.SetMyCommands(bcCtx(t), tc.cmds)
			if tc.wantDesc != "" {
				if apiErr := asAPIError(t, err); apiErr.Description != tc.wantDesc {
					t.Errorf("err = %+v, want %q", apiErr, tc.wantDesc)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := f.srv.Commands()
			if len(got) != len(tc.cmds) {
				t.Fatalf("commands %+v, want %+v", got, tc.cmds)
			}
			for i, c := range got {
				if c.Command != tc.cmds[i].Command || c.Description != tc.cmds[i].Description {
					t.Errorf("command %d = %+v, want %+v", i, c, tc.cmds[i])
				}
			}
		})
	}
}

func TestBotClientWebhookLifecycle(t *testing.T) {
	f := newBCFixture(t, telegramtest.Options{})
	ctx := bcCtx(t)

	err := f.c.SetWebhook(ctx, Webhook{URL: "https://bot.example.org/webhook", Secret: "has space"})
	if apiErr := asAPIError(t, err); apiErr.Description != "Bad Request: secret token contains unallowed characters" {
		t.Errorf("bad secret: %+v", apiErr)
	}
	err = f.c.SetWebhook(ctx, Webhook{URL: "https://bot.example.org/webhook", Secret: strings.Repeat("a", 257)})
	if apiErr := asAPIError(t, err); apiErr.Description != "Bad Request: secret token is too long" {
		t.Errorf("long secret: %+v", apiErr)
	}

	hook := Webhook{URL: "https://bot.example.org/webhook", Secret: "S3cret_-token", AllowedUpdates: []string{"message"}, MaxConnections: 10}
	if err := f.c.SetWebhook(ctx, hook); err != nil {
		t.Fatal(err)
	}
	if u, s := f.srv.Webhook(); u != hook.URL || s != hook.Secret {
		t.Errorf("webhook = %q %q, want %q %q", u, s, hook.URL, hook.Secret)
	}

	_, err = f.c.GetUpdates(ctx, 0, time.Second)
	apiErr := asAPIError(t, err)
	if apiErr.Code != 409 || apiErr.Description != "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first" {
		t.Errorf("getUpdates with webhook: %+v", apiErr)
	}
	if got := testutil.ToFloat64(f.m.TelegramRequests.WithLabelValues("getUpdates", "409")); got != 1 {
		t.Errorf("requests{getUpdates,409} = %v, want 1", got)
	}

	if err := f.c.DeleteWebhook(ctx); err != nil {
		t.Fatal(err)
	}
	if u, s := f.srv.Webhook(); u != "" || s != "" {
		t.Errorf("webhook after delete = %q %q", u, s)
	}
	if _, err := f.c.GetUpdates(ctx, 0, 0); err != nil {
		t.Errorf("getUpdates after deleteWebhook: %v", err)
	}
}

func TestBotClientErrorMapping(t *testing.T) {
	type call func(ctx context.Context, c *BotClient) error
	calls := map[string]call{
		"sendMessage": func(ctx context.Context, c *BotClient) error {
			return c.SendMessage(ctx, OutMessage{ChatID: 1, Text: "hi"})
		},
		"getUpdates": func(ctx context.Context, c *BotClient) error {
			_, err := c.GetUpdates(ctx, 0, 0)
			return err
		},
		"getMe": func(ctx context.Context, c *BotClient) error {
			_, err := c.GetMe(ctx)
			return err
		},
	}
	tests := []struct {
		name       string
		status     int
		retryAfter time.Duration
		want       Error
		label      string
	}{
		{"429 with retry_after", 429, 5 * time.Second, Error{Code: 429, Description: "Too Many Requests: retry after 5", RetryAfter: 5 * time.Second}, "429"},
		{"500", 500, 0, Error{Code: 500, Description: "Internal Server Error"}, "5xx"},
		{"502", 502, 0, Error{Code: 502, Description: "Bad Gateway"}, "5xx"},
		{"403 blocked", 403, 0, Error{Code: 403, Description: "Forbidden: bot was blocked by the user"}, "403"},
		{"409 conflict", 409, 0, Error{Code: 409, Description: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"}, "409"},
	}
	for method, do := range calls {
		for _, tc := range tests {
			t.Run(method+"/"+tc.name, func(t *testing.T) {
				f := newBCFixture(t, telegramtest.Options{})
				f.srv.FailNext(method, tc.status, 1, tc.retryAfter)
				ctx := bcCtx(t)
				apiErr := asAPIError(t, do(ctx, f.c))
				want := tc.want
				want.Method = method
				if *apiErr != want {
					t.Errorf("err = %+v, want %+v", *apiErr, want)
				}
				if errors.Is(apiErr, ErrTooManyRequests) != (tc.status == 429) {
					t.Errorf("errors.Is(ErrTooManyRequests) wrong for %d", tc.status)
				}
				if got := testutil.ToFloat64(f.m.TelegramRequests.WithLabelValues(method, tc.label)); got != 1 {
					t.Errorf("requests{%s,%s} = %v, want 1", method, tc.label, got)
				}
				wantRL := 0.0
				if tc.status == 429 {
					wantRL = 1
				}
				if got := testutil.ToFloat64(f.m.TelegramRateLimit); got != wantRL {
					t.Errorf("rate limited = %v, want %v", got, wantRL)
				}
				// The failure is used up: the next call succeeds.
				if err := do(ctx, f.c); err != nil {
					t.Errorf("second call: %v", err)
				}
			})
		}
	}
}

func TestBotClientGetUpdatesOffset(t *testing.T) {
	f := newBCFixture(t, telegramtest.Options{})
	ctx := bcCtx(t)
	for i := range 3 {
		f.srv.SendText(100, 200, "private", fmt.Sprintf("/price btc %d", i))
	}
	ups, err := f.c.GetUpdates(ctx, 0, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(ups) != 3 || ups[0].UpdateID != 1 || ups[2].UpdateID != 3 {
		t.Fatalf("updates = %+v, want ids 1..3", ups)
	}
	m := ups[0].Message
	if m == nil || m.Chat.ID != 100 || m.Chat.Type != "private" || m.From == nil || m.From.ID != 200 || m.Text != "/price btc 0" || m.Date == 0 {
		t.Errorf("message = %+v", m)
	}
	// Without confirmation the same updates come again.
	if again, err := f.c.GetUpdates(ctx, 0, 0); err != nil || len(again) != 3 {
		t.Errorf("unconfirmed re-read = %d updates, %v; want 3", len(again), err)
	}
	// offset 3 confirms 1 and 2.
	if ups, err := f.c.GetUpdates(ctx, 3, 0); err != nil || len(ups) != 1 || ups[0].UpdateID != 3 {
		t.Errorf("offset 3 = %+v, %v; want [3]", ups, err)
	}
	if ups, err := f.c.GetUpdates(ctx, 4, 0); err != nil || len(ups) != 0 {
		t.Errorf("offset 4 = %+v, %v; want none", ups, err)
	}
	f.srv.SendText(100, 200, "private", "/help")
	if ups, err := f.c.GetUpdates(ctx, 4, 0); err != nil || len(ups) != 1 || ups[0].UpdateID != 4 || ups[0].Message.Text != "/help" {
		t.Errorf("after new update = %+v, %v; want [4]", ups, err)
	}
}

func TestBotClientGetUpdatesLongPoll(t *testing.T) {
	f := newBCFixture(t, telegramtest.Options{})
	ctx := bcCtx(t)
	type result struct {
		ups []Update
		err error
	}
	done := make(chan result, 1)
	go func() {
		ups, err := f.c.GetUpdates(ctx, 0, time.Hour) // clamped to the 5 s poll timeout
		done <- result{ups, err}
	}()
	bcWaitPolling(ctx, t, f.srv)
	id := f.srv.SendText(5, 6, "group", "/price eth")
	r := <-done
	if r.err != nil || len(r.ups) != 1 || r.ups[0].UpdateID != id {
		t.Fatalf("poll = %+v, %v; want the update pushed while it waited", r.ups, r.err)
	}
}

func TestBotClientGetUpdatesCancel(t *testing.T) {
	f := newBCFixture(t, telegramtest.Options{})
	ctx, cancel := context.WithCancel(bcCtx(t))
	done := make(chan error, 1)
	go func() {
		_, err := f.c.GetUpdates(ctx, 0, 5*time.Second)
		done <- err
	}()
	bcWaitPolling(bcCtx(t), t, f.srv)
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if strings.Contains(err.Error(), f.srv.Token()) {
		t.Errorf("error leaks the token: %v", err)
	}
	if got := testutil.ToFloat64(f.m.TelegramRequests.WithLabelValues("getUpdates", "error")); got != 1 {
		t.Errorf("requests{getUpdates,error} = %v, want 1", got)
	}
}

func TestBotClientGetUpdatesSecondPoller(t *testing.T) {
	f := newBCFixture(t, telegramtest.Options{})
	ctx := bcCtx(t)
	done := make(chan error, 1)
	go func() {
		_, err := f.c.GetUpdates(ctx, 0, 5*time.Second)
		done <- err
	}()
	bcWaitPolling(ctx, t, f.srv)
	second := clientFor(t, f.srv, ClientConfig{})
	if _, err := second.GetUpdates(ctx, 0, 0); err != nil {
		t.Errorf("second poller: %v", err)
	}
	apiErr := asAPIError(t, <-done)
	if apiErr.Code != 409 || !strings.Contains(apiErr.Description, "terminated by other getUpdates request") {
		t.Errorf("first poller: %+v, want 409 terminated", apiErr)
	}
}

func TestBotClientWebhookPush(t *testing.T) {
	type delivery struct {
		secret string
		update Update
	}
	got := make(chan delivery, 4)
	var attempts atomic.Int32
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var u Update
		if err := json.NewDecoder(r.Body).Decode(&u); err != nil {
			t.Errorf("decode pushed update: %v", err)
		}
		got <- delivery{r.Header.Get("X-Telegram-Bot-Api-Secret-Token"), u}
		if attempts.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable) // retried by the fake
		}
	}))
	t.Cleanup(receiver.Close)
	f := newBCFixture(t, telegramtest.Options{RetryBackoff: time.Millisecond})
	ctx := bcCtx(t)
	if err := f.c.SetWebhook(ctx, Webhook{URL: receiver.URL + "/webhook", Secret: "hook-secret"}); err != nil {
		t.Fatal(err)
	}
	id := f.srv.SendText(9, 9, "private", "/start")
	for i := range 2 {
		select {
		case d := <-got:
			if d.secret != "hook-secret" || d.update.UpdateID != id || d.update.Message == nil || d.update.Message.Text != "/start" {
				t.Errorf("delivery %d = %+v", i, d)
			}
		case <-ctx.Done():
			t.Fatalf("delivery %d never arrived", i)
		}
	}
}

func TestBotClientTokenNeverLeaks(t *testing.T) {
	const token = "7000000001:AAFakeTokenForTests-0123456789abcdef"
	assertNoToken := func(t *testing.T, err error) {
		t.Helper()
		if err == nil {
			t.Fatal("want an error")
		}
		for e := err; e != nil; e = errors.Unwrap(e) {
			if strings.Contains(e.Error(), token) {
				t.Errorf("error chain leaks the token: %q", e.Error())
			}
		}
		if urlErr, ok := errors.AsType[*url.Error](err); ok && strings.Contains(urlErr.URL, token) {
			t.Errorf("url.Error.URL leaks the token: %q", urlErr.URL)
		}
	}
	calls := map[string]func(ctx context.Context, c *BotClient) error{
		"getMe": func(ctx context.Context, c *BotClient) error { _, err := c.GetMe(ctx); return err },
		"getUpdates": func(ctx context.Context, c *BotClient) error {
			_, err := c.GetUpdates(ctx, 0, 0)
			return err
		},
		"sendPhoto": func(ctx context.Context, c *BotClient) error {
			return c.SendPhoto(ctx, OutPhoto{ChatID: 1, PNG: []byte{1}})
		},
	}
	// Servers whose failures would quote the request URL.
	echo := func(status int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(status)
			fmt.Fprintf(w, "<html>cannot serve %s</html>", r.URL.Path)
		}
	}
	servers := []struct {
		name    string
		handler http.HandlerFunc // nil: a closed server
		code    int              // expected *Error code; 0: a wrapped error
	}{
		{"network error", nil, 0},
		{"502 html page", echo(http.StatusBadGateway), 502},
		{"200 garbage", echo(http.StatusOK), 0},
	}
	for _, sv := range servers {
		for method, do := range calls {
			t.Run(sv.name+"/"+method, func(t *testing.T) {
				var srv *httptest.Server
				if sv.handler != nil {
					srv = httptest.NewServer(sv.handler)
					t.Cleanup(srv.Close)
				} else {
					srv = httptest.NewServer(http.NotFoundHandler())
					srv.Close()
				}
				m := metrics.New("test", "test")
				c, err := NewBotClient(ClientConfig{Token: token, APIURL: srv.URL, Metrics: m})
				if err != nil {
					t.Fatal(err)
				}
				err = do(bcCtx(t), c)
				assertNoToken(t, err)
				var apiErr *Error
				if isAPI := errors.As(err, &apiErr); isAPI != (sv.code != 0) || (isAPI && apiErr.Code != sv.code) {
					t.Errorf("err = %v (%T), want code %d", err, err, sv.code)
				}
				label := "error"
				if sv.code != 0 {
					label = "5xx"
				}
				if got := testutil.ToFloat64(m.TelegramRequests.WithLabelValues(method, label)); got != 1 {
					t.Errorf("requests{%s,%s} = %v, want 1", method, label, got)
				}
			})
		}
	}
}

func TestRedact(t *testing.T) {
	const token = "123:abc-DEF"
	tests := []struct {
		name, in, token, want string
	}{
		{"empty token leaves text", "Post /bot/getMe", "", "Post /bot/getMe"},
		{"no token", "connection refused", token, "connection refused"},
		{"url", `Post "https://api.telegram.org/bot123:abc-DEF/getMe": EOF`, token, `Post "https://api.telegram.org/bot<redacted>/getMe": EOF`},
		{"twice", "123:abc-DEF 123:abc-DEF", token, "<redacted> <redacted>"},
		{"query escaped", "token=123%3Aabc-DEF", token, "token=<redacted>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Redact(tc.in, tc.token); got != tc.want {
				t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
