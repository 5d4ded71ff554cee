package telegramtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Keyboard is an InlineKeyboardMarkup.
type Keyboard struct {
	InlineKeyboard [][]Button `json:"inline_keyboard"`
}

// Button is an InlineKeyboardButton of the kinds the bot uses.
type Button struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data,omitempty"`
	URL          string `json:"url,omitempty"`
}

// CallbackQuery is a button press.
type CallbackQuery struct {
	ID           string   `json:"id"`
	From         User     `json:"from"`
	Message      *Message `json:"message,omitempty"` // Date 0: an InaccessibleMessage
	ChatInstance string   `json:"chat_instance"`
	Data         string   `json:"data,omitempty"`
}

// InlineQuery is "@bot query" typed in a chat.
type InlineQuery struct {
	ID       string `json:"id"`
	From     User   `json:"from"`
	Query    string `json:"query"`
	Offset   string `json:"offset"`
	ChatType string `json:"chat_type,omitempty"`
}

// ChatMemberUpdated is a my_chat_member update.
type ChatMemberUpdated struct {
	Chat Chat       `json:"chat"`
	From User       `json:"from"`
	Date int64      `json:"date"`
	Old  ChatMember `json:"old_chat_member"`
	New  ChatMember `json:"new_chat_member"`
}

// ChatMember is a member's status in a chat.
type ChatMember struct {
	Status string `json:"status"`
	User   User   `json:"user"`
}

// CallbackAnswer is one accepted answerCallbackQuery.
type CallbackAnswer struct {
	QueryID   string    `json:"query_id"`
	Text      string    `json:"text,omitempty"`
	ShowAlert bool      `json:"show_alert,omitempty"`
	Time      time.Time `json:"time"`
}

// InlineAnswer is one accepted answerInlineQuery.
type InlineAnswer struct {
	QueryID    string         `json:"query_id"`
	Results    []InlineResult `json:"results"`
	CacheTime  int            `json:"cache_time"`
	IsPersonal bool           `json:"is_personal,omitempty"`
	Button     *InlineButton  `json:"button,omitempty"`
	Time       time.Time      `json:"time"`
}

// InlineResult is an InlineQueryResultArticle.
type InlineResult struct {
	Type        string `json:"type"`
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	Content     struct {
		Text      string `json:"message_text"`
		ParseMode string `json:"parse_mode,omitempty"`
	} `json:"input_message_content"`
}

// InlineButton is an InlineQueryResultsButton.
type InlineButton struct {
	Text           string `json:"text"`
	StartParameter string `json:"start_parameter,omitempty"`
}

// Limits of the real server for interaction.
const (
	maxCallbackData  = 64
	maxToastLen      = 200
	maxInlineResults = 50
	maxResultIDBytes = 64
	generalTopic     = 1 // the General topic of a forum: messages to it carry no thread id
	queryInvalid     = "query is too old and response timeout expired or query ID is invalid"
	notModified      = "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"
)

var startParam = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// msgKey is a chat and a message (or topic, or user) in it.
type msgKey struct{ chat, id int64 }

// stored is a message as the fake remembers it, for replies and edits.
type stored struct {
	msg     Message
	photo   [32]byte // sha256 of the photo; zero for text
	deleted bool     // gone: edits fail, presses carry an InaccessibleMessage
	frozen  bool     // too old (or not the bot's) to edit
}

// query is an issued callback or inline query id.
type query struct{ answered bool }

// updateType is the allowed_updates name of u.
func updateType(u Update) string {
	switch {
	case u.CallbackQuery != nil:
		return "callback_query"
	case u.InlineQuery != nil:
		return "inline_query"
	case u.MyChatMember != nil:
		return "my_chat_member"
	}
	return "message"
}

// allows applies allowed_updates: an empty list means every type but
// chat_member and the reactions, all of which the fake never creates.
func (s *Server) allows(typ string) bool {
	return len(s.allowed) == 0 || slices.Contains(s.allowed, typ)
}

// setAllowed reads allowed_updates; omitted keeps the previous setting.
func (s *Server) setAllowed(p params) *apiError {
	a := p.vals["allowed_updates"]
	if a == "" {
		return nil
	}
	var list []string
	if err := json.Unmarshal([]byte(a), &list); err != nil {
		return badRequest("can't parse allowed_updates JSON array")
	}
	s.mu.Lock()
	s.allowed = list
	s.mu.Unlock()
	return nil
}

// store remembers m (a copy), with the hash of its photo; s.mu must be held.
func (s *Server) store(m *Message, photo []byte) {
	st := &stored{msg: *m, frozen: m.From == nil || m.From.ID != s.me.ID}
	if photo != nil {
		st.photo = sha256.Sum256(photo)
	}
	s.msgs[msgKey{m.Chat.ID, m.MessageID}] = st
	if m.IsTopicMessage && m.MessageThreadID != 0 {
		s.topics[msgKey{m.Chat.ID, m.MessageThreadID}] = true
	}
}

// SendTopic injects a text message in forum topic thread of the forum
// supergroup chatID; thread 0 is the General topic, whose messages carry
// no message_thread_id.
func (s *Server) SendTopic(chatID, userID, thread int64, text string) int64 {
	m := &Message{
		From: &User{ID: userID, FirstName: "Tester", LanguageCode: "en"},
		Chat: Chat{ID: chatID, Type: "supergroup", IsForum: true},
		Text: text,
	}
	if thread != 0 {
		m.MessageThreadID, m.IsTopicMessage = thread, true
	}
	return s.AddUpdate(Update{Message: m})
}

// Press injects a press by userID of the button with data on message
// messageID in chatID, and returns the callback query id, "" when the bot
// does not receive callback queries. A message the fake does not know, or
// one deleted with Delete, arrives as an InaccessibleMessage (date 0).
func (s *Server) Press(chatID, userID, messageID int64, data string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	msg := &Message{MessageID: messageID, Chat: Chat{ID: chatID, Type: s.chatTypes[chatID]}}
	if st, ok := s.msgs[msgKey{chatID, messageID}]; ok && !st.deleted {
		m := st.msg
		msg = &m
	}
	id := s.newQuery()
	cq := &CallbackQuery{ID: id, From: User{ID: userID, FirstName: "Tester", LanguageCode: "en"},
		Message: msg, ChatInstance: strconv.FormatInt(chatID, 10), Data: data}
	if s.addUpdate(Update{CallbackQuery: cq}) == 0 {
		return ""
	}
	return id
}

// Inline injects an inline query from userID typed in a chat of chatType
// ("sender" for the bot's own chat) and returns its id, "" when the bot
// does not receive inline queries.
func (s *Server) Inline(userID int64, text, chatType string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.newQuery()
	iq := &InlineQuery{ID: id, From: User{ID: userID, FirstName: "Tester", LanguageCode: "en"}, Query: text, ChatType: chatType}
	if s.addUpdate(Update{InlineQuery: iq}) == 0 {
		return ""
	}
	return id
}

// MemberChange injects a my_chat_member update: userID changed the bot's
// status in chatID from old to new. It returns the update_id (0: not allowed).
func (s *Server) MemberChange(chatID int64, chatType string, userID int64, old, new string) int64 {
	me := s.me
	return s.AddUpdate(Update{MyChatMember: &ChatMemberUpdated{
		Chat: Chat{ID: chatID, Type: chatType}, From: User{ID: userID, FirstName: "Tester"}, Date: time.Now().Unix(),
		Old: ChatMember{Status: old, User: me}, New: ChatMember{Status: new, User: me},
	}})
}

// SetMember sets the status getChatMember reports for user in chat.
func (s *Server) SetMember(chat, user int64, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.members[msgKey{chat, user}] = status
}

// Delete makes a message gone: edits fail with "message to edit not found"
// and presses on it arrive as an InaccessibleMessage.
func (s *Server) Delete(chat, messageID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.msgs[msgKey{chat, messageID}]; ok {
		st.deleted = true
	}
}

// Freeze makes a message too old to edit: "message can't be edited".
func (s *Server) Freeze(chat, messageID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.msgs[msgKey{chat, messageID}]; ok {
		st.frozen = true
	}
}

// Answers returns every accepted answerCallbackQuery, in order.
func (s *Server) Answers() []CallbackAnswer {
	return copyOf(s, func() []CallbackAnswer { return s.answers })
}

// WaitAnswers blocks until n callback queries were answered.
func (s *Server) WaitAnswers(ctx context.Context, n int) ([]CallbackAnswer, error) {
	return waitN(ctx, s, n, "callback queries answered", func() []CallbackAnswer { return s.answers })
}

// WaitInline blocks until n inline queries were answered.
func (s *Server) WaitInline(ctx context.Context, n int) ([]InlineAnswer, error) {
	return waitN(ctx, s, n, "inline queries answered", func() []InlineAnswer { return s.inlineAs })
}

// newQuery issues a query id; s.mu must be held.
func (s *Server) newQuery() string {
	s.nextQ++
	id := strconv.FormatInt(4_000_000_000+s.nextQ, 10)
	s.queries[id] = &query{}
	return id
}

// outgoing is what a send carries besides its content.
type outgoing struct {
	thread, replyTo int64
	keyboard        *Keyboard
	silent          bool
}

// sendOptions reads message_thread_id, reply_parameters and reply_markup
// of a send to chat with the real server's checks.
func (s *Server) sendOptions(chat int64, p params) (outgoing, *apiError) {
	o := outgoing{silent: p.flag("disable_notification")}
	thread, e := p.integer("message_thread_id", 0)
	if e != nil {
		return o, e
	}
	if o.keyboard, e = keyboard(p); e != nil {
		return o, e
	}
	var rp struct {
		MessageID    int64 `json:"message_id"`
		WithoutReply bool  `json:"allow_sending_without_reply"`
	}
	if raw := p.vals["reply_parameters"]; raw != "" {
		if err := json.Unmarshal([]byte(raw), &rp); err != nil || rp.MessageID == 0 {
			return o, badRequest("can't parse reply parameters JSON object")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if thread != 0 && (thread == generalTopic || !s.topics[msgKey{chat, thread}]) {
		return o, badRequest("message thread not found")
	}
	o.thread = thread
	if rp.MessageID != 0 {
		if st, ok := s.msgs[msgKey{chat, rp.MessageID}]; ok && !st.deleted {
			o.replyTo = rp.MessageID
		} else if !rp.WithoutReply {
			return o, badRequest("message to be replied not found")
		}
	}
	return o, nil
}

// keyboard reads and checks reply_markup; nil when absent.
func keyboard(p params) (*Keyboard, *apiError) {
	raw := p.vals["reply_markup"]
	if raw == "" {
		return nil, nil
	}
	var k Keyboard
	if err := json.Unmarshal([]byte(raw), &k); err != nil || k.InlineKeyboard == nil {
		return nil, badRequest("can't parse reply keyboard markup JSON object")
	}
	for _, row := range k.InlineKeyboard {
		for _, b := range row {
			switch {
			case b.Text == "":
				return nil, badRequest("text buttons are unallowed in the inline keyboard")
			case (b.CallbackData == "") == (b.URL == ""):
				return nil, badRequest("can't parse inline keyboard button: exactly one of the optional fields must be used")
			case b.URL == "" && len(b.CallbackData) > maxCallbackData:
				return nil, badRequest("BUTTON_DATA_INVALID")
			}
		}
	}
	return &k, nil
}

// rows are a keyboard's rows for SentMessage; nil for none.
func (k *Keyboard) rows() [][]Button {
	if k == nil {
		return nil
	}
	return k.InlineKeyboard
}

// sameMarkup reports whether two keyboards are equal.
func sameMarkup(a, b *Keyboard) bool {
	ja, _ := json.Marshal(a.rows())
	jb, _ := json.Marshal(b.rows())
	return bytes.Equal(ja, jb)
}

// editChat reads the chat and message an edit method names, and the new keyboard.
func (s *Server) editChat(p params) (msgKey, *Keyboard, *apiError) {
	kb, e := keyboard(p)
	if e != nil {
		return msgKey{}, nil, e
	}
	if p.vals["inline_message_id"] != "" {
		return msgKey{}, nil, badRequest("MESSAGE_ID_INVALID") // the fake sends no inline messages
	}
	chat, e := s.recipient(p)
	if e != nil {
		return msgKey{}, nil, e
	}
	id, e := p.integer("message_id", 0)
	return msgKey{chat, id}, kb, e
}

// editTarget finds the message to edit, a photo or a text; s.mu must be held.
func (s *Server) editTarget(k msgKey, photo bool) (*stored, *apiError) {
	st, ok := s.msgs[k]
	switch {
	case !ok || st.deleted:
		return nil, badRequest("message to edit not found")
	case st.frozen:
		return nil, badRequest("message can't be edited")
	case photo && st.msg.Photo == nil:
		return nil, badRequest("there is no media in the message to edit")
	case !photo && st.msg.Photo != nil:
		return nil, badRequest("there is no text in the message to edit")
	}
	return st, nil
}

func (s *Server) editMessageText(w http.ResponseWriter, _ *http.Request, p params) *apiError {
	k, kb, e := s.editChat(p)
	if e != nil {
		return e
	}
	text, mode, e := messageText(p)
	if e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, e := s.editTarget(k, false)
	if e == nil && st.msg.Text == text && sameMarkup(st.msg.ReplyMarkup, kb) {
		e = badRequest(notModified)
	}
	if e != nil {
		return e
	}
	st.msg.Text, st.msg.ReplyMarkup = text, kb
	s.record(SentMessage{Method: "editMessageText", MessageID: st.msg.MessageID, ChatID: k.chat, Text: text, ParseMode: mode,
		Buttons: kb.rows(), Time: time.Now()})
	writeResult(w, st.msg)
	return nil
}

func (s *Server) editMessageMedia(w http.ResponseWriter, _ *http.Request, p params) *apiError {
	k, kb, e := s.editChat(p)
	if e != nil {
		return e
	}
	var media struct {
		Type      string `json:"type"`
		Media     string `json:"media"`
		Caption   string `json:"caption"`
		ParseMode string `json:"parse_mode"`
	}
	if err := json.Unmarshal([]byte(p.vals["media"]), &media); err != nil {
		return badRequest("can't parse InputMedia JSON object")
	}
	name, attached := strings.CutPrefix(media.Media, "attach://")
	photo, ok := p.files[name]
	switch {
	case media.Type != "photo":
		return badRequest("type of file mismatch") // the bot edits photos only
	case !attached:
		return badRequest("wrong file identifier/HTTP URL specified")
	case !ok:
		return badRequest("can't find attached file %q", name)
	}
	w0, h0, e := checkPhoto(photo)
	if e != nil {
		return e
	}
	if e := checkCaption(media.Caption, media.ParseMode); e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, e := s.editTarget(k, true)
	if e == nil && st.photo == sha256.Sum256(photo) && st.msg.Caption == media.Caption && sameMarkup(st.msg.ReplyMarkup, kb) {
		e = badRequest(notModified)
	}
	if e != nil {
		return e
	}
	id := "photo-" + strconv.FormatInt(st.msg.MessageID, 10) + "-" + strconv.Itoa(len(s.sent))
	st.msg.Caption, st.msg.ReplyMarkup, st.photo = media.Caption, kb, sha256.Sum256(photo)
	st.msg.Photo = []PhotoSize{{FileID: id, FileUniqueID: id, Width: w0, Height: h0, FileSize: len(photo)}}
	s.record(SentMessage{Method: "editMessageMedia", MessageID: st.msg.MessageID, ChatID: k.chat, Text: media.Caption,
		ParseMode: media.ParseMode, PhotoSize: len(photo), Buttons: kb.rows(), Time: time.Now()})
	writeResult(w, st.msg)
	return nil
}

// answerQuery marks an issued, unanswered query id answered, lets add
// record the answer (under s.mu) and answers true.
func (s *Server) answerQuery(w http.ResponseWriter, id string, add func()) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.queries[id]
	if !ok || q.answered {
		return badRequest(queryInvalid)
	}
	q.answered = true
	add()
	s.changed()
	writeResult(w, true)
	return nil
}

func (s *Server) answerCallbackQuery(w http.ResponseWriter, _ *http.Request, p params) *apiError {
	text := p.vals["text"]
	if utf16Len(text) > maxToastLen {
		return badRequest("MESSAGE_TOO_LONG")
	}
	id := p.vals["callback_query_id"]
	return s.answerQuery(w, id, func() {
		s.answers = append(s.answers, CallbackAnswer{QueryID: id, Text: text, ShowAlert: p.flag("show_alert"), Time: time.Now()})
	})
}

func (s *Server) answerInlineQuery(w http.ResponseWriter, _ *http.Request, p params) *apiError {
	var results []InlineResult
	if err := json.Unmarshal([]byte(p.vals["results"]), &results); err != nil || results == nil {
		return badRequest("can't parse JSON encoded inline query results")
	}
	if len(results) > maxInlineResults {
		return badRequest("Too many inline query results specified")
	}
	ids := map[string]bool{}
	for _, r := range results {
		if e := checkResult(r, ids); e != nil {
			return e
		}
	}
	cache, e := p.integer("cache_time", 300)
	if e != nil {
		return e
	}
	var button *InlineButton
	if raw := p.vals["button"]; raw != "" {
		button = &InlineButton{}
		switch err := json.Unmarshal([]byte(raw), button); {
		case err != nil || button.Text == "":
			return badRequest("can't parse inline query results button")
		case !startParam.MatchString(button.StartParameter):
			return badRequest("START_PARAM_INVALID")
		}
	}
	id := p.vals["inline_query_id"]
	return s.answerQuery(w, id, func() {
		s.inlineAs = append(s.inlineAs, InlineAnswer{QueryID: id, Results: results, CacheTime: int(min(max(cache, 0), 86400)),
			IsPersonal: p.flag("is_personal"), Button: button, Time: time.Now()})
	})
}

// checkResult checks one article result; ids collects the ids seen.
func checkResult(r InlineResult, ids map[string]bool) *apiError {
	switch {
	case r.Type != "article":
		return badRequest("unsupported inline query result type %q", r.Type) // the bot sends articles only
	case r.ID == "" || len(r.ID) > maxResultIDBytes || !utf8.ValidString(r.ID):
		return badRequest("RESULT_ID_INVALID")
	case ids[r.ID]:
		return badRequest("RESULT_ID_DUPLICATE")
	case r.Title == "":
		return badRequest("RESULT_TITLE_EMPTY")
	}
	ids[r.ID] = true
	n, e := checkText(r.Content.Text, r.Content.ParseMode)
	switch {
	case e != nil:
		return e
	case n == 0:
		return badRequest("MESSAGE_EMPTY")
	case n > maxTextLen:
		return badRequest("MESSAGE_TOO_LONG")
	}
	return nil
}

func (s *Server) getChatMember(w http.ResponseWriter, _ *http.Request, p params) *apiError {
	chat, e := s.recipient(p)
	if e != nil {
		return e
	}
	user, e := p.integer("user_id", 0)
	if e != nil || user <= 0 {
		return badRequest("invalid user_id specified")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	status, set := s.members[msgKey{chat, user}]
	_, seen := s.chatTypes[chat]
	switch {
	case set:
	case chat == user:
		status = "member" // a user in their own private chat with the bot
	case !seen:
		return badRequest("chat not found")
	default:
		status = "left"
	}
	writeResult(w, ChatMember{Status: status, User: User{ID: user, FirstName: "Tester"}})
	return nil
}
