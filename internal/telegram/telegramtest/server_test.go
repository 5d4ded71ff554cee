package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

type reply struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  struct {
		RetryAfter      int   `json:"retry_after"`
		MigrateToChatID int64 `json:"migrate_to_chat_id"`
	} `json:"parameters"`
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newServer(t *testing.T, opts Options) *Server {
	t.Helper()
	s := New(opts)
	t.Cleanup(s.Close)
	return s
}

// send posts body with contentType to path and decodes the envelope.
func send(ctx context.Context, s *Server, path, contentType string, body io.Reader) (int, reply, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+path, body)
	if err != nil {
		return 0, reply{}, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, reply{}, err
	}
	defer resp.Body.Close()
	var r reply
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return 0, reply{}, fmt.Errorf("decode %s: %w", path, err)
	}
	return resp.StatusCode, r, nil
}

func post(ctx context.Context, t *testing.T, s *Server, path, contentType string, body io.Reader) (int, reply) {
	t.Helper()
	status, r, err := send(ctx, s, path, contentType, body)
	if err != nil {
		t.Fatal(err)
	}
	return status, r
}

// waitPolling waits until s holds a pending getUpdates.
func waitPolling(ctx context.Context, t *testing.T, s *Server) {
	t.Helper()
	for !s.Polling() {
		select {
		case <-ctx.Done():
			t.Fatal("no getUpdates reached the server")
		case <-time.After(time.Millisecond):
		}
	}
}

func callJSON(ctx context.Context, t *testing.T, s *Server, method string, params any) (int, reply) {
	t.Helper()
	b, err := json.Marshal(params)
	if err != nil {
		t.Fatal(err)
	}
	return post(ctx, t, s, "/bot"+s.Token()+"/"+method, "application/json", bytes.NewReader(b))
}

func multipartBody(t *testing.T, fields map[string]string, file []byte) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if file != nil {
		fw, err := w.CreateFormFile("photo", "chart.png")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(file)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.FormDataContentType(), &buf
}

func pngBytes(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 8, 4))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestParseHTML(t *testing.T) {
	tests := []struct {
		name, in, visible, problem string
	}{
		{"plain", "BTC 97,000.5 -1.2%", "BTC 97,000.5 -1.2%", ""},
		{"nested tags", "<b>BTC <i>up</i></b>", "BTC up", ""},
		{"upper-case tag", "<B>x</B>", "x", ""},
		{"link with quoted >", `<a href="https://x.org/?q=a>b">x</a>`, "x", ""},
		{"pre code", `<pre><code class="language-go">a</code></pre>`, "a", ""},
		{"spoiler span", `<span class="tg-spoiler">s</span>`, "s", ""},
		{"entities", "&lt;&gt;&amp;&quot;&#65;&#x42;", `<>&"AB`, ""},
		{"bare greater-than", "a > b", "a > b", ""},
		{"unknown tag", "x<br>", "", `Unsupported start tag "br" at byte offset 1`},
		{"bare less-than", "a < b", "", "Unclosed start tag at byte offset 2"},
		{"less-than before a tag", "1 < 2 <b>x</b>", "", `Unsupported start tag "" at byte offset 2`},
		{"unclosed", "<b>x", "", `Can't find end tag corresponding to start tag "b"`},
		{"crossed", "<b><i>x</b></i>", "", `Unmatched end tag at byte offset 7, expected "</i>", found "</b>"`},
		{"stray end", "x</b>", "", "Unexpected end tag at byte offset 1"},
		{"bare ampersand", "R&D", "", "Unsupported entity at byte offset 1: escape '&' as &amp;"},
		{"unknown entity", "&nbsp;", "", "Unsupported entity at byte offset 0: escape '&' as &amp;"},
		{"bad number", "&#xZZ;", "", "Unsupported entity at byte offset 0: escape '&' as &amp;"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			visible, problem := parseHTML(tc.in)
			if visible != tc.visible || problem != tc.problem {
				t.Errorf("parseHTML(%q) = %q, %q; want %q, %q", tc.in, visible, problem, tc.visible, tc.problem)
			}
		})
	}
}

func TestBodyEncodings(t *testing.T) {
	s := newServer(t, Options{})
	ctx := testCtx(t)
	form := url.Values{"chat_id": {"11"}, "text": {"form"}}
	ct, mp := multipartBody(t, map[string]string{"chat_id": "12", "text": "multipart", "parse_mode": "HTML",
		"link_preview_options": `{"is_disabled":true}`}, nil)
	tests := []struct {
		name        string
		path        string
		contentType string
		body        io.Reader
		want        SentMessage
	}{
		{"json", "/bot" + s.Token() + "/sendMessage", "application/json", strings.NewReader(`{"chat_id":10,"text":"json","link_preview_options":{"is_disabled":true}}`),
			SentMessage{ChatID: 10, Text: "json", LinkPreviewDisabled: true}},
		{"urlencoded", "/bot" + s.Token() + "/sendMessage", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()),
			SentMessage{ChatID: 11, Text: "form"}},
		{"multipart", "/bot" + s.Token() + "/SENDMESSAGE", ct, mp,
			SentMessage{ChatID: 12, Text: "multipart", ParseMode: "HTML", LinkPreviewDisabled: true}},
		{"query string", "/bot" + s.Token() + "/sendMessage?chat_id=13&text=query&disable_web_page_preview=true", "", nil,
			SentMessage{ChatID: 13, Text: "query", LinkPreviewDisabled: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, r := post(ctx, t, s, tc.path, tc.contentType, tc.body)
			if status != 200 || !r.OK {
				t.Fatalf("status %d %+v", status, r)
			}
			var msg Message
			if err := json.Unmarshal(r.Result, &msg); err != nil || msg.Chat.ID != tc.want.ChatID || msg.Text != tc.want.Text || msg.From == nil || !msg.From.IsBot {
				t.Errorf("result %s (%v)", r.Result, err)
			}
			sent := s.Sent()
			got := sent[len(sent)-1]
			tc.want.Method, tc.want.MessageID, got.Time = "sendMessage", msg.MessageID, time.Time{}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("sent %+v, want %+v", got, tc.want)
			}
		})
	}
	if n := s.Calls("sendmessage"); n != len(tests) {
		t.Errorf("Calls = %d, want %d", n, len(tests))
	}
}

func TestErrorEnvelopes(t *testing.T) {
	s := newServer(t, Options{})
	ctx := testCtx(t)
	ct, photo := multipartBody(t, map[string]string{"chat_id": "1", "caption": "<b>x", "parse_mode": "HTML"}, pngBytes(t))
	ctNoFile, noFile := multipartBody(t, map[string]string{"chat_id": "1"}, nil)
	tests := []struct {
		name        string
		path        string
		contentType string
		body        string
		code        int
		desc        string
	}{
		{"wrong token", "/bot1:wrong/getMe", "", "", 401, "Unauthorized"},
		{"not a bot path", "/favicon.ico", "", "", 404, "Not Found"},
		{"unknown method", "/bot" + s.Token() + "/sendDice", "", "", 404, "Not Found: method not found"},
		{"bad json", "/bot" + s.Token() + "/sendMessage", "application/json", "{", 400, "Bad Request: can't parse request: unexpected EOF"},
		{"chat id missing", "/bot" + s.Token() + "/sendMessage", "application/json", `{"text":"x"}`, 400, "Bad Request: chat_id is empty"},
		{"channel username", "/bot" + s.Token() + "/sendMessage", "application/json", `{"chat_id":"@chan","text":"x"}`, 400, "Bad Request: chat not found"},
		{"parse mode", "/bot" + s.Token() + "/sendMessage", "application/json", `{"chat_id":1,"text":"x","parse_mode":"html5"}`, 400, "Bad Request: unsupported parse_mode"},
		{"caption html", "/bot" + s.Token() + "/sendPhoto", ct, photo.String(), 400, `Bad Request: can't parse entities: Can't find end tag corresponding to start tag "b"`},
		{"photo missing", "/bot" + s.Token() + "/sendPhoto", ctNoFile, noFile.String(), 400, "Bad Request: there is no photo in the request"},
		{"photo by id", "/bot" + s.Token() + "/sendPhoto", "application/json", `{"chat_id":1,"photo":"AgACAgI"}`, 400, "Bad Request: wrong file identifier/HTTP URL specified"},
		{"chat action", "/bot" + s.Token() + "/sendChatAction", "application/json", `{"chat_id":1,"action":"dancing"}`, 400, "Bad Request: wrong parameter action in request"},
		{"bad offset", "/bot" + s.Token() + "/getUpdates", "application/json", `{"offset":"x"}`, 400, "Bad Request: invalid offset specified"},
		{"webhook url", "/bot" + s.Token() + "/setWebhook", "application/json", `{"url":"ftp://x"}`, 400, "Bad Request: bad webhook: invalid webhook URL specified"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, r := post(ctx, t, s, tc.path, tc.contentType, strings.NewReader(tc.body))
			if status != tc.code || r.OK || r.ErrorCode != tc.code || r.Description != tc.desc {
				t.Errorf("got %d %+v, want %d %q", status, r, tc.code, tc.desc)
			}
		})
	}
	if len(s.Sent()) != 0 {
		t.Errorf("failed calls recorded as sent: %+v", s.Sent())
	}
	if status, r := callJSON(ctx, t, s, "sendChatAction", map[string]any{"chat_id": 1, "action": "typing"}); status != 200 || !r.OK {
		t.Errorf("sendChatAction typing: %d %+v", status, r)
	}
}

func TestRefuse(t *testing.T) {
	s := newServer(t, Options{})
	ctx := testCtx(t)
	s.Refuse(10, Blocked)
	s.Refuse(11, ChatNotFound)
	s.Refuse(-12, Migrated(-10012))
	tests := []struct {
		chat    int64
		code    int
		desc    string
		migrate int64
	}{
		{10, 403, "Forbidden: bot was blocked by the user", 0},
		{11, 400, "Bad Request: chat not found", 0},
		{-12, 400, "Bad Request: group chat was upgraded to a supergroup chat", -10012},
		{13, 200, "", 0},
	}
	for _, tc := range tests {
		code, r := callJSON(ctx, t, s, "sendMessage", map[string]any{"chat_id": tc.chat, "text": "hi"})
		if code != tc.code || r.Description != tc.desc || r.Parameters.MigrateToChatID != tc.migrate || r.OK != (tc.code == 200) {
			t.Errorf("chat %d: %d %+v, want %d %q migrate %d", tc.chat, code, r, tc.code, tc.desc, tc.migrate)
		}
	}
	s.Accept(10)
	if code, _ := callJSON(ctx, t, s, "sendMessage", map[string]any{"chat_id": 10, "text": "hi"}); code != 200 {
		t.Errorf("after Accept: %d, want 200", code)
	}
	if n := len(s.Sent()); n != 2 {
		t.Errorf("%d messages recorded, want 2 (refused sends are not delivered)", n)
	}
}

func TestFailNext(t *testing.T) {
	s := newServer(t, Options{})
	ctx := testCtx(t)
	s.FailNext("sendMessage", 429, 2, 1500*time.Millisecond)
	s.FailNext("sendMessage", 502, 1, 0)
	msg := map[string]any{"chat_id": 1, "text": "hi"}
	for i, want := range []reply{
		{ErrorCode: 429, Description: "Too Many Requests: retry after 2"},
		{ErrorCode: 429, Description: "Too Many Requests: retry after 2"},
		{ErrorCode: 502, Description: "Bad Gateway"},
		{OK: true},
	} {
		status, r := callJSON(ctx, t, s, "sendMessage", msg)
		if r.OK != want.OK || r.ErrorCode != want.ErrorCode || r.Description != want.Description {
			t.Errorf("call %d: %d %+v, want %+v", i, status, r, want)
		}
		if want.ErrorCode == 429 && r.Parameters.RetryAfter != 2 {
			t.Errorf("call %d: retry_after %d, want 2", i, r.Parameters.RetryAfter)
		}
	}
	if n := s.Calls("sendMessage"); n != 4 {
		t.Errorf("Calls = %d, want 4", n)
	}
	if len(s.Sent()) != 1 {
		t.Errorf("sent %d, want 1", len(s.Sent()))
	}
}

func TestGetUpdatesQueue(t *testing.T) {
	s := newServer(t, Options{})
	ctx := testCtx(t)
	for i := range 5 {
		s.SendText(1, 2, "", fmt.Sprint("msg ", i))
	}
	ids := func(params map[string]any) []int64 {
		t.Helper()
		status, r := callJSON(ctx, t, s, "getUpdates", params)
		if status != 200 {
			t.Fatalf("getUpdates %v: %d %+v", params, status, r)
		}
		var ups []Update
		if err := json.Unmarshal(r.Result, &ups); err != nil {
			t.Fatal(err)
		}
		out := []int64{}
		for _, u := range ups {
			out = append(out, u.UpdateID)
		}
		return out
	}
	steps := []struct {
		name   string
		params map[string]any
		want   []int64
	}{
		{"limit", map[string]any{"limit": 2}, []int64{1, 2}},
		{"limit clamped up", map[string]any{"limit": 0, "offset": 5}, []int64{5}},
		{"unconfirmed stays", map[string]any{}, []int64{5}},
		{"confirmed", map[string]any{"offset": 6}, []int64{}},
	}
	for _, st := range steps {
		if got := ids(st.params); !slices.Equal(got, st.want) {
			t.Errorf("%s: ids %v, want %v", st.name, got, st.want)
		}
	}
	for range 3 {
		s.SendText(1, 2, "", "more")
	}
	if got := ids(map[string]any{"offset": -2}); !slices.Equal(got, []int64{7, 8}) {
		t.Errorf("negative offset: %v, want [7 8]", got)
	}
	if got := ids(map[string]any{}); !slices.Equal(got, []int64{7, 8}) {
		t.Errorf("negative offset forgets earlier updates: %v, want [7 8]", got)
	}
}

func TestSetWebhookEndsPollAndTakesQueue(t *testing.T) {
	hits := make(chan Update, 4)
	receiver := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		var u Update
		json.NewDecoder(r.Body).Decode(&u)
		hits <- u
	}))
	t.Cleanup(receiver.Close)
	s := newServer(t, Options{})
	ctx := testCtx(t)
	polled := make(chan reply, 1)
	go func() {
		_, r, err := send(ctx, s, "/bot"+s.Token()+"/getUpdates?timeout=30", "", nil)
		if err != nil {
			t.Error(err)
		}
		polled <- r
	}()
	waitPolling(ctx, t, s)
	if _, r := callJSON(ctx, t, s, "setWebhook", map[string]any{"url": receiver.URL}); !r.OK {
		t.Fatalf("setWebhook: %+v", r)
	}
	if r := <-polled; r.ErrorCode != 409 || r.Description != conflictWebhook {
		t.Errorf("pending poll: %+v, want 409 webhook conflict", r)
	}
	id := s.SendText(3, 3, "", "/price")
	if u := <-hits; u.UpdateID != id {
		t.Errorf("pushed %d, want %d", u.UpdateID, id)
	}
}

func TestWebhookRetries(t *testing.T) {
	var mu sync.Mutex
	var waits []time.Duration
	answers := map[int64][]int{} // update_id → statuses still to answer before 200
	var order []int64
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var u Update
		json.NewDecoder(r.Body).Decode(&u)
		if r.Header.Get("X-Telegram-Bot-Api-Secret-Token") != "sec" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if q := answers[u.UpdateID]; len(q) > 0 {
			answers[u.UpdateID] = q[1:]
			if q[0] == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", "30")
			}
			w.WriteHeader(q[0])
			return
		}
		order = append(order, u.UpdateID)
	}))
	t.Cleanup(receiver.Close)

	opts := Options{RetryBackoff: 10 * time.Millisecond, MaxRetryAfter: time.Second, MaxAttempts: 3}
	opts.sleep = func(_ context.Context, d time.Duration) bool {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
		return true
	}
	s := newServer(t, opts)
	ctx := testCtx(t)
	if _, r := callJSON(ctx, t, s, "setWebhook", map[string]any{"url": receiver.URL, "secret_token": "sec"}); !r.OK {
		t.Fatalf("setWebhook: %+v", r)
	}
	mu.Lock()
	answers[1] = []int{429, 500}      // chat 1: delivered on the third attempt
	answers[2] = []int{500, 500, 500} // chat 1: dropped after MaxAttempts
	mu.Unlock()
	s.SendText(1, 1, "", "first")
	s.SendText(1, 1, "", "second")
	s.SendText(1, 1, "", "third")

	deadline := time.After(10 * time.Second)
	for {
		mu.Lock()
		n := len(order)
		mu.Unlock()
		if n == 2 {
			break
		}
		select {
		case <-deadline:
			t.Fatalf("delivered %v", order)
		case <-time.After(time.Millisecond):
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(order, []int64{1, 3}) {
		t.Errorf("delivered %v, want [1 3] in order (2 dropped)", order)
	}
	// 429 Retry-After 30 capped to 1 s, then the doubling backoff.
	if want := []time.Duration{time.Second, 20 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond}; !slices.Equal(waits, want) {
		t.Errorf("waits %v, want %v", waits, want)
	}
	_, r := callJSON(ctx, t, s, "getWebhookInfo", nil)
	var info struct {
		URL              string `json:"url"`
		LastErrorMessage string `json:"last_error_message"`
	}
	json.Unmarshal(r.Result, &info)
	if info.URL != receiver.URL || info.LastErrorMessage != "Wrong response from the webhook: 500 Internal Server Error" {
		t.Errorf("webhook info %s", r.Result)
	}
}

func TestWebhookPerChatQueues(t *testing.T) {
	delivered := make(chan int64, 4)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var u Update
		if err := json.NewDecoder(r.Body).Decode(&u); err != nil || u.Message == nil {
			t.Errorf("pushed update %+v: %v", u, err)
			return
		}
		if u.Message.Chat.ID == 4 {
			w.WriteHeader(http.StatusInternalServerError) // chat 4 is stuck
			return
		}
		delivered <- u.UpdateID
	}))
	t.Cleanup(receiver.Close)
	parked := make(chan struct{}, 1)
	opts := Options{}
	opts.sleep = func(ctx context.Context, _ time.Duration) bool {
		parked <- struct{}{}
		<-ctx.Done() // hold the retry until Close
		return false
	}
	s := newServer(t, opts)
	ctx := testCtx(t)
	callJSON(ctx, t, s, "setWebhook", map[string]any{"url": receiver.URL})
	stuck := s.SendText(4, 4, "", "/price")
	<-parked
	stuckToo := s.SendText(4, 4, "", "/help")

	// Another chat is not held up by chat 4.
	other := s.SendText(5, 5, "", "/start")
	if got := <-delivered; got != other {
		t.Errorf("delivered %d, want %d", got, other)
	}

	// deleteWebhook hands chat 4's undelivered updates to getUpdates, in order.
	if _, r := callJSON(ctx, t, s, "deleteWebhook", nil); !r.OK {
		t.Fatalf("deleteWebhook: %+v", r)
	}
	_, r := callJSON(ctx, t, s, "getUpdates", nil)
	var ups []Update
	if err := json.Unmarshal(r.Result, &ups); err != nil || len(ups) != 2 || ups[0].UpdateID != stuck || ups[1].UpdateID != stuckToo {
		t.Errorf("getUpdates after deleteWebhook = %s, want updates %d and %d", r.Result, stuck, stuckToo)
	}
}

func TestControlHTTP(t *testing.T) {
	s := newServer(t, Options{})
	ctx := testCtx(t)
	do := func(method, path, body string, out any) int {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, method, s.URL()+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if out != nil {
			if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
		}
		return resp.StatusCode
	}
	var id struct {
		UpdateID int64 `json:"update_id"`
	}
	if code := do("POST", "/control/messages", `{"chat_id":5,"user_id":6,"chat_type":"group","text":"/price btc"}`, &id); code != 200 || id.UpdateID != 1 {
		t.Fatalf("messages: %d %+v", code, id)
	}
	if code := do("POST", "/control/updates", `{"message":{"chat":{"id":5,"type":"group"},"text":"hi"}}`, &id); code != 200 || id.UpdateID != 2 {
		t.Fatalf("updates: %d %+v", code, id)
	}
	if code := do("POST", "/control/fail", `{"method":"sendMessage","status":429,"count":1,"retry_after":3}`, nil); code != 200 {
		t.Fatalf("fail: %d", code)
	}
	for _, bad := range []string{`{"method":"sendMessage","status":200,"count":1}`, `{"nope":1}`, `{`} {
		if code := do("POST", "/control/fail", bad, nil); code != 400 {
			t.Errorf("fail %s: %d, want 400", bad, code)
		}
	}
	_, r := callJSON(ctx, t, s, "sendMessage", map[string]any{"chat_id": 5, "text": "x"})
	if r.ErrorCode != 429 || r.Parameters.RetryAfter != 3 {
		t.Errorf("injected failure: %+v", r)
	}
	callJSON(ctx, t, s, "sendMessage", map[string]any{"chat_id": 5, "text": "ok"})

	var sent []SentMessage
	if code := do("GET", "/control/sent?wait=1&timeout=5s", "", &sent); code != 200 || len(sent) != 1 || sent[0].Text != "ok" || sent[0].ChatID != 5 {
		t.Errorf("sent: %d %+v", code, sent)
	}
	var failed map[string]string
	if code := do("GET", "/control/sent?wait=2&timeout=1ms", "", &failed); code != 504 || !strings.Contains(failed["error"], "1 of 2") {
		t.Errorf("sent wait timeout: %d %v", code, failed)
	}
	var calls struct {
		Calls int `json:"calls"`
	}
	if do("GET", "/control/calls?method=sendMessage", "", &calls); calls.Calls != 2 {
		t.Errorf("calls = %d, want 2", calls.Calls)
	}
	if code := do("POST", "/control/refuse", `{"chat_id":8,"code":400,"migrate_to_chat_id":-1008}`, nil); code != 200 {
		t.Fatalf("refuse: %d", code)
	}
	if _, r := callJSON(ctx, t, s, "sendMessage", map[string]any{"chat_id": 8, "text": "x"}); r.Parameters.MigrateToChatID != -1008 {
		t.Errorf("refused send: %+v, want migrate_to_chat_id -1008", r)
	}
	if code := do("POST", "/control/refuse", `{"chat_id":8,"code":500}`, nil); code != 400 {
		t.Errorf("refuse with 500: %d, want 400", code)
	}
	do("POST", "/control/refuse", `{"chat_id":8,"code":0}`, nil)
	if code, _ := callJSON(ctx, t, s, "sendMessage", map[string]any{"chat_id": 8, "text": "x"}); code != 200 {
		t.Errorf("after accepting again: %d, want 200", code)
	}
	callJSON(ctx, t, s, "setWebhook", map[string]any{"url": "http://127.0.0.1:1/hook", "secret_token": "abc"})
	var hook map[string]string
	if do("GET", "/control/webhook", "", &hook); hook["url"] != "http://127.0.0.1:1/hook" || hook["secret"] != "abc" {
		t.Errorf("webhook = %v", hook)
	}
}

func TestCloseReleasesWaiters(t *testing.T) {
	s := New(Options{})
	ctx := testCtx(t)
	polled := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+"/bot"+s.Token()+"/getUpdates?timeout=60", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		polled <- err
	}()
	waited := make(chan error, 1)
	go func() {
		_, err := s.WaitSent(ctx, 1)
		waited <- err
	}()
	waitPolling(ctx, t, s)
	s.Close()
	s.Close() // idempotent
	if err := <-polled; err != nil {
		t.Errorf("pending poll: %v, want a clean empty answer", err)
	}
	if err := <-waited; err == nil || !strings.Contains(err.Error(), "server closed") {
		t.Errorf("WaitSent after Close: %v", err)
	}
	if _, err := http.Get(s.URL()); err == nil {
		t.Error("server still accepts connections after Close")
	}
}

func TestWaitSentContext(t *testing.T) {
	s := newServer(t, Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.WaitSent(ctx, 1); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "0 of 1") {
		t.Errorf("WaitSent = %v", err)
	}
}

func TestStartRejectsBusyAddress(t *testing.T) {
	s := newServer(t, Options{})
	if _, err := Start(Options{Addr: strings.TrimPrefix(s.URL(), "http://")}); err == nil {
		t.Error("Start on a busy address succeeded")
	}
}
