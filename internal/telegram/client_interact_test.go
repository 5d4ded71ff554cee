package telegram

import (
	"strings"
	"testing"

	"github.com/cryptobot-dev/cryptobot/internal/telegram/telegramtest"
)

var refreshRow = Keyboard{{{Text: "🔄 Refresh", CallbackData: "v1:r"}}}

func TestBotClientInteraction(t *testing.T) {
	f := newBCFixture(t, telegramtest.Options{})
	ctx := bcCtx(t)
	// A poll tells the fake our allowed_updates; it keeps presses and queries.
	if _, err := f.c.GetUpdates(ctx, 0, 0); err != nil {
		t.Fatal(err)
	}
	cmd := f.srv.SendTopic(-100, 7, 5, "/price")
	ups, err := f.c.GetUpdates(ctx, 0, 0)
	if err != nil || len(ups) != 1 || ups[0].UpdateID != cmd {
		t.Fatalf("updates %+v, %v", ups, err)
	}
	in := ups[0].Message
	if in.MessageThreadID != 5 || !in.IsTopicMessage {
		t.Fatalf("topic message %+v", in)
	}
	err = f.c.SendMessage(ctx, OutMessage{ChatID: -100, Text: "<b>BTC</b> 1", ParseMode: "HTML",
		Send: Send{ReplyTo: in.MessageID, ThreadID: 5, Keyboard: refreshRow}})
	if err != nil {
		t.Fatal(err)
	}
	png := bcPNG(t, 40, 20)
	if err := f.c.SendPhoto(ctx, OutPhoto{ChatID: -100, PNG: png, Caption: "1h", Send: Send{ReplyTo: in.MessageID, ThreadID: 5, Keyboard: refreshRow}}); err != nil {
		t.Fatal(err)
	}
	sent := f.srv.Sent()
	for _, s := range sent {
		if s.ReplyTo != in.MessageID || s.ThreadID != 5 || len(s.Buttons) != 1 || s.Buttons[0][0].CallbackData != "v1:r" {
			t.Errorf("%s sent as %+v", s.Method, s)
		}
	}
	text, photo := sent[0].MessageID, sent[1].MessageID

	if err := f.c.EditMessageText(ctx, EditText{ChatID: -100, MessageID: text, Text: "<b>BTC</b> 2", ParseMode: "HTML", Keyboard: refreshRow}); err != nil {
		t.Fatal(err)
	}
	err = f.c.EditMessageText(ctx, EditText{ChatID: -100, MessageID: text, Text: "<b>BTC</b> 2", ParseMode: "HTML", Keyboard: refreshRow})
	if e := asAPIError(t, err); e.Code != 400 || !strings.Contains(e.Description, "message is not modified") {
		t.Errorf("unchanged edit: %v", err)
	}
	if err := f.c.EditMessagePhoto(ctx, EditPhoto{ChatID: -100, MessageID: photo, PNG: bcPNG(t, 40, 21), Caption: "<b>4h</b>", ParseMode: "HTML"}); err != nil {
		t.Fatal(err)
	}
	if got := f.srv.Sent(); len(got) != 4 || got[3].Method != "editMessageMedia" || got[3].Text != "<b>4h</b>" || got[3].Buttons != nil {
		t.Errorf("photo edit recorded as %+v", got[len(got)-1])
	}

	q := f.srv.Press(-100, 7, text, "v1:r")
	if q == "" {
		t.Fatal("the fake dropped the press: allowed_updates lacks callback_query")
	}
	if err := f.c.AnswerCallbackQuery(ctx, CallbackAnswer{ID: q, Text: "Updated"}); err != nil {
		t.Fatal(err)
	}
	iq := f.srv.Inline(7, "btc", "private")
	err = f.c.AnswerInlineQuery(ctx, InlineAnswer{ID: iq, CacheTime: 5, Personal: true, ButtonText: "Open the bot", ButtonStart: "inline",
		Results: []InlineArticle{{ID: "BTC-USDT", Title: "BTC-USDT 1", Description: "+1%", Text: "<b>BTC</b>", ParseMode: "HTML"}}})
	if err != nil {
		t.Fatal(err)
	}
	answers, err := f.srv.WaitAnswers(ctx, 1)
	if err != nil || answers[0].QueryID != q || answers[0].Text != "Updated" {
		t.Errorf("callback answers %+v, %v", answers, err)
	}
	inl, err := f.srv.WaitInline(ctx, 1)
	if err != nil || inl[0].CacheTime != 5 || !inl[0].IsPersonal || inl[0].Results[0].Content.Text != "<b>BTC</b>" || inl[0].Button.StartParameter != "inline" {
		t.Errorf("inline answers %+v, %v", inl, err)
	}

	f.srv.SetMember(-100, 7, "creator")
	if st, err := f.c.ChatMember(ctx, -100, 7); err != nil || st != "creator" {
		t.Errorf("ChatMember = %q, %v", st, err)
	}
	ups, err = f.c.GetUpdates(ctx, cmd+1, 0)
	if err != nil || len(ups) != 2 || ups[0].CallbackQuery == nil || ups[0].CallbackQuery.Data != "v1:r" ||
		ups[0].CallbackQuery.Message.MessageID != text || ups[1].InlineQuery == nil || ups[1].InlineQuery.Query != "btc" {
		t.Errorf("updates %+v, %v", ups, err)
	}
}

func TestClientSendsSilently(t *testing.T) {
	f := newBCFixture(t, telegramtest.Options{})
	ctx := t.Context()
	for _, silent := range []bool{false, true} {
		if err := f.c.SendMessage(ctx, OutMessage{ChatID: 42, Text: "alert", Send: Send{Silent: silent}}); err != nil {
			t.Fatal(err)
		}
	}
	sent := f.srv.Sent()
	if len(sent) != 2 || sent[0].Silent || !sent[1].Silent {
		t.Errorf("disable_notification as the fake saw it: %+v", sent)
	}
}
