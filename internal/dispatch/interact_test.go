package dispatch

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cryptobot-dev/cryptobot/internal/metrics"
	"github.com/cryptobot-dev/cryptobot/modules"
	"github.com/cryptobot-dev/cryptobot/modules/callback"
)

// refresher answers "/quote X" with a refresh button, and "/quote" with usage.
func refresher(calls *[]modules.Request) func(context.Context, modules.Request) (modules.Reply, error) {
	return func(_ context.Context, req modules.Request) (modules.Reply, error) {
		*calls = append(*calls, req)
		if len(req.Args) == 0 {
			return modules.Reply{Text: "Usage: <code>/quote X</code>"}, nil
		}
		if req.Args[0] == "BROKEN" {
			return modules.Reply{}, errors.New("upstream broke")
		}
		return modules.Reply{Text: "<b>" + req.Args[0] + "</b> 1.00", Buttons: [][]modules.Button{callback.Refresh("quote", req.Args...)}}, nil
	}
}

func press(chat int64, data string) modules.Request {
	return modules.Request{ChatID: chat, UserID: 5, ChatType: "private", Callback: &modules.Callback{ID: "q", Data: data, MessageID: 9}}
}

func TestPress(t *testing.T) {
	var calls []modules.Request
	g := &guard{budget: 100}
	r, _ := newRouter(t, g, flagsOn{"beta": {42}},
		info("core.quote", "", 0, &feature{cmd: "quote", reply: refresher(&calls)}),
		info("core.admin", "", 0, &adminModule{}),
		info("enhanced.beta", "beta", 10, &feature{cmd: "beta", reply: refresher(&calls)}),
	)
	data := func(cmd string, args ...string) string {
		d, err := callback.Encode(cmd, args...)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, tc := range []struct {
		name     string
		req      modules.Request
		edit     bool
		toast    string
		ran      bool
		shedding bool
	}{
		{"refresh edits", press(1, data("quote", "BTC-USDT")), true, ToastUpdated, true, false},
		{"stale", press(1, "refresh:BTC"), false, callback.ToastStale, false, false},
		{"other version", press(1, "9|quote|BTC"), false, callback.ToastStale, false, false},
		{"forged", press(1, "1|quote|<script>"), false, callback.ToastInvalid, false, false},
		{"unknown command", press(1, data("lambo")), false, callback.ToastInvalid, false, false},
		{"admin command outside admin chat", press(1, data("secret")), false, callback.ToastInvalid, false, false},
		{"usage becomes a toast", press(1, data("quote")), false, "Usage: /quote X", true, false},
		{"failure becomes a toast", press(1, data("quote", "BROKEN")), false, failedText, true, false},
		{"flag off", press(1, data("beta", "X")), false, disabledText, false, false},
		{"flag on", press(42, data("beta", "X")), true, ToastUpdated, true, false},
		{"shed", press(42, data("beta", "X")), false, shedText, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls = nil
			g.shedding = tc.shedding
			got := r.Handle(context.Background(), tc.req)
			if got.Edit != tc.edit || got.Toast != tc.toast {
				t.Errorf("reply %+v, want edit %v toast %q", got, tc.edit, tc.toast)
			}
			if !tc.edit && (got.Text != "" || got.Photo != nil || got.Buttons != nil) {
				t.Errorf("a refused press must send nothing, got %+v", got)
			}
			if (len(calls) > 0) != tc.ran {
				t.Errorf("handler calls %d, want run=%v", len(calls), tc.ran)
			}
			if tc.ran && calls[0].Callback == nil {
				t.Error("the handler must see the press")
			}
		})
	}
	g.shedding = false
	if got := r.Handle(context.Background(), press(1, data("quote", "ETH-BTC"))); !strings.Contains(got.Text, "ETH-BTC") ||
		got.Buttons[0][0].Data != "1|quote|ETH-BTC" {
		t.Errorf("the edit must carry the command's answer and keyboard: %+v", got)
	}
}

func TestPressPanicIsAToast(t *testing.T) {
	boom := &feature{cmd: "boom", reply: func(context.Context, modules.Request) (modules.Reply, error) { panic("kaboom") }}
	r, m := newRouter(t, &guard{}, nil, info("core.boom", "", 0, boom))
	got := r.Handle(context.Background(), press(1, "1|boom"))
	if got.Toast != failedToast || got.Text != "" {
		t.Errorf("reply %+v", got)
	}
	if n := testutil.ToFloat64(m.Commands.WithLabelValues("boom", OutcomePanic)); n != 1 {
		t.Errorf("panics counted under the command: %v", n)
	}
}

type inliner struct {
	feature
	err error
}

func (i *inliner) Inline(_ context.Context, req modules.Request) (*modules.InlineAnswer, error) {
	return &modules.InlineAnswer{Results: []modules.InlineResult{{ID: "1", Title: req.Inline.Query, Text: "x"}}}, i.err
}

func TestInline(t *testing.T) {
	in := &inliner{feature: feature{cmd: "quote", reply: text("q")}}
	r, _ := newRouter(t, &guard{}, nil, info("core.quote", "", 0, in))
	req := modules.Request{ChatID: 5, UserID: 5, Inline: &modules.InlineQuery{ID: "i", Query: "btc"}}
	got := r.Handle(context.Background(), req)
	if got.Inline == nil || got.Inline.Results[0].Title != "btc" || got.Text != "" {
		t.Errorf("reply %+v", got)
	}
	in.err = errors.New("broken")
	if got := r.Handle(context.Background(), req); got.Inline != nil || got.Text != "" {
		t.Errorf("a failed inline query answers no results, got %+v", got)
	}
	none, _ := newRouter(t, &guard{}, nil)
	if got := none.Handle(context.Background(), req); got.Inline != nil || got.Text != "" {
		t.Errorf("no inliner: %+v", got)
	}
}

func TestMembership(t *testing.T) {
	type seen struct {
		chat   int64
		status string
	}
	var got []seen
	r := New(Options{Gate: flagsOn{}, Guard: &guard{}, Metrics: metrics.New("test", "none"), Log: slog.New(slog.DiscardHandler),
		OnMembership: func(_ context.Context, chat int64, status string) { got = append(got, seen{chat, status}) }})
	member := func(chat int64, typ, old, new string) modules.Request {
		return modules.Request{ChatID: chat, ChatType: typ, Member: &modules.MemberChange{Old: old, New: new}}
	}
	for _, tc := range []struct {
		name  string
		req   modules.Request
		hello bool
	}{
		{"added to a group", member(-1, "group", "left", "member"), true},
		{"added as admin", member(-2, "supergroup", "kicked", "administrator"), true},
		{"promoted", member(-2, "supergroup", "member", "administrator"), false},
		{"kicked", member(-1, "group", "member", "kicked"), false},
		{"left", member(-2, "supergroup", "administrator", "left"), false},
		{"blocked in private", member(5, "private", "member", "kicked"), false},
		{"unblocked in private", member(5, "private", "kicked", "member"), false},
		{"channel", member(-3, "channel", "left", "administrator"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got = nil
			rep := r.Handle(context.Background(), tc.req)
			if hello := strings.Contains(rep.Text, "/help"); hello != tc.hello || !tc.hello && rep.Text != "" {
				t.Errorf("reply %q, want hello %v", rep.Text, tc.hello)
			}
			if len(got) != 1 || got[0] != (seen{tc.req.ChatID, tc.req.Member.New}) {
				t.Errorf("hook saw %v", got)
			}
		})
	}
}
