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
