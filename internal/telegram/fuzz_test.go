package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/metrics"
	"github.com/cryptobot-dev/cryptobot/modules"
)

// fuzzMaxBody is small so the fuzzer reaches the 413 path too.
const fuzzMaxBody = 4096

// nullAPI accepts every call and keeps nothing, so a long fuzz run does not
// grow memory with sent messages.
type nullAPI struct{}

func (nullAPI) GetMe(context.Context) (User, error) {
	return User{ID: 1, IsBot: true, Username: "OurBot"}, nil
}
func (nullAPI) SetWebhook(context.Context, Webhook) error { return nil }
func (nullAPI) DeleteWebhook(context.Context) error       { return nil }
func (nullAPI) GetUpdates(ctx context.Context, _ int64, _ time.Duration) ([]Update, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}
func (nullAPI) SendMessage(context.Context, OutMessage) error     { return nil }
func (nullAPI) SendPhoto(context.Context, OutPhoto) error         { return nil }
func (nullAPI) SetMyCommands(context.Context, []BotCommand) error { return nil }
func (nullAPI) EditMessageText(context.Context, EditText) error   { return nil }
func (nullAPI) EditMessagePhoto(context.Context, EditPhoto) error { return nil }
func (nullAPI) AnswerCallbackQuery(context.Context, CallbackAnswer) error {
	return nil
}
func (nullAPI) AnswerInlineQuery(context.Context, InlineAnswer) error { return nil }
func (nullAPI) ChatMember(context.Context, int64, int64) (string, error) {
	return "member", nil
}

// FuzzWebhook feeds arbitrary bodies to the real webhook handler of a
// running pipeline. Whatever arrives, the answer is 200 (accepted, duplicate
// or ignored), 400 (malformed), 413 (too large) or 503 (queue full); 200 only
// for a JSON object with a numeric update_id; 413 exactly when the body is
// over the cap. Accepted updates go through the workers, so a panic in
// command parsing or request building fails the run too.
func FuzzWebhook(f *testing.F) {
	for _, seed := range []string{
		`{"update_id":1,"message":{"message_id":1,"from":{"id":7,"is_bot":false,"first_name":"Ann","language_code":"de"},"chat":{"id":42,"type":"private"},"date":1,"text":"/price btc"}}`,
		`{"update_id":2,"message":{"message_id":2,"chat":{"id":-100,"type":"supergroup"},"date":1,"text":"/price@OurBot eth"}}`,
		`{"update_id":3,"message":{"message_id":3,"chat":{"id":-100,"type":"group"},"date":1,"text":"/oi@OtherBot"}}`,
		`{"update_id":4,"message":{"message_id":4,"chat":{"id":42,"type":"private"},"date":1,"text":"héllo 👋 /"}}`,
		`{"update_id":5,"edited_message":{"chat":{"id":1,"type":"private"},"text":"/start"}}`,
		`{"update_id":-9223372036854775808,"message":null}`,
		`{"update_id":1e3}`,
		`{"update_id":"6"}`,
		`{"message":{"text":"/start"}}`,
		`{"update_id":7,"message":{"text":"/start","chat":"x"}}`,
		`{"update_id":`,
		`[]`,
		`null`,
		``,
		"\xff\xfe{",
		`{"update_id":8,"message":{"chat":{"id":1,"type":"private"},"text":"/` + strings.Repeat("a", 5000) + `"}}`,
	} {
		f.Add([]byte(seed))
	}
	m := metrics.New("fuzz", "fuzz")
	cfg := Config{
		Mode:          ModeWebhook,
		Workers:       2,
		QueueSize:     64,
		MaxBody:       fuzzMaxBody,
		WebhookSecret: "fuzz_secret",
		Commands:      []string{"price", "start"},
		Rate:          Rate{Global: 1e9, GlobalBurst: 1 << 20, PerChat: 1e9, PerChatBurst: 1 << 20, PerGroup: 1e9, PerGroupBurst: 1 << 20},
	}
	h := HandlerFunc(func(_ context.Context, req modules.Request) modules.Reply {
		return modules.Reply{Text: "ok " + req.Command}
	})
	b, err := New(cfg, nullAPI{}, h, m, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		f.Fatal(err)
	}
	if err := b.Start(context.Background()); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := b.Shutdown(ctx); err != nil {
			f.Errorf("shutdown: %v", err)
		}
	})
	handler := b.WebhookHandler()

	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set(SecretHeader, cfg.WebhookSecret)
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)

		code := w.Code
		switch code {
		case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusServiceUnavailable:
		default:
			t.Fatalf("status %d for %q", code, body)
		}
		if tooBig := len(body) > fuzzMaxBody; tooBig != (code == http.StatusRequestEntityTooLarge) {
			t.Fatalf("%d-byte body (cap %d) answered %d", len(body), fuzzMaxBody, code)
		}
		if code == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
			t.Fatal("503 without Retry-After")
		}
		if code == http.StatusOK {
			var probe struct {
				UpdateID *int64 `json:"update_id"`
			}
			if err := json.Unmarshal(body, &probe); err != nil || probe.UpdateID == nil {
				t.Fatalf("200 for a body without a numeric update_id: %q", body)
			}
		}
	})
}
