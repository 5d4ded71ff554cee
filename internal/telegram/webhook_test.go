package telegram

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cryptobot-dev/cryptobot/internal/metrics"
	"github.com/cryptobot-dev/cryptobot/modules"
)

// post delivers body to the webhook as Telegram would.
func post(h http.Handler, secret *string, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/webhook", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if secret != nil {
		r.Header.Set(SecretHeader, *secret)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func ptr[T any](v T) *T { return &v }

// pressJSON is a callback_query update with data (a JSON string).
func pressJSON(data string) string {
	return `{"update_id":5,"callback_query":{"id":"77","from":{"id":7,"is_bot":false,"first_name":"A"},"chat_instance":"1",` +
		`"message":{"message_id":3,"chat":{"id":42,"type":"private"},"date":1,"text":"BTC"},"data":` + data + `}}`
}

func received(m *metrics.Metrics, source, outcome string) float64 {
	return testutil.ToFloat64(m.UpdatesReceived.WithLabelValues(source, outcome))
}

func TestWebhook(t *testing.T) {
	valid := updateJSON(1, 42, "private", "/price btc")
	tests := []struct {
		name        string
		method      string
		secret      *string
		body        string
		chunked     bool // no Content-Length, so only MaxBytesReader can stop it
		wantCode    int
		wantOutcome string // "" when the request is not counted
		wantHandled int
	}{
		{name: "accepted", secret: ptr(testSecret), body: valid, wantCode: 200, wantOutcome: "accepted", wantHandled: 1},
		{name: "wrong secret", secret: ptr("nope"), body: valid, wantCode: 401, wantOutcome: "unauthorized"},
		{name: "secret with a different case", secret: ptr(strings.ToUpper(testSecret)), body: valid, wantCode: 401, wantOutcome: "unauthorized"},
		{name: "missing secret", body: valid, wantCode: 401, wantOutcome: "unauthorized"},
		{name: "GET", method: http.MethodGet, secret: ptr(testSecret), wantCode: 405},
		{name: "too large", secret: ptr(testSecret), body: updateJSON(1, 42, "private", strings.Repeat("x", 600)), wantCode: 413, wantOutcome: "too_large"},
		{name: "too large without length", secret: ptr(testSecret), body: updateJSON(1, 42, "private", strings.Repeat("x", 600)), chunked: true, wantCode: 413, wantOutcome: "too_large"},
		{name: "malformed JSON", secret: ptr(testSecret), body: `{"update_id":1,`, wantCode: 400, wantOutcome: "malformed"},
		{name: "not an object", secret: ptr(testSecret), body: `[1,2]`, wantCode: 400, wantOutcome: "malformed"},
		{name: "no update_id", secret: ptr(testSecret), body: `{"message":{"chat":{"id":1,"type":"private"},"text":"/start"}}`, wantCode: 400, wantOutcome: "malformed"},
		{name: "empty body", secret: ptr(testSecret), body: ``, wantCode: 400, wantOutcome: "malformed"},
		{name: "not a message", secret: ptr(testSecret), body: `{"update_id":5,"edited_message":{"chat":{"id":1,"type":"private"},"text":"/start"}}`, wantCode: 200, wantOutcome: "ignored"},
		{name: "message without text", secret: ptr(testSecret), body: `{"update_id":5,"message":{"message_id":1,"chat":{"id":1,"type":"private"},"date":1}}`, wantCode: 200, wantOutcome: "ignored"},
		{name: "command for another bot", secret: ptr(testSecret), body: updateJSON(1, -100, "supergroup", "/price@OtherBot btc"), wantCode: 200, wantOutcome: "ignored"},
		{name: "chatter in a group", secret: ptr(testSecret), body: updateJSON(1, -100, "group", "hello all"), wantCode: 200, wantOutcome: "ignored"},
		{name: "command in a group", secret: ptr(testSecret), body: updateJSON(1, -100, "group", "/price@ourbot eth"), wantCode: 200, wantOutcome: "accepted", wantHandled: 1},
		{name: "text in a private chat", secret: ptr(testSecret), body: updateJSON(1, 42, "private", "hello"), wantCode: 200, wantOutcome: "accepted", wantHandled: 1},
		{name: "button press", secret: ptr(testSecret), body: pressJSON(`"v1:r:BTC"`), wantCode: 200, wantOutcome: "accepted", wantHandled: 1},
		{name: "press with forged long data", secret: ptr(testSecret), body: pressJSON(`"` + strings.Repeat("x", 65) + `"`), wantCode: 200, wantOutcome: "ignored"},
		{name: "press of a game", secret: ptr(testSecret), body: strings.Replace(pressJSON(`""`), `"data":""`, `"game_short_name":"g"`, 1), wantCode: 200, wantOutcome: "ignored"},
		{name: "inline query", secret: ptr(testSecret), body: `{"update_id":5,"inline_query":{"id":"9","from":{"id":7,"is_bot":false,"first_name":"A"},"query":"btc","offset":""}}`, wantCode: 200, wantOutcome: "accepted", wantHandled: 1},
		{name: "bot added to a group", secret: ptr(testSecret), body: `{"update_id":5,"my_chat_member":{"chat":{"id":-5,"type":"group"},"from":{"id":7,"is_bot":false,"first_name":"A"},"date":1,"old_chat_member":{"status":"left","user":{"id":1,"is_bot":true,"first_name":"B"}},"new_chat_member":{"status":"member","user":{"id":1,"is_bot":true,"first_name":"B"}}}}`, wantCode: 200, wantOutcome: "accepted", wantHandled: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cfg := testConfig()
				cfg.MaxBody = 512
				rec := &recorder{}
				b, m := newBot(t, cfg, newFakeAPI(), rec)

				r := httptest.NewRequest(tt.method, "/webhook", strings.NewReader(tt.body))
				if tt.method == "" {
					r.Method = http.MethodPost
				}
				if tt.secret != nil {
					r.Header.Set(SecretHeader, *tt.secret)
				}
				if tt.chunked {
					r.ContentLength = -1
				}
				w := httptest.NewRecorder()
				b.WebhookHandler().ServeHTTP(w, r)
				synctest.Wait()

				if w.Code != tt.wantCode {
					t.Errorf("status %d, want %d (body %q)", w.Code, tt.wantCode, w.Body)
				}
				if got := len(rec.requests()); got != tt.wantHandled {
					t.Errorf("handler called %d times, want %d", got, tt.wantHandled)
				}
				if tt.wantOutcome != "" {
					if got := received(m, "webhook", tt.wantOutcome); got != 1 {
						t.Errorf("updates_received{webhook,%s} = %v, want 1", tt.wantOutcome, got)
					}
				}
				if tt.wantCode == 405 && w.Header().Get("Allow") != http.MethodPost {
					t.Errorf("Allow header %q, want POST", w.Header().Get("Allow"))
				}
			})
		})
	}
}

func TestWebhookRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		b, _ := newBot(t, testConfig(), newFakeAPI(), rec)
		start := time.Now()
		if w := post(b.WebhookHandler(), ptr(testSecret), updateJSON(9, -100, "supergroup", "/PRICE@OurBot btc usdt")); w.Code != 200 {
			t.Fatalf("status %d", w.Code)
		}
		synctest.Wait()
		reqs := rec.requests()
		if len(reqs) != 1 {
			t.Fatalf("handled %d requests, want 1", len(reqs))
		}
		got := reqs[0]
		want := modules.Request{UpdateID: 9, ChatID: -100, UserID: 7, ChatType: "supergroup", Lang: "de",
			Command: "price", Args: []string{"btc", "usdt"}, Received: start}
		if got.UpdateID != want.UpdateID || got.ChatID != want.ChatID || got.UserID != want.UserID ||
			got.ChatType != want.ChatType || got.Lang != want.Lang || got.Command != want.Command ||
			!slices.Equal(got.Args, want.Args) || !got.Received.Equal(want.Received) {
			t.Errorf("request = %+v\nwant      %+v", got, want)
		}
	})
}

func TestWebhookDuplicate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		rec := &recorder{}
		b, m := newBot(t, testConfig(), api, rec)
		h := b.WebhookHandler()
		for i := range 3 {
			if w := post(h, ptr(testSecret), updateJSON(77, 42, "private", "/start")); w.Code != 200 {
				t.Fatalf("delivery %d: status %d, want 200", i, w.Code)
			}
			synctest.Wait()
		}
		if n := len(rec.requests()); n != 1 {
			t.Errorf("handler called %d times, want 1", n)
		}
		if n := len(api.sentItems()); n != 1 {
			t.Errorf("%d replies sent, want 1", n)
		}
		if got := received(m, "webhook", "duplicate"); got != 2 {
			t.Errorf("duplicates counted %v, want 2", got)
		}
	})
}

// blocking is a Handler that holds each request until released.
type blocking struct {
	recorder
	release chan struct{}
}

func (h *blocking) Handle(ctx context.Context, req modules.Request) modules.Reply {
	<-h.release
	return h.recorder.Handle(ctx, req)
}

func TestWebhookQueueFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.Workers, cfg.QueueSize = 1, 1
		h := &blocking{release: make(chan struct{})}
		b, m := newBot(t, cfg, newFakeAPI(), h)
		wh := b.WebhookHandler()

		post(wh, ptr(testSecret), updateJSON(1, 42, "private", "/start")) // taken by the worker
		synctest.Wait()
		if w := post(wh, ptr(testSecret), updateJSON(2, 42, "private", "/start")); w.Code != 200 { // queued
			t.Fatalf("second update: status %d, want 200", w.Code)
		}
		w := post(wh, ptr(testSecret), updateJSON(3, 42, "private", "/start"))
		if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "1" {
			t.Fatalf("third update: status %d Retry-After %q, want 503 and 1", w.Code, w.Header().Get("Retry-After"))
		}
		if got := received(m, "webhook", "queue_full"); got != 1 {
			t.Errorf("queue_full counted %v, want 1", got)
		}

		close(h.release)
		synctest.Wait()
		// Telegram redelivers the refused update; it must not count as a duplicate.
		if w := post(wh, ptr(testSecret), updateJSON(3, 42, "private", "/start")); w.Code != 200 {
			t.Fatalf("redelivery: status %d, want 200", w.Code)
		}
		synctest.Wait()
		var ids []int64
		for _, r := range h.requests() {
			ids = append(ids, r.UpdateID)
		}
		if !slices.Equal(ids, []int64{1, 2, 3}) {
			t.Errorf("handled update ids %v, want [1 2 3]", ids)
		}
	})
}

func TestWebhookUnavailable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		b, m := newUnstarted(t, testConfig(), newFakeAPI(), rec)
		wh := b.WebhookHandler()
		check := func(when string) {
			t.Helper()
			w := post(wh, ptr(testSecret), updateJSON(1, 42, "private", "/start"))
			if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "1" {
				t.Errorf("%s: status %d Retry-After %q, want 503 and 1", when, w.Code, w.Header().Get("Retry-After"))
			}
		}
		check("before Start")
		if err := b.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := b.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
		check("after Shutdown")
		if len(rec.requests()) != 0 {
			t.Error("handler called for an update refused with 503")
		}
		if got := received(m, "webhook", "unavailable"); got != 2 {
			t.Errorf("unavailable counted %v, want 2", got)
		}
	})
}

// TestWebhookOverHTTP drives the route through a real server on loopback.
func TestWebhookOverHTTP(t *testing.T) {
	api := newFakeAPI()
	var wg sync.WaitGroup
	wg.Add(1)
	h := HandlerFunc(func(_ context.Context, req modules.Request) modules.Reply {
		defer wg.Done()
		return modules.Reply{Text: "pong " + req.Command}
	})
	b, _ := newBot(t, testConfig(), api, h)
	srv := httptest.NewServer(b.WebhookHandler())
	defer srv.Close()

	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL, strings.NewReader(updateJSON(1, 42, "private", "/ping")))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(SecretHeader, testSecret)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}
	wg.Wait()
	if err := b.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	sent := api.sentItems()
	if len(sent) != 1 || sent[0].msg.Text != "pong ping" || sent[0].msg.ChatID != 42 {
		t.Errorf("sent %+v, want one \"pong ping\" to chat 42", sent)
	}
}

func TestRegisterWebhook(t *testing.T) {
	tests := []struct {
		name    string
		mode    Mode
		url     string
		wantErr bool
	}{
		{name: "ok", mode: ModeWebhook, url: "https://bot.example.com/webhook"},
		{name: "relative URL", mode: ModeWebhook, url: "/webhook", wantErr: true},
		{name: "garbage", mode: ModeWebhook, url: "::", wantErr: true},
		{name: "polling mode", mode: ModePolling, url: "https://bot.example.com/webhook", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newFakeAPI()
			cfg := testConfig()
			cfg.Mode = tt.mode
			b, _ := newBot(t, cfg, api, &recorder{})
			err := b.RegisterWebhook(t.Context(), tt.url)
			if (err != nil) != tt.wantErr {
				t.Fatalf("RegisterWebhook: err %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				if len(api.webhooks) != 0 {
					t.Error("setWebhook called despite the error")
				}
				return
			}
			want := Webhook{URL: tt.url, Secret: testSecret, AllowedUpdates: []string{"message", "callback_query", "inline_query", "my_chat_member"}}
			if len(api.webhooks) != 1 || api.webhooks[0].URL != want.URL || api.webhooks[0].Secret != want.Secret ||
				!slices.Equal(api.webhooks[0].AllowedUpdates, want.AllowedUpdates) {
				t.Errorf("setWebhook calls %+v, want one %+v", api.webhooks, want)
			}
		})
	}
}
