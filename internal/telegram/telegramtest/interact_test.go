package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// mustOK returns a check that fails unless a call succeeded, and returns its result.
func mustOK(t *testing.T) func(status int, r reply) json.RawMessage {
	return func(status int, r reply) json.RawMessage {
		t.Helper()
		if status != 200 || !r.OK {
			t.Fatalf("status %d: %s", status, r.Description)
		}
		return r.Result
	}
}

// wantBad fails unless the call was refused with 400 and a description
// containing want.
func wantBad(t *testing.T, status int, r reply, want string) {
	t.Helper()
	if status != 400 || r.OK || !strings.Contains(r.Description, want) {
		t.Errorf("status %d %q, want 400 containing %q", status, r.Description, want)
	}
}

// updatesNow drains the getUpdates queue.
func updatesNow(t *testing.T, s *Server, allowed ...string) []Update {
	t.Helper()
	params := map[string]any{"timeout": 0}
	if allowed != nil {
		params["allowed_updates"] = allowed
	}
	var us []Update
	if err := json.Unmarshal(mustOK(t)(callJSON(testCtx(t), t, s, "getUpdates", params)), &us); err != nil {
		t.Fatal(err)
	}
	if len(us) > 0 {
		callJSON(testCtx(t), t, s, "getUpdates", map[string]any{"offset": us[len(us)-1].UpdateID + 1})
	}
	return us
}

func sendText(t *testing.T, s *Server, params map[string]any) Message {
	t.Helper()
	var m Message
	if err := json.Unmarshal(mustOK(t)(callJSON(testCtx(t), t, s, "sendMessage", params)), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

var refresh = map[string]any{"inline_keyboard": [][]map[string]string{{{"text": "🔄 Refresh", "callback_data": "v1:p:BTC"}}}}

func TestRepliesTopicsAndKeyboards(t *testing.T) {
	s := newServer(t, Options{})
	ctx := testCtx(t)
	s.SendTopic(-100, 7, 5, "/price")
	s.SendTopic(-100, 7, 0, "/price in General")
	us := updatesNow(t, s)
	if len(us) != 2 || us[0].Message.MessageThreadID != 5 || !us[0].Message.IsTopicMessage || !us[0].Message.Chat.IsForum ||
		us[1].Message.MessageThreadID != 0 || us[1].Message.IsTopicMessage {
		t.Fatalf("topic updates %+v", us)
	}
	cmd := us[0].Message.MessageID
	m := sendText(t, s, map[string]any{"chat_id": -100, "text": "BTC", "message_thread_id": 5,
		"reply_parameters": map[string]any{"message_id": cmd}, "reply_markup": refresh})
	if m.MessageThreadID != 5 || !m.IsTopicMessage || m.ReplyMarkup == nil {
		t.Errorf("sent message %+v", m)
	}
	got := s.Sent()[0]
	if got.ReplyTo != cmd || got.ThreadID != 5 || len(got.Buttons) != 1 || got.Buttons[0][0].CallbackData != "v1:p:BTC" {
		t.Errorf("recorded %+v", got)
	}
	sendText(t, s, map[string]any{"chat_id": -100, "text": "x", "reply_parameters": map[string]any{"message_id": 999, "allow_sending_without_reply": true}})
	if got := s.Sent()[1]; got.ReplyTo != 0 {
		t.Errorf("reply to a missing message recorded as %d", got.ReplyTo)
	}

	long := strings.Repeat("x", 65)
	for _, tc := range []struct {
		params map[string]any
		want   string
	}{
		{map[string]any{"message_thread_id": 1}, "message thread not found"},
		{map[string]any{"message_thread_id": 9}, "message thread not found"},
		{map[string]any{"reply_parameters": map[string]any{"message_id": 999}}, "message to be replied not found"},
		{map[string]any{"reply_markup": map[string]any{"inline_keyboard": [][]map[string]string{{{"text": "a", "callback_data": long}}}}}, "BUTTON_DATA_INVALID"},
		{map[string]any{"reply_markup": map[string]any{"inline_keyboard": [][]map[string]string{{{"text": "a", "callback_data": "x", "url": "https://t.me"}}}}}, "exactly one"},
		{map[string]any{"reply_markup": map[string]any{"inline_keyboard": [][]map[string]string{{{"text": "", "callback_data": "x"}}}}}, "text buttons"},
	} {
		tc.params["chat_id"], tc.params["text"] = -100, "BTC"
		status, r := callJSON(ctx, t, s, "sendMessage", tc.params)
		wantBad(t, status, r, tc.want)
	}
}

func TestEditMessageText(t *testing.T) {
	s := newServer(t, Options{})
	ctx := testCtx(t)
	s.SendText(42, 7, "", "/price")
	user := updatesNow(t, s)[0].Message.MessageID
	m := sendText(t, s, map[string]any{"chat_id": 42, "text": "BTC 1", "reply_markup": refresh})
	edit := func(id int64, text string) (int, reply) {
		return callJSON(ctx, t, s, "editMessageText", map[string]any{"chat_id": 42, "message_id": id, "text": text,
			"parse_mode": "HTML", "reply_markup": refresh})
	}
	mustOK(t)(edit(m.MessageID, "BTC <b>2</b>"))
	if got := s.Sent()[1]; got.Method != "editMessageText" || got.MessageID != m.MessageID || got.Text != "BTC <b>2</b>" || len(got.Buttons) != 1 {
		t.Errorf("edit recorded as %+v", got)
	}
	status, r := edit(m.MessageID, "BTC <b>2</b>")
	wantBad(t, status, r, "message is not modified")
	status, r = edit(user, "hijack")
	wantBad(t, status, r, "message can't be edited")
	status, r = edit(m.MessageID, "BTC <b>3")
	wantBad(t, status, r, "can't parse entities")

	s.Freeze(42, m.MessageID)
	status, r = edit(m.MessageID, "BTC 3")
	wantBad(t, status, r, "message can't be edited")
	m2 := sendText(t, s, map[string]any{"chat_id": 42, "text": "ETH"})
	s.Delete(42, m2.MessageID)
	status, r = edit(m2.MessageID, "ETH 2")
	wantBad(t, status, r, "message to edit not found")
	status, r = edit(12345, "nope")
	wantBad(t, status, r, "message to edit not found")
}

// mediaBody is an editMessageMedia request attaching photo as name.
func mediaBody(t *testing.T, s *Server, id int64, name, caption string, photo []byte) (int, reply) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	media, _ := json.Marshal(map[string]string{"type": "photo", "media": "attach://chart", "caption": caption, "parse_mode": "HTML"})
	_ = w.WriteField("chat_id", "42")
	_ = w.WriteField("message_id", strconvI(id))
	_ = w.WriteField("media", string(media))
	fw, _ := w.CreateFormFile(name, "chart.png")
	_, _ = fw.Write(photo)
	_ = w.Close()
	return post(testCtx(t), t, s, "/bot"+s.Token()+"/editMessageMedia", w.FormDataContentType(), &buf)
}

func strconvI(n int64) string { return strconv.FormatInt(n, 10) }

func TestEditMessageMedia(t *testing.T) {
	s := newServer(t, Options{})
	ctx := testCtx(t)
	ct, body := multipartBody(t, map[string]string{"chat_id": "42", "caption": "1h"}, pngBytes(t))
	var photo Message
	if err := json.Unmarshal(mustOK(t)(post(ctx, t, s, "/bot"+s.Token()+"/sendPhoto", ct, body)), &photo); err != nil {
		t.Fatal(err)
	}
	mustOK(t)(mediaBody(t, s, photo.MessageID, "chart", "<b>4h</b>", pngBytes(t)))
	if got := s.Sent()[1]; got.Method != "editMessageMedia" || got.MessageID != photo.MessageID || got.Text != "<b>4h</b>" || got.PhotoSize == 0 {
		t.Errorf("edit recorded as %+v", got)
	}
	status, r := mediaBody(t, s, photo.MessageID, "chart", "<b>4h</b>", pngBytes(t))
	wantBad(t, status, r, "message is not modified")
	status, r = mediaBody(t, s, photo.MessageID, "other", "1d", pngBytes(t))
	wantBad(t, status, r, `can't find attached file "chart"`)
	text := sendText(t, s, map[string]any{"chat_id": 42, "text": "BTC"})
	status, r = mediaBody(t, s, text.MessageID, "chart", "1d", pngBytes(t))
	wantBad(t, status, r, "there is no media in the message to edit")
	status, r = callJSON(ctx, t, s, "editMessageText", map[string]any{"chat_id": 42, "message_id": photo.MessageID, "text": "x"})
	wantBad(t, status, r, "there is no text in the message to edit")
}

func TestCallbackQueries(t *testing.T) {
	s := newServer(t, Options{})
	ctx := testCtx(t)
	m := sendText(t, s, map[string]any{"chat_id": 42, "text": "BTC 1", "reply_markup": refresh})
	id := s.Press(42, 7, m.MessageID, "v1:p:BTC")
	gone := sendText(t, s, map[string]any{"chat_id": 42, "text": "old"})
	s.Delete(42, gone.MessageID)
	idGone := s.Press(42, 7, gone.MessageID, "v1:p:ETH")
	us := updatesNow(t, s)
	if len(us) != 2 {
		t.Fatalf("%d updates, want 2", len(us))
	}
	cq := us[0].CallbackQuery
	if cq == nil || cq.ID != id || cq.Data != "v1:p:BTC" || cq.From.ID != 7 || cq.ChatInstance == "" ||
		cq.Message == nil || cq.Message.MessageID != m.MessageID || cq.Message.Date == 0 || cq.Message.ReplyMarkup == nil {
		t.Fatalf("callback query %+v", cq)
	}
	if g := us[1].CallbackQuery; g == nil || g.Message.Date != 0 || g.Message.MessageID != gone.MessageID {
		t.Errorf("press on a deleted message %+v, want an InaccessibleMessage", g)
	}
	status, r := callJSON(ctx, t, s, "answerCallbackQuery", map[string]any{"callback_query_id": id, "text": strings.Repeat("x", 201)})
	wantBad(t, status, r, "MESSAGE_TOO_LONG")
	mustOK(t)(callJSON(ctx, t, s, "answerCallbackQuery", map[string]any{"callback_query_id": id, "text": "Updated"}))
	status, r = callJSON(ctx, t, s, "answerCallbackQuery", map[string]any{"callback_query_id": id})
	wantBad(t, status, r, "query is too old")
	status, r = callJSON(ctx, t, s, "answerCallbackQuery", map[string]any{"callback_query_id": "123"})
	wantBad(t, status, r, "query ID is invalid")
	mustOK(t)(callJSON(ctx, t, s, "answerCallbackQuery", map[string]any{"callback_query_id": idGone}))
	got, err := s.WaitAnswers(ctx, 2)
	if err != nil || got[0].QueryID != id || got[0].Text != "Updated" || got[1].QueryID != idGone {
		t.Errorf("answers %+v, %v", got, err)
	}
}

func article(id, title, text string) map[string]any {
	return map[string]any{"type": "article", "id": id, "title": title,
		"input_message_content": map[string]string{"message_text": text, "parse_mode": "HTML"}}
}

func TestInlineQueries(t *testing.T) {
	s := newServer(t, Options{})
	ctx := testCtx(t)
	id := s.Inline(7, "btc", "private")
	us := updatesNow(t, s)
	if len(us) != 1 || us[0].InlineQuery == nil || us[0].InlineQuery.Query != "btc" || us[0].InlineQuery.ID != id {
		t.Fatalf("updates %+v", us)
	}
	many := make([]map[string]any, 51)
	for i := range many {
		many[i] = article(strconvI(int64(i)), "t", "x")
	}
	for _, tc := range []struct {
		params map[string]any
		want   string
	}{
		{map[string]any{"results": many}, "Too many inline query results"},
		{map[string]any{"results": []any{article("a", "t", "x"), article("a", "t", "y")}}, "RESULT_ID_DUPLICATE"},
		{map[string]any{"results": []any{article(strings.Repeat("i", 65), "t", "x")}}, "RESULT_ID_INVALID"},
		{map[string]any{"results": []any{article("a", "t", "<b>x")}}, "can't parse entities"},
		{map[string]any{"results": []any{article("a", "t", " ")}}, "MESSAGE_EMPTY"},
		{map[string]any{"results": []any{}, "button": map[string]string{"text": "Open", "start_parameter": "a b"}}, "START_PARAM_INVALID"},
	} {
		tc.params["inline_query_id"] = id
		status, r := callJSON(ctx, t, s, "answerInlineQuery", tc.params)
		wantBad(t, status, r, tc.want)
	}
	mustOK(t)(callJSON(ctx, t, s, "answerInlineQuery", map[string]any{"inline_query_id": id, "cache_time": 5, "is_personal": true,
		"results": []any{article("BTC-USDT", "BTC-USDT 1", "<b>BTC</b>")}, "button": map[string]string{"text": "Open", "start_parameter": "inline"}}))
	status, r := callJSON(ctx, t, s, "answerInlineQuery", map[string]any{"inline_query_id": id, "results": []any{}})
	wantBad(t, status, r, "query is too old")
	got, err := s.WaitInline(ctx, 1)
	if err != nil || got[0].CacheTime != 5 || !got[0].IsPersonal || len(got[0].Results) != 1 ||
		got[0].Results[0].Content.Text != "<b>BTC</b>" || got[0].Button.StartParameter != "inline" {
		t.Errorf("inline answers %+v, %v", got, err)
	}
}

func TestAllowedUpdates(t *testing.T) {
	s := newServer(t, Options{})
	if id := s.Press(42, 7, 1, "x"); id == "" {
		t.Fatal("a callback query was dropped with the default allowed_updates")
	}
	updatesNow(t, s, "message")
	if id := s.Press(42, 7, 1, "x"); id != "" {
		t.Error("a callback query was created although only messages are allowed")
	}
	if s.Inline(7, "btc", "") != "" || s.MemberChange(-5, "group", 7, "left", "member") != 0 {
		t.Error("inline query or my_chat_member created although only messages are allowed")
	}
	if s.SendText(42, 7, "", "/price") == 0 {
		t.Error("a message was dropped")
	}
	updatesNow(t, s, "message", "callback_query", "inline_query", "my_chat_member")
	if s.MemberChange(-5, "group", 7, "left", "member") == 0 {
		t.Error("my_chat_member dropped although allowed")
	}
	if us := updatesNow(t, s); len(us) != 1 || us[0].MyChatMember == nil || us[0].MyChatMember.New.Status != "member" ||
		!us[0].MyChatMember.New.User.IsBot {
		t.Errorf("member update %+v", us)
	}
}

func TestGetChatMember(t *testing.T) {
	s := newServer(t, Options{})
	ctx := testCtx(t)
	s.SendText(-5, 7, "group", "/settings")
	s.SetMember(-5, 7, "administrator")
	status := func(chat, user int64) string {
		var m ChatMember
		if err := json.Unmarshal(mustOK(t)(callJSON(ctx, t, s, "getChatMember", map[string]any{"chat_id": chat, "user_id": user})), &m); err != nil {
			t.Fatal(err)
		}
		return m.Status
	}
	if got := status(-5, 7); got != "administrator" {
		t.Errorf("admin status %q", got)
	}
	if got := status(-5, 8); got != "left" {
		t.Errorf("stranger status %q, want left", got)
	}
	if got := status(42, 42); got != "member" {
		t.Errorf("private chat status %q, want member", got)
	}
	st, r := callJSON(ctx, t, s, "getChatMember", map[string]any{"chat_id": -99, "user_id": 7})
	wantBad(t, st, r, "chat not found")
	st, r = callJSON(ctx, t, s, "getChatMember", map[string]any{"chat_id": -5, "user_id": 0})
	wantBad(t, st, r, "invalid user_id")
}

func TestControlHTTPInteraction(t *testing.T) {
	s := newServer(t, Options{})
	ctx := testCtx(t)
	do := func(path, body string, out any) {
		t.Helper()
		status, err := controlCall(ctx, s, path, body, out)
		if err != nil || status != 200 {
			t.Fatalf("%s: %d %v", path, status, err)
		}
	}
	var q struct {
		QueryID string `json:"query_id"`
	}
	do("/control/press", `{"chat_id":42,"user_id":7,"message_id":1,"data":"v1:r"}`, &q)
	mustOK(t)(callJSON(ctx, t, s, "answerCallbackQuery", map[string]any{"callback_query_id": q.QueryID, "text": "Updated"}))
	do("/control/inline", `{"user_id":7,"query":"btc","chat_type":"sender"}`, &q)
	mustOK(t)(callJSON(ctx, t, s, "answerInlineQuery", map[string]any{"inline_query_id": q.QueryID, "results": []any{}}))
	do("/control/member", `{"chat_id":-5,"user_id":7,"status":"creator"}`, nil)
	var m ChatMember
	if err := json.Unmarshal(mustOK(t)(callJSON(ctx, t, s, "getChatMember", map[string]any{"chat_id": -5, "user_id": 7})), &m); err != nil || m.Status != "creator" {
		t.Errorf("member %+v, %v", m, err)
	}
	var answers struct {
		Callbacks []CallbackAnswer `json:"callbacks"`
		Inline    []InlineAnswer   `json:"inline"`
	}
	status, err := controlCall(ctx, s, "GET /control/answers", "", &answers)
	if err != nil || status != 200 || len(answers.Callbacks) != 1 || answers.Callbacks[0].Text != "Updated" || len(answers.Inline) != 1 {
		t.Errorf("answers %d %+v %v", status, answers, err)
	}
}

// controlCall POSTs body to path ("GET path" for a GET) and decodes the answer into out.
func controlCall(ctx context.Context, s *Server, path, body string, out any) (int, error) {
	method := http.MethodPost
	if p, ok := strings.CutPrefix(path, "GET "); ok {
		method, path = http.MethodGet, p
	}
	req, err := http.NewRequestWithContext(ctx, method, s.URL()+path, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if out == nil {
		return resp.StatusCode, nil
	}
	return resp.StatusCode, json.NewDecoder(resp.Body).Decode(out)
}
