package telegram

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/metrics"
	"github.com/cryptobot-dev/cryptobot/modules"
)

// fakeAPI is an in-memory API: it records what the bot sends and returns
// injected errors. The end-to-end tests against telegramtest live elsewhere.
type fakeAPI struct {
	mu       sync.Mutex
	me       User
	meErr    error
	sendErrs []error // consumed one per SendMessage/SendPhoto; nil means success
	sent     []sentItem
	attempts int
	calls    []string // method names in call order
	webhooks []Webhook
	// getUpdates, when set, answers GetUpdates; offsets records every call.
	getUpdates func(ctx context.Context, offset int64, timeout time.Duration) ([]Update, error)
	offsets    []int64
	deleteErrs []error
}

// sentItem is one delivered message or photo.
type sentItem struct {
	at    time.Time
	msg   OutMessage
	photo *OutPhoto
}

func newFakeAPI() *fakeAPI { return &fakeAPI{me: User{ID: 1, IsBot: true, Username: "OurBot"}} }

func (f *fakeAPI) record(method string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, method)
}

func (f *fakeAPI) GetMe(context.Context) (User, error) {
	f.record("getMe")
	return f.me, f.meErr
}

func (f *fakeAPI) SetWebhook(_ context.Context, w Webhook) error {
	f.record("setWebhook")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.webhooks = append(f.webhooks, w)
	return nil
}

func (f *fakeAPI) DeleteWebhook(context.Context) error {
	f.record("deleteWebhook")
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.deleteErrs) > 0 {
		err := f.deleteErrs[0]
		f.deleteErrs = f.deleteErrs[1:]
		return err
	}
	return nil
}

func (f *fakeAPI) GetUpdates(ctx context.Context, offset int64, timeout time.Duration) ([]Update, error) {
	f.record("getUpdates")
	f.mu.Lock()
	f.offsets = append(f.offsets, offset)
	fn := f.getUpdates
	f.mu.Unlock()
	if fn == nil {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return fn(ctx, offset, timeout)
}

func (f *fakeAPI) nextSendErr() error {
	f.attempts++
	if len(f.sendErrs) == 0 {
		return nil
	}
	err := f.sendErrs[0]
	f.sendErrs = f.sendErrs[1:]
	return err
}

// deliver records it as sent unless ctx is done or an injected error is due.
func (f *fakeAPI) deliver(ctx context.Context, it sentItem) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.nextSendErr(); err != nil {
		return err
	}
	it.at = time.Now()
	f.sent = append(f.sent, it)
	return nil
}

func (f *fakeAPI) SendMessage(ctx context.Context, m OutMessage) error {
	return f.deliver(ctx, sentItem{msg: m})
}

func (f *fakeAPI) SendPhoto(ctx context.Context, p OutPhoto) error {
	return f.deliver(ctx, sentItem{photo: &p})
}

func (f *fakeAPI) SetMyCommands(context.Context, []BotCommand) error {
	f.record("setMyCommands")
	return nil
}

func (f *fakeAPI) sentItems() []sentItem {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentItem(nil), f.sent...)
}

func (f *fakeAPI) callList() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeAPI) offsetList() []int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int64(nil), f.offsets...)
}

func tooMany(retry time.Duration) error {
	return &Error{Method: "sendMessage", Code: 429, Description: "Too Many Requests: retry after 1", RetryAfter: retry}
}

// recorder is a Handler that remembers requests and answers "ok <command>".
type recorder struct {
	mu   sync.Mutex
	reqs []modules.Request
}

func (r *recorder) Handle(_ context.Context, req modules.Request) modules.Reply {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, req)
	return modules.Reply{Text: "ok " + req.Command}
}

func (r *recorder) requests() []modules.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]modules.Request(nil), r.reqs...)
}

const testSecret = "s3cret_token-1"

// testConfig has limits high enough that pacing never shows unless a test
// sets its own.
func testConfig() Config {
	return Config{
		Mode:          ModeWebhook,
		Workers:       2,
		QueueSize:     16,
		WebhookSecret: testSecret,
		Commands:      []string{"price", "start"},
		Rate:          Rate{Global: 1e6, GlobalBurst: 1000, PerChat: 1e6, PerChatBurst: 1000, PerGroup: 1e6, PerGroupBurst: 1000},
	}
}

// newBot builds a started Bot whose Shutdown runs at cleanup.
func newBot(t testing.TB, cfg Config, api API, h Handler) (*Bot, *metrics.Metrics) {
	t.Helper()
	b, m := newUnstarted(t, cfg, api, h)
	if err := b.Start(t.Context()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = b.Shutdown(ctx) // tests that care call Shutdown themselves
	})
	return b, m
}

func newUnstarted(t testing.TB, cfg Config, api API, h Handler) (*Bot, *metrics.Metrics) {
	t.Helper()
	m := metrics.New("test", "test")
	b, err := New(cfg, api, h, m, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return b, m
}

// msgUpdate is a text message update from user 7 in chat chatID.
func msgUpdate(id, chatID int64, chatType, text string) Update {
	return Update{UpdateID: id, Message: &Message{
		MessageID: id,
		From:      &User{ID: 7, FirstName: "Ann", LanguageCode: "de"},
		Chat:      Chat{ID: chatID, Type: chatType},
		Text:      text,
	}}
}

func updateJSON(id, chatID int64, chatType, text string) string {
	return fmt.Sprintf(`{"update_id":%d,"message":{"message_id":%d,"from":{"id":7,"is_bot":false,"first_name":"Ann","language_code":"de"},"chat":{"id":%d,"type":%q},"date":1,"text":%q}}`,
		id, id, chatID, chatType, text)
}

// The interaction methods record their calls; the end-to-end tests against
// telegramtest check what they send.

func (f *fakeAPI) called(ctx context.Context, method string) error {
	f.record(method)
	return ctx.Err()
}

func (f *fakeAPI) EditMessageText(ctx context.Context, _ EditText) error {
	return f.called(ctx, "editMessageText")
}

func (f *fakeAPI) EditMessagePhoto(ctx context.Context, _ EditPhoto) error {
	return f.called(ctx, "editMessageMedia")
}

func (f *fakeAPI) AnswerCallbackQuery(ctx context.Context, _ CallbackAnswer) error {
	return f.called(ctx, "answerCallbackQuery")
}

func (f *fakeAPI) AnswerInlineQuery(ctx context.Context, _ InlineAnswer) error {
	return f.called(ctx, "answerInlineQuery")
}

func (f *fakeAPI) ChatMember(ctx context.Context, _, _ int64) (string, error) {
	return "member", f.called(ctx, "getChatMember")
}

// enqueue hands the updates to b and fails the test on the first refusal.
func enqueue(t testing.TB, b *Bot, us ...Update) {
	t.Helper()
	for _, u := range us {
		if err := b.Enqueue(u); err != nil {
			t.Fatalf("Enqueue update %d: %v", u.UpdateID, err)
		}
	}
}

// wantReady fails the test unless b is ready; when says at what point.
func wantReady(t testing.TB, b *Bot, when string) {
	t.Helper()
	if err := b.Ready(); err != nil {
		t.Errorf("Ready() %s = %v, want ready", when, err)
	}
}

// wantNotReady fails the test unless b is not ready with an error that
// contains substr; when says at what point.
func wantNotReady(t testing.TB, b *Bot, when, substr string) {
	t.Helper()
	if err := b.Ready(); err == nil || !strings.Contains(err.Error(), substr) {
		t.Errorf("Ready() %s = %v, want an error containing %q", when, err, substr)
	}
}
