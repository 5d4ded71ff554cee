package telegram

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/cryptobot-dev/cryptobot/modules"
)

// countingAPI counts sends without keeping them, for benchmarks.
type countingAPI struct {
	*fakeAPI
	sends atomic.Int64
	done  chan struct{}
	want  int64
}

func (c *countingAPI) SendMessage(context.Context, OutMessage) error {
	if c.sends.Add(1) == c.want {
		close(c.done)
	}
	return nil
}

// BenchmarkPipeline measures one update from Enqueue through the queue, a
// worker, the handler, both limiters and a (fake) sendMessage.
func BenchmarkPipeline(b *testing.B) {
	api := &countingAPI{fakeAPI: newFakeAPI(), done: make(chan struct{}), want: int64(b.N)}
	cfg := testConfig()
	cfg.Workers, cfg.QueueSize = 8, 1024
	h := HandlerFunc(func(_ context.Context, req modules.Request) modules.Reply {
		return modules.Reply{Text: "<b>BTC-USDT</b> 64,000.50 (+1.2%)"}
	})
	bot, _ := newBot(b, cfg, api, h)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		u := msgUpdate(int64(i+1), int64(i%1000), "private", "/price btc")
		for {
			err := bot.Enqueue(u)
			if err == nil {
				break
			}
			if !errors.Is(err, ErrQueueFull) {
				b.Fatal(err)
			}
			runtime.Gosched()
		}
	}
	<-api.done
}

// BenchmarkPressToAnswer measures a button press from the fake Bot API
// through long polling, the journal, a worker, editMessageText and
// answerCallbackQuery over loopback HTTP, one press at a time.
func BenchmarkPressToAnswer(b *testing.B) {
	h := &priceBot{}
	srv, _ := newPolling(b, testConfig(), h)
	ctx := b.Context()
	srv.SendText(42, 7, "", "/price")
	sent, err := srv.WaitSent(ctx, 1)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		h.price.Store(int64(i%50 + 2)) // a new price each time: a real edit
		srv.Press(42, int64(1000+i), sent[0].MessageID, "v1:r:BTC")
		if _, err := srv.WaitAnswers(ctx, i+1); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInlineAnswer measures an inline query to its answer the same way.
func BenchmarkInlineAnswer(b *testing.B) {
	h := HandlerFunc(func(_ context.Context, req modules.Request) modules.Reply {
		return modules.Reply{Inline: &modules.InlineAnswer{Results: []modules.InlineResult{{ID: "BTC-USDT", Title: "BTC-USDT 64,000", Text: "<b>BTC</b>"}}}}
	})
	srv, _ := newPolling(b, testConfig(), h)
	ctx := b.Context()
	b.ResetTimer()
	for i := range b.N {
		srv.Inline(int64(1000+i), "btc", "private")
		if _, err := srv.WaitInline(ctx, i+1); err != nil {
			b.Fatal(err)
		}
	}
}
