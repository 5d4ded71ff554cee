package telegram

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// fakeOutbox is an outbox in memory with the store's semantics.
type fakeOutbox struct {
	mu      sync.Mutex
	msgs    []OutboxMessage // unsent, oldest first
	sent    []int64
	failed  map[int64]bool // id → permanent
	blocked []int64
}

func newFakeOutbox(msgs ...OutboxMessage) *fakeOutbox {
	return &fakeOutbox{msgs: msgs, failed: map[int64]bool{}}
}

func (o *fakeOutbox) PendingOutbox(_ context.Context, limit int) ([]OutboxMessage, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.msgs[:min(limit, len(o.msgs))]), nil
}

func (o *fakeOutbox) MarkSent(_ context.Context, ids ...int64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sent = append(o.sent, ids...)
	o.msgs = slices.DeleteFunc(o.msgs, func(m OutboxMessage) bool { return slices.Contains(ids, m.ID) })
	return nil
}

func (o *fakeOutbox) MarkOutboxFailed(_ context.Context, id int64, permanent bool) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.failed[id] = permanent
	for i := range o.msgs {
		if o.msgs[i].ID == id {
			o.msgs[i].Attempts++
			if permanent {
				o.msgs = slices.Delete(o.msgs, i, i+1)
			}
			break
		}
	}
	return nil
}

func (o *fakeOutbox) SetChatBlocked(_ context.Context, chat int64, blocked bool) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if blocked {
		o.blocked = append(o.blocked, chat)
	}
	return nil
}

func (o *fakeOutbox) pending() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.msgs)
}

// chatAPI refuses one chat with 403 and answers another with a 400 once.
type chatAPI struct {
	*fakeAPI
	blocked, flaky int64
	mu             sync.Mutex
	flaked         bool
}

func (a *chatAPI) SendMessage(ctx context.Context, m OutMessage) error {
	a.mu.Lock()
	flake := m.ChatID == a.flaky && !a.flaked
	a.flaked = a.flaked || flake
	a.mu.Unlock()
	switch {
	case m.ChatID == a.blocked:
		return &Error{Method: "sendMessage", Code: 403, Description: "Forbidden: bot was blocked by the user"}
	case flake:
		return &Error{Method: "sendMessage", Code: 400, Description: "Bad Request: something odd"}
	}
	return a.fakeAPI.SendMessage(ctx, m)
}

func outboxMessages(n int, chats ...int64) []OutboxMessage {
	out := make([]OutboxMessage, n)
	for i := range out {
		out[i] = OutboxMessage{ID: int64(i + 1), ChatID: chats[i%len(chats)], Text: "🚨 <b>alert</b> " + time.Duration(i).String()}
	}
	return out
}

func TestOutboxSendsEachOnceInChatOrder(t *testing.T) {
	api := newFakeAPI()
	b, _ := newUnstarted(t, testConfig(), api, &recorder{})
	ob := newFakeOutbox(outboxMessages(250, 1, 2, -100, 4, 5)...)
	b.drainOutbox(t.Context(), ob)
	if n := ob.pending(); n != 0 {
		t.Fatalf("%d messages left, want 0", n)
	}
	slices.Sort(ob.sent)
	if len(ob.sent) != 250 || slices.Compact(ob.sent)[249] != 250 {
		t.Fatalf("marked sent %d, want each of 250 once", len(ob.sent))
	}
	items := api.sentItems()
	if len(items) != 250 {
		t.Fatalf("Telegram got %d messages, want 250", len(items))
	}
	last := map[int64]string{}
	for _, it := range items {
		if it.msg.ParseMode != "HTML" {
			t.Errorf("parse mode %q", it.msg.ParseMode)
		}
		if prev, ok := last[it.msg.ChatID]; ok && len(it.msg.Text) < len(prev) {
			t.Errorf("chat %d out of order: %q after %q", it.msg.ChatID, it.msg.Text, prev)
		}
		last[it.msg.ChatID] = it.msg.Text
	}
}

func TestOutboxBlockedChatFailsForGoodAndPauses(t *testing.T) {
	api := &chatAPI{fakeAPI: newFakeAPI(), blocked: 2, flaky: 3}
	b, _ := newUnstarted(t, testConfig(), api, &recorder{})
	ob := newFakeOutbox(outboxMessages(6, 1, 2, 3)...)
	b.drainOutbox(t.Context(), ob)
	if !ob.failed[2] || !slices.Equal(ob.blocked, []int64{2}) {
		t.Errorf("failed %v, blocked %v; want message 2 failed for good and chat 2 blocked", ob.failed, ob.blocked)
	}
	if permanent, ok := ob.failed[3]; !ok || permanent {
		t.Errorf("a 400 marked %v (recorded %v), want one attempt", permanent, ok)
	}
	// Chat 2's second message waits; chat 3's two are retried next pass, in order.
	b.drainOutbox(t.Context(), ob)
	b.drainOutbox(t.Context(), ob)
	slices.Sort(ob.sent)
	if want := []int64{1, 3, 4, 6}; !slices.Equal(ob.sent, want) {
		t.Errorf("sent %v, want %v", ob.sent, want)
	}
	if ob.pending() != 0 {
		t.Errorf("%d left; chat 2's later message should fail for good too", ob.pending())
	}
}

func TestOutboxRetries429WithinThePass(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		api.sendErrs = []error{tooMany(3 * time.Second)}
		b, _ := newUnstarted(t, testConfig(), api, &recorder{})
		ob := newFakeOutbox(outboxMessages(1, 9)...)
		start := time.Now()
		b.drainOutbox(t.Context(), ob)
		if len(ob.sent) != 1 || time.Since(start) != 3*time.Second {
			t.Errorf("sent %v after %v, want the message after the 3s retry_after", ob.sent, time.Since(start))
		}
	})
}

func TestOutboxDrainerPollsUntilCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		b, _ := newUnstarted(t, testConfig(), api, &recorder{})
		ob := newFakeOutbox()
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { b.DrainOutbox(ctx, ob, time.Second); close(done) }()
		synctest.Wait()
		ob.mu.Lock()
		ob.msgs = outboxMessages(3, 1)
		ob.mu.Unlock()
		time.Sleep(time.Second)
		synctest.Wait()
		if len(api.sentItems()) != 3 {
			t.Errorf("sent %d, want 3 on the next pass", len(api.sentItems()))
		}
		cancel()
		<-done
	})
}

func TestOutboxSilentMessagesGoWithoutSound(t *testing.T) {
	api := newFakeAPI()
	b, _ := newUnstarted(t, testConfig(), api, &recorder{})
	msgs := outboxMessages(2, 1, 2)
	msgs[1].Silent = true
	b.drainOutbox(t.Context(), newFakeOutbox(msgs...))
	for _, it := range api.sentItems() {
		if it.msg.Silent != (it.msg.ChatID == 2) {
			t.Errorf("chat %d sent with Silent=%v; only the second message is silent", it.msg.ChatID, it.msg.Silent)
		}
	}
}
