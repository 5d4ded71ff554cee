package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cryptobot-dev/cryptobot/internal/metrics"
	"github.com/cryptobot-dev/cryptobot/internal/store"
	"github.com/cryptobot-dev/cryptobot/internal/telegram/telegramtest"
)

var errJournalDown = errors.New("journal down")

// fakeJournal is an in-memory Journal that records outcomes and fails the
// next calls on demand.
type fakeJournal struct {
	mu       sync.Mutex
	entries  map[int64]store.Update
	outcomes map[int64]store.Outcome
	order    []int64
	appends  int // successful Append calls

	failAppend, failSettle, failUnanswered int // fail the next n calls
	appended                               chan struct{}
}

func newFakeJournal() *fakeJournal {
	return &fakeJournal{entries: map[int64]store.Update{}, outcomes: map[int64]store.Outcome{}, appended: make(chan struct{}, 1024)}
}

// seed journals us as a previous run left them: unanswered.
func (j *fakeJournal) seed(us ...store.Update) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, u := range us {
		j.entries[u.ID] = u
		j.order = append(j.order, u.ID)
	}
}

// Ping answers like the journal's next append would: failing while an
// append failure is pending.
func (j *fakeJournal) Ping(context.Context) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.failAppend > 0 {
		return errJournalDown
	}
	return nil
}

func (j *fakeJournal) setFail(appends, settles, unanswered int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.failAppend, j.failSettle, j.failUnanswered = appends, settles, unanswered
}

func take(n *int) bool {
	if *n > 0 {
		*n--
		return true
	}
	return false
}

func (j *fakeJournal) Append(_ context.Context, us []store.Update) ([]bool, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if take(&j.failAppend) {
		return nil, errJournalDown
	}
	fresh := make([]bool, len(us))
	for i, u := range us {
		if _, ok := j.entries[u.ID]; !ok {
			j.entries[u.ID] = u
			j.order = append(j.order, u.ID)
			fresh[i] = true
		}
	}
	j.appends++
	j.appended <- struct{}{}
	return fresh, nil
}

func (j *fakeJournal) Settle(_ context.Context, o store.Outcome, ids ...int64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if take(&j.failSettle) {
		return errJournalDown
	}
	for _, id := range ids {
		if _, ok := j.entries[id]; ok {
			j.outcomes[id] = o
		}
	}
	return nil
}

func (j *fakeJournal) Unanswered(_ context.Context, limit int) ([]store.Update, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if take(&j.failUnanswered) {
		return nil, errJournalDown
	}
	var us []store.Update
	for _, id := range j.order {
		if _, settled := j.outcomes[id]; !settled && len(us) < limit {
			us = append(us, j.entries[id])
		}
	}
	slices.SortStableFunc(us, func(a, b store.Update) int { return a.Received.Compare(b.Received) })
	return us, nil
}

func (j *fakeJournal) outcome(id int64) store.Outcome {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.outcomes[id]
}

// body returns the journaled body of id, nil if it was never journaled.
func (j *fakeJournal) body(id int64) []byte {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.entries[id].Body
}

func (j *fakeJournal) unsettled() []int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	var ids []int64
	for _, id := range j.order {
		if _, ok := j.outcomes[id]; !ok {
			ids = append(ids, id)
		}
	}
	return ids
}

// journaled builds the entry a previous run left for u, received at.
func journaled(u Update, at time.Time) store.Update {
	var chat int64
	if u.Message != nil {
		chat = u.Message.Chat.ID
	}
	return store.Update{ID: u.UpdateID, ChatID: chat, Body: u.body(), Received: at}
}

func journalConfig(j Journal) Config {
	cfg := testConfig()
	cfg.Journal = j
	return cfg
}

func handledIDs(rec *recorder) []int64 {
	var ids []int64
	for _, r := range rec.requests() {
		ids = append(ids, r.UpdateID)
	}
	return ids
}

// The webhook answers 200 only once the journal committed the update; a
// failing journal answers 503 with Retry-After so Telegram redelivers.
func TestWebhookJournalsBeforeAnswering(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := newFakeJournal()
		j.setFail(1, 0, 0)
		rec := &recorder{}
		b, m := newBot(t, journalConfig(j), newFakeAPI(), rec)
		if err := b.RegisterWebhook(t.Context(), "https://bot.example.org/webhook"); err != nil {
			t.Fatal(err)
		}
		wh := b.WebhookHandler()

		w := post(wh, ptr(testSecret), updateJSON(1, 42, "private", "/price"))
		if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
			t.Fatalf("journal down: %d Retry-After %q, want 503 with Retry-After", w.Code, w.Header().Get("Retry-After"))
		}
		wantNotReady(t, b, "while the journal fails", "journal failing")
		if got := received(m, sourceWebhook, outcomeJournalError); got != 1 {
			t.Errorf("updates{webhook,journal_error} = %v, want 1", got)
		}
		synctest.Wait()
		if n := len(rec.requests()); n != 0 {
			t.Fatalf("an update the journal refused was handled %d times", n)
		}

		w = post(wh, ptr(testSecret), updateJSON(1, 42, "private", "/price")) // Telegram redelivers
		if w.Code != http.StatusOK {
			t.Fatalf("redelivery: %d, want 200", w.Code)
		}
		if err := b.Ready(); err != nil && strings.Contains(err.Error(), "journal") {
			t.Errorf("Ready after the journal recovered: %v", err)
		}
		if j.body(1) == nil {
			t.Fatal("200 answered but the update is not in the journal")
		}
		synctest.Wait()
		if ids := handledIDs(rec); !slices.Equal(ids, []int64{1}) {
			t.Errorf("handled %v, want [1]", ids)
		}
		if o := j.outcome(1); o != store.Answered {
			t.Errorf("outcome %q, want answered after the reply was accepted", o)
		}
		var raw map[string]any
		if err := json.Unmarshal(j.body(1), &raw); err != nil || raw["update_id"] != float64(1) {
			t.Errorf("journaled body %q is not the update as received", j.body(1))
		}
	})
}

// Readiness recovers when the journal does, without an update to prove it:
// a replica a load balancer took out of rotation for a failing store gets
// no update, and would stay out for good.
func TestReadyRecoversWithTheJournal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := newFakeJournal()
		j.setFail(2, 0, 0) // the append below, then the first ping
		b, _ := newBot(t, journalConfig(j), newFakeAPI(), &recorder{})
		if err := b.RegisterWebhook(t.Context(), "https://bot.example.org/webhook"); err != nil {
			t.Fatal(err)
		}
		if w := post(b.WebhookHandler(), ptr(testSecret), updateJSON(1, 42, "private", "/price")); w.Code != http.StatusServiceUnavailable {
			t.Fatalf("journal down: %d, want 503", w.Code)
		}
		time.Sleep(time.Second) // one health tick: the ping still fails
		synctest.Wait()
		if err := b.Ready(); err == nil || !strings.Contains(err.Error(), "journal failing") {
			t.Fatalf("Ready while the journal still fails: %v", err)
		}
		j.setFail(0, 0, 0)
		time.Sleep(time.Second) // the next tick pings a healthy journal
		synctest.Wait()
		wantReady(t, b, "after the journal recovered, with no update since")
	})
}

// The journal's key is the deduplication, across restarts: an update_id it
// already holds answers 200 and is not queued again.
func TestWebhookDuplicateFromAnEarlierRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := newFakeJournal()
		u := msgUpdate(7, 42, "private", "/price")
		j.seed(journaled(u, time.Now().Add(-time.Minute)))
		_ = j.Settle(t.Context(), store.Answered, 7)
		rec := &recorder{}
		b, m := newBot(t, journalConfig(j), newFakeAPI(), rec)
		if w := post(b.WebhookHandler(), ptr(testSecret), updateJSON(7, 42, "private", "/price")); w.Code != http.StatusOK {
			t.Fatalf("duplicate: %d, want 200", w.Code)
		}
		synctest.Wait()
		if n := len(rec.requests()); n != 0 || received(m, sourceWebhook, outcomeDuplicate) != 1 {
			t.Errorf("duplicate handled %d times, counted %v; want 0 and 1", n, received(m, sourceWebhook, outcomeDuplicate))
		}
	})
}

// Polling moves its offset past a batch only once all of it is journaled;
// while the journal fails, it pauses and offers the same batch again.
func TestPollOffsetWaitsForTheJournal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := newFakeJournal()
		j.setFail(3, 0, 0)
		api := newFakeAPI()
		s := &script{steps: []func(int64) ([]Update, error){updates(1, 2, 3)}}
		api.getUpdates = s.getUpdates
		cfg := pollConfig()
		cfg.Journal = j
		rec := &recorder{}
		b, m := newBot(t, cfg, api, rec)
		stop := runPoll(t.Context(), t, b)
		time.Sleep(time.Minute) // past the journal backoffs
		synctest.Wait()
		if got := api.offsetList(); !slices.Equal(got, []int64{0, 4}) {
			t.Errorf("getUpdates offsets %v, want [0 4]: no new poll until the batch is journaled", got)
		}
		if got := received(m, sourcePolling, outcomeJournalError); got != 9 {
			t.Errorf("updates{polling,journal_error} = %v, want 9 (3 updates, 3 failed attempts)", got)
		}
		ids := handledIDs(rec)
		slices.Sort(ids) // two workers: each once, in either order
		if !slices.Equal(ids, []int64{1, 2, 3}) {
			t.Errorf("handled %v, want 1, 2 and 3 once each", ids)
		}
		stop()
	})
}

// A worker settles answered replies as answered and refusals as failed.
func TestSettleOutcomes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := newFakeJournal()
		api := newFakeAPI()
		api.sendErrs = []error{&Error{Method: "sendMessage", Code: 403, Description: "Forbidden: bot was blocked by the user"}}
		cfg := journalConfig(j)
		cfg.Workers = 1
		b, _ := newBot(t, cfg, api, &recorder{})
		for _, u := range []Update{msgUpdate(1, 10, "private", "/price"), msgUpdate(2, 11, "private", "/price"),
			msgUpdate(3, -5, "group", "chatter")} {
			enqueue(t, b, u)
		}
		synctest.Wait()
		if o1, o2 := j.outcome(1), j.outcome(2); o1 != store.Failed || o2 != store.Answered {
			t.Errorf("outcomes %q %q, want failed (403) and answered", o1, o2)
		}
		if j.body(3) != nil {
			t.Error("ignored group chatter was journaled")
		}
	})
}

// At Start, what an earlier run left unanswered is queued again oldest
// first; too old entries expire, broken bodies are skipped, and neither
// blocks the rest.
func TestReplayAtStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		now := time.Now()
		j := newFakeJournal()
		j.setFail(0, 0, 1) // the first read fails and is retried
		var seeds []store.Update
		var want []int64
		for i := range int64(40) { // more than a queue's worth (16)
			seeds = append(seeds, journaled(msgUpdate(100+i, 42, "private", "/price"), now.Add(-5*time.Minute+time.Duration(i)*time.Second)))
			want = append(want, 100+i)
		}
		seeds = append(seeds,
			journaled(msgUpdate(1, 42, "private", "/price"), now.Add(-11*time.Minute)),
			store.Update{ID: 2, ChatID: 42, Body: []byte(`{"update_id":`), Received: now.Add(-4 * time.Minute)},
			journaled(msgUpdate(3, -5, "group", "chatter"), now.Add(-3*time.Minute)),
		)
		j.seed(seeds...)
		rec := &recorder{}
		cfg := journalConfig(j)
		cfg.Workers = 1 // handled in queue order
		b, _ := newBot(t, cfg, newFakeAPI(), rec)
		time.Sleep(time.Minute) // past the retry of the failed read
		synctest.Wait()
		if ids := handledIDs(rec); !slices.Equal(ids, want) {
			t.Errorf("replayed %v, want %v in order", ids, want)
		}
		for id, o := range map[int64]store.Outcome{1: store.Expired, 2: store.Skipped, 3: store.Answered, 100: store.Answered, 139: store.Answered} {
			if got := j.outcome(id); got != o {
				t.Errorf("outcome of %d = %q, want %q", id, got, o)
			}
		}
		for name, c := range map[string]float64{
			"replayed": testutil.ToFloat64(b.tm.replayed), "expired": testutil.ToFloat64(b.tm.expired),
			"undecodable": testutil.ToFloat64(b.tm.undecodable), "unanswered errors": testutil.ToFloat64(b.tm.journalErrors.WithLabelValues(opUnanswered)),
		} {
			want := map[string]float64{"replayed": 40, "expired": 1, "undecodable": 1, "unanswered errors": 1}[name]
			if c != want {
				t.Errorf("%s = %v, want %v", name, c, want)
			}
		}
		if left := j.unsettled(); len(left) != 0 {
			t.Errorf("unsettled after replay: %v", left)
		}
		if st := b.Status(); st.Replayed != 40 || st.Expired != 1 || st.Undecodable != 1 {
			t.Errorf("status %+v, want 40 replayed, 1 expired, 1 undecodable", st)
		}
	})
}

// A replayed update is not queued twice when Telegram redelivers it too.
func TestReplayAndRedeliveryAnswerOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := newFakeJournal()
		j.seed(journaled(msgUpdate(5, 42, "private", "/price"), time.Now().Add(-time.Minute)))
		rec := &recorder{}
		b, m := newBot(t, journalConfig(j), newFakeAPI(), rec)
		post(b.WebhookHandler(), ptr(testSecret), updateJSON(5, 42, "private", "/price"))
		synctest.Wait()
		if ids := handledIDs(rec); !slices.Equal(ids, []int64{5}) || received(m, sourceWebhook, outcomeDuplicate) != 1 {
			t.Errorf("handled %v, want [5] once", ids)
		}
	})
}

// Settle failing leaves the entry unanswered and is counted; the reply
// still went out.
func TestSettleFailureCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := newFakeJournal()
		j.setFail(0, 1, 0)
		api := newFakeAPI()
		b, _ := newBot(t, journalConfig(j), api, &recorder{})
		enqueue(t, b, msgUpdate(1, 42, "private", "/price"))
		synctest.Wait()
		if len(api.sentItems()) != 1 || testutil.ToFloat64(b.tm.journalErrors.WithLabelValues(opSettle)) != 1 {
			t.Error("want the reply sent and the settle error counted")
		}
		if left := j.unsettled(); !slices.Equal(left, []int64{1}) {
			t.Errorf("unsettled %v, want [1]", left)
		}
	})
}

func FuzzJournalBody(f *testing.F) {
	for _, s := range []string{
		updateJSON(1, 42, "private", "/price btc"), `{"update_id":5}`, `{"update_id":1,"message":null}`,
		`{"update_id":"1"}`, `{}`, `[]`, `null`, ``, `{"update_id":1,"message":{"chat":{"id":"x"}}}`,
		`{"update_id":9223372036854775807,"message":{"text":"\ufeff/price"}}`,
	} {
		f.Add([]byte(s))
	}
	b, err := New(testConfig(), nullAPI{}, &recorder{}, metrics.New("test", "test"), slog.New(slog.DiscardHandler))
	if err != nil {
		f.Fatal(err)
	}
	b.setUsername("OurBot")
	f.Fuzz(func(t *testing.T, body []byte) {
		u, err := decodeBody(body)
		if err != nil {
			return
		}
		if !json.Valid(body) {
			t.Fatalf("decoded invalid JSON %q", body)
		}
		// What decodes must journal back as itself and decode the same.
		again, err := decodeBody(u.body())
		if err != nil || again.UpdateID != u.UpdateID {
			t.Fatalf("round trip: %v, id %d want %d", err, again.UpdateID, u.UpdateID)
		}
		b.request(u, time.Now()) // must not panic on any decodable body
	})
}

// waitAppended waits until the journal holds n entries.
func (j *fakeJournal) waitAppended(ctx context.Context, t *testing.T, n int) {
	t.Helper()
	for {
		j.mu.Lock()
		have := len(j.entries)
		j.mu.Unlock()
		if have >= n {
			return
		}
		select {
		case <-j.appended:
		case <-ctx.Done():
			t.Fatalf("journal holds %d entries, want %d: %v", have, n, ctx.Err())
		}
	}
}

// The loss, end to end against the fake Bot API in polling mode:
// updates waiting in a bot that stops without answering them are answered
// by the next start on the same journal, each once, and Telegram does not
// deliver them again.
func TestRestartAnswersWhatAStoppedBotLeft(t *testing.T) {
	const n = 50
	srv, api := newFakeBotAPI(t, telegramtest.Options{}, ClientConfig{PollTimeout: time.Second})
	ctx := bcCtx(t)
	j := newFakeJournal()
	cfg := pollConfig()
	cfg.Journal, cfg.Workers, cfg.QueueSize = j, 1, 64
	first, _ := newBot(t, cfg, api, stuckHandler()) // as if killed mid-work
	stopPoll := runPoll(ctx, t, first)
	for i := range int64(n) {
		srv.SendText(1000+i, 7, "private", "/price")
	}
	j.waitAppended(ctx, t, n)
	gone, cancel := context.WithCancel(ctx)
	cancel() // no time to drain at all
	if err := first.Shutdown(gone); err == nil {
		t.Fatal("Shutdown with no time left: want an error naming what was left")
	}
	stopPoll()
	if left := j.unsettled(); len(left) != n {
		t.Fatalf("%d unsettled after the stop, want %d", len(left), n)
	}

	rec := &recorder{}
	second, m := newBot(t, cfg, api, rec)
	stopPoll = runPoll(ctx, t, second)
	sent, err := srv.WaitSent(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	chats := map[int64]int{}
	for _, s := range sent {
		chats[s.ChatID]++
	}
	if len(chats) != n {
		t.Errorf("%d chats answered, want %d: %v", len(chats), n, chats)
	}
	if err := second.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	stopPoll()
	if got := len(srv.Sent()); got != n {
		t.Errorf("%d replies in all, want %d (none twice)", got, n)
	}
	if got := received(m, sourcePolling, outcomeDuplicate) + received(m, sourcePolling, outcomeAccepted); got != 0 {
		t.Errorf("the second bot polled %v updates again; Telegram should have forgotten them", got)
	}
	if got := testutil.ToFloat64(second.tm.replayed); got != n {
		t.Errorf("replayed = %v, want %d", got, n)
	}
	if left := j.unsettled(); len(left) != 0 {
		t.Errorf("unsettled at the end: %v", left)
	}
}

// Issue 10: update ids are per bot. A store that holds another bot's
// journal (the token was switched) must not replay that bot's updates nor
// take this bot's update 5 for that bot's update 5.
func TestJournalOfAnotherBotIsDropped(t *testing.T) {
	ctx := t.Context()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "bot.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.BindBot(ctx, 99); err != nil {
		t.Fatal(err)
	}
	old, _ := json.Marshal(msgUpdate(5, 7, "private", "/price from the old bot"))
	if _, err := st.Append(ctx, []store.Update{{ID: 5, ChatID: 7, Body: old}}); err != nil {
		t.Fatal(err)
	}

	cfg := testConfig()
	cfg.Journal = st
	rec := &recorder{}
	api := newFakeAPI() // getMe answers bot 1
	b, _ := newBot(t, cfg, api, rec)
	enqueue(t, b, msgUpdate(5, 7, "private", "/price"))
	if err := b.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	reqs := rec.requests()
	if len(reqs) != 1 || reqs[0].UpdateID != 5 || len(reqs[0].Args) != 0 {
		t.Errorf("handled %+v; want only this bot's update 5", reqs)
	}
}
