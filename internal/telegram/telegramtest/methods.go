package telegramtest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"image"
	_ "image/jpeg" // sendPhoto accepts JPEG uploads
	_ "image/png"  // and PNG uploads
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Conflict descriptions of the reference server.
const (
	conflictWebhook = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
	conflictPoll    = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)

// Limits of the real server.
const (
	maxUploadBytes = 10 << 20
	maxTextLen     = 4096
	maxCaptionLen  = 1024
)

var (
	secretChars  = regexp.MustCompile(`^[A-Za-z0-9_-]*$`)
	commandChars = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)
	chatActions  = []string{"typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
		"upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note"}
)

// params are a request's parameters, whatever the body encoding. JSON
// values that are not strings keep their JSON text, as in a form field.
type params struct {
	vals  map[string]string
	files map[string][]byte
}

// method handles one Bot API method; a non-nil *apiError is the answer.
type method func(s *Server, w http.ResponseWriter, r *http.Request, p params) *apiError

var methods = map[string]method{
	"getme":          (*Server).getMe,
	"setwebhook":     (*Server).setWebhook,
	"deletewebhook":  (*Server).deleteWebhook,
	"getwebhookinfo": (*Server).getWebhookInfo,
	"getupdates":     (*Server).getUpdates,
	"sendmessage":    (*Server).sendMessage,
	"sendphoto":      (*Server).sendPhoto,
	"setmycommands":  (*Server).setMyCommands,
	"sendchataction": (*Server).sendChatAction,

	"editmessagetext":     (*Server).editMessageText,
	"editmessagemedia":    (*Server).editMessageMedia,
	"answercallbackquery": (*Server).answerCallbackQuery,
	"answerinlinequery":   (*Server).answerInlineQuery,
	"getchatmember":       (*Server).getChatMember,
}

// serveBotAPI routes /bot<token>/<method>; method names are case-insensitive.
func (s *Server) serveBotAPI(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	token, name, found := strings.Cut(rest, "/")
	if !ok || !found {
		writeError(w, &apiError{code: http.StatusNotFound, desc: "Not Found"})
		return
	}
	if token != s.opts.Token {
		writeError(w, &apiError{code: http.StatusUnauthorized, desc: "Unauthorized"})
		return
	}
	name = strings.ToLower(name)
	s.mu.Lock()
	s.calls[name]++
	f, failed := s.takeFailure(name)
	s.mu.Unlock()
	h, known := methods[name]
	switch {
	case !known:
		writeError(w, &apiError{code: http.StatusNotFound, desc: "Not Found: method not found"})
		return
	case failed:
		writeError(w, injected(f))
		return
	}
	p, err := readParams(r)
	if err != nil {
		if _, tooBig := errors.AsType[*http.MaxBytesError](err); tooBig {
			writeError(w, &apiError{code: http.StatusRequestEntityTooLarge, desc: "Request Entity Too Large"})
			return
		}
		writeError(w, badRequest("can't parse request: %v", err))
		return
	}
	if e := h(s, w, r, p); e != nil {
		writeError(w, e)
	}
}

// readParams reads query parameters and a JSON, urlencoded or multipart body.
func readParams(r *http.Request) (params, error) {
	p := params{vals: map[string]string{}, files: map[string][]byte{}}
	for k, v := range r.URL.Query() {
		p.vals[k] = v[0]
	}
	r.Body = http.MaxBytesReader(nil, r.Body, maxUploadBytes+1<<20)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		var m map[string]json.RawMessage
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil && !errors.Is(err, io.EOF) {
			return p, err
		}
		for k, raw := range m {
			var str string
			if json.Unmarshal(raw, &str) == nil {
				p.vals[k] = str
			} else {
				p.vals[k] = string(raw)
			}
		}
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return p, err
		}
		for k, v := range r.PostForm {
			p.vals[k] = v[0]
		}
	case "multipart/form-data":
		mr, err := r.MultipartReader()
		if err != nil {
			return p, err
		}
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return p, err
			}
			data, err := io.ReadAll(part)
			if err != nil {
				return p, err
			}
			if part.FileName() != "" {
				p.files[part.FormName()] = data
			} else {
				p.vals[part.FormName()] = string(data)
			}
		}
	}
	return p, nil
}

func (p params) integer(name string, def int64) (int64, *apiError) {
	v, ok := p.vals[name]
	if !ok || v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, badRequest("invalid %s specified", name)
	}
	return n, nil
}

func (p params) flag(name string) bool {
	b, _ := strconv.ParseBool(p.vals[name])
	return b
}

// chatID reads chat_id; only numeric ids exist in the fake.
func (p params) chatID() (int64, *apiError) {
	v := p.vals["chat_id"]
	if v == "" {
		return 0, badRequest("chat_id is empty")
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id == 0 {
		return 0, badRequest("chat not found")
	}
	return id, nil
}

// recipient reads chat_id for a send and applies the chat's refusal.
func (s *Server) recipient(p params) (int64, *apiError) {
	chat, e := p.chatID()
	if e == nil {
		e = s.refused(chat)
	}
	return chat, e
}

func (s *Server) getMe(w http.ResponseWriter, _ *http.Request, _ params) *apiError {
	writeResult(w, s.me)
	return nil
}

func (s *Server) setWebhook(w http.ResponseWriter, _ *http.Request, p params) *apiError {
	raw, secret := p.vals["url"], p.vals["secret_token"]
	if raw != "" {
		// Like a local Bot API server, http and any port are allowed.
		if u, err := url.Parse(raw); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return badRequest("bad webhook: invalid webhook URL specified")
		}
	}
	switch {
	case len(secret) > 256:
		return badRequest("secret token is too long")
	case !secretChars.MatchString(secret):
		return badRequest("secret token contains unallowed characters")
	}
	maxConn, e := p.integer("max_connections", 40)
	if e != nil {
		return e
	}
	if e := s.setAllowed(p); e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.flag("drop_pending_updates") {
		s.dropPending()
	}
	if raw == "" {
		s.unsetWebhook()
		writeResult(w, true)
		return nil
	}
	s.hook = webhook{url: raw, secret: secret, maxConnections: int(maxConn)}
	// Updates queued for getUpdates now go to the webhook, and a pending
	// poll wakes up to answer 409.
	for _, u := range s.pending {
		s.chats[chatOf(u)] = append(s.chats[chatOf(u)], u)
	}
	s.pending = nil
	s.notifyArrived()
	s.kickDispatcher()
	writeResult(w, true)
	return nil
}

func (s *Server) deleteWebhook(w http.ResponseWriter, _ *http.Request, p params) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.flag("drop_pending_updates") {
		s.dropPending()
	}
	s.unsetWebhook()
	writeResult(w, true)
	return nil
}

// unsetWebhook returns undelivered webhook updates to the getUpdates queue;
// an update being pushed right now stays with its deliverer, which requeues
// it if the push fails. s.mu must be held.
func (s *Server) unsetWebhook() {
	s.hook = webhook{}
	for chat, q := range s.chats {
		if id, ok := s.inflight[chat]; ok && len(q) > 0 && q[0].UpdateID == id {
			s.chats[chat], q = q[:1], q[1:]
		} else {
			delete(s.chats, chat)
		}
		s.requeue(q...)
	}
}

// requeue puts updates back in the getUpdates queue; s.mu must be held.
func (s *Server) requeue(ups ...Update) {
	s.pending = append(s.pending, ups...)
	slices.SortFunc(s.pending, func(a, b Update) int { return cmp.Compare(a.UpdateID, b.UpdateID) })
	s.notifyArrived()
}

// dropPending forgets every undelivered update; s.mu must be held.
func (s *Server) dropPending() {
	s.pending = nil
	clear(s.chats)
}

func (s *Server) getWebhookInfo(w http.ResponseWriter, _ *http.Request, _ params) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.pending)
	for _, q := range s.chats {
		n += len(q)
	}
	info := map[string]any{"url": s.hook.url, "has_custom_certificate": false, "pending_update_count": n}
	if s.hook.url != "" {
		info["max_connections"] = s.hook.maxConnections
		if s.allowed != nil {
			info["allowed_updates"] = s.allowed
		}
		if s.hook.lastError != "" {
			info["last_error_date"] = s.hook.lastErrorDate
			info["last_error_message"] = s.hook.lastError
		}
	}
	writeResult(w, info)
	return nil
}

// getUpdates long-polls: it answers as soon as an update at or above offset
// exists, after timeout seconds with [], or with 409 when a webhook is set or
// a newer getUpdates takes over.
func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request, p params) *apiError {
	offset, e := p.integer("offset", 0)
	if e != nil {
		return e
	}
	limit, e := p.integer("limit", 100)
	if e != nil {
		return e
	}
	limit = min(max(limit, 1), 100)
	timeout, e := p.integer("timeout", 0)
	if e != nil {
		return e
	}
	if e := s.setAllowed(p); e != nil {
		return e
	}
	s.mu.Lock()
	if s.hook.url != "" {
		s.mu.Unlock()
		return &apiError{code: http.StatusConflict, desc: conflictWebhook}
	}
	if s.poll != nil {
		close(s.poll)
	}
	mine := make(chan struct{})
	s.poll = mine
	s.confirm(offset)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if s.poll == mine {
			s.poll = nil
		}
		s.mu.Unlock()
	}()

	timer := time.NewTimer(time.Duration(max(timeout, 0)) * time.Second)
	defer timer.Stop()
	for {
		s.mu.Lock()
		switch {
		case s.poll != mine:
			s.mu.Unlock()
			return &apiError{code: http.StatusConflict, desc: conflictPoll}
		case s.hook.url != "":
			s.mu.Unlock()
			return &apiError{code: http.StatusConflict, desc: conflictWebhook}
		case len(s.pending) > 0 || timeout <= 0:
			out := slices.Clone(s.pending[:min(int(limit), len(s.pending))])
			s.mu.Unlock()
			writeResult(w, out)
			return nil
		}
		arrived := s.arrived
		s.mu.Unlock()
		select {
		case <-arrived:
		case <-mine:
		case <-timer.C:
			writeResult(w, []Update{})
			return nil
		case <-s.done:
			writeResult(w, []Update{})
			return nil
		case <-r.Context().Done():
			return nil
		}
	}
}

// confirm drops updates below offset; a negative offset keeps only the
// last -offset updates. s.mu must be held.
func (s *Server) confirm(offset int64) {
	switch {
	case offset > 0:
		i := 0
		for i < len(s.pending) && s.pending[i].UpdateID < offset {
			i++
		}
		s.pending = s.pending[i:]
	case offset < 0 && int64(len(s.pending)) > -offset:
		s.pending = s.pending[int64(len(s.pending))+offset:]
	}
}

// checkText validates text or a caption in parse mode and returns its
// length as Telegram counts it (UTF-16 units after entity parsing).
func checkText(text, mode string) (int, *apiError) {
	switch mode {
	case "":
		return utf16Len(strings.TrimSpace(text)), nil
	case "HTML":
		visible, problem := parseHTML(text)
		if problem != "" {
			return 0, badRequest("can't parse entities: %s", problem)
		}
		return utf16Len(strings.TrimSpace(visible)), nil
	case "Markdown", "MarkdownV2":
		return utf16Len(strings.TrimSpace(text)), nil // not validated: the bot sends HTML
	}
	return 0, badRequest("unsupported parse_mode")
}

// messageText reads and checks a message's text and parse mode.
func messageText(p params) (text, mode string, e *apiError) {
	text, mode = p.vals["text"], p.vals["parse_mode"]
	n, e := checkText(text, mode)
	switch {
	case e != nil:
		return "", "", e
	case n == 0:
		return "", "", badRequest("message text is empty")
	case n > maxTextLen:
		return "", "", badRequest("message is too long")
	}
	return text, mode, nil
}

// checkCaption checks a photo's caption.
func checkCaption(caption, mode string) *apiError {
	n, e := checkText(caption, mode)
	if e == nil && n > maxCaptionLen {
		e = badRequest("message caption is too long")
	}
	return e
}

func (s *Server) sendMessage(w http.ResponseWriter, _ *http.Request, p params) *apiError {
	chat, e := s.recipient(p)
	if e != nil {
		return e
	}
	text, mode, e := messageText(p)
	if e != nil {
		return e
	}
	o, e := s.sendOptions(chat, p)
	if e != nil {
		return e
	}
	var preview struct {
		IsDisabled bool `json:"is_disabled"`
	}
	_ = json.Unmarshal([]byte(p.vals["link_preview_options"]), &preview) // absent or malformed: previews on
	s.mu.Lock()
	defer s.mu.Unlock()
	msg := s.botMessage(chat, o)
	msg.Text = text
	s.store(msg, nil)
	s.record(SentMessage{Method: "sendMessage", MessageID: msg.MessageID, ChatID: chat, Text: text, ParseMode: mode,
		LinkPreviewDisabled: preview.IsDisabled || p.flag("disable_web_page_preview"),
		ReplyTo:             o.replyTo, ThreadID: o.thread, Buttons: o.keyboard.rows(), Silent: o.silent, Time: time.Now()})
	writeResult(w, msg)
	return nil
}

func (s *Server) sendPhoto(w http.ResponseWriter, _ *http.Request, p params) *apiError {
	chat, e := s.recipient(p)
	if e != nil {
		return e
	}
	photo, uploaded := p.files["photo"]
	switch {
	case !uploaded && p.vals["photo"] != "":
		return badRequest("wrong file identifier/HTTP URL specified") // the fake has no stored files
	case !uploaded:
		return badRequest("there is no photo in the request")
	case len(photo) == 0:
		return badRequest("file must be non-empty")
	}
	width, height, e := checkPhoto(photo)
	if e != nil {
		return e
	}
	caption, mode := p.vals["caption"], p.vals["parse_mode"]
	if e := checkCaption(caption, mode); e != nil {
		return e
	}
	o, e := s.sendOptions(chat, p)
	if e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	msg := s.botMessage(chat, o)
	msg.Caption = caption
	id := "photo-" + strconv.FormatInt(msg.MessageID, 10)
	msg.Photo = []PhotoSize{{FileID: id, FileUniqueID: id, Width: width, Height: height, FileSize: len(photo)}}
	s.store(msg, photo)
	s.record(SentMessage{Method: "sendPhoto", MessageID: msg.MessageID, ChatID: chat, Text: caption, ParseMode: mode,
		PhotoSize: len(photo), ReplyTo: o.replyTo, ThreadID: o.thread, Buttons: o.keyboard.rows(), Time: time.Now()})
	writeResult(w, msg)
	return nil
}

// checkPhoto decodes an uploaded photo's size with the real server's limits.
func checkPhoto(photo []byte) (width, height int, e *apiError) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(photo))
	switch {
	case err != nil:
		return 0, 0, badRequest("IMAGE_PROCESS_FAILED")
	case cfg.Width+cfg.Height > 10000 || max(cfg.Width, cfg.Height) > 20*min(cfg.Width, cfg.Height):
		return 0, 0, badRequest("PHOTO_INVALID_DIMENSIONS")
	}
	return cfg.Width, cfg.Height, nil
}

// botMessage starts a message from the bot in chat; s.mu must be held.
func (s *Server) botMessage(chat int64, o outgoing) *Message {
	typ := s.chatTypes[chat]
	if typ == "" {
		typ = "private"
		if chat < 0 {
			typ = "group"
		}
	}
	s.nextMsg++
	me := s.me
	return &Message{MessageID: s.nextMsg, From: &me, Chat: Chat{ID: chat, Type: typ}, Date: time.Now().Unix(),
		MessageThreadID: o.thread, IsTopicMessage: o.thread != 0, ReplyMarkup: o.keyboard}
}

func (s *Server) setMyCommands(w http.ResponseWriter, _ *http.Request, p params) *apiError {
	var cmds []Command
	if err := json.Unmarshal([]byte(p.vals["commands"]), &cmds); err != nil {
		return badRequest("can't parse commands JSON array")
	}
	if len(cmds) > 100 {
		return badRequest("too many commands specified")
	}
	for _, c := range cmds {
		if !commandChars.MatchString(c.Command) {
			return badRequest("BOT_COMMAND_INVALID")
		}
		if n := utf16Len(strings.TrimSpace(c.Description)); n == 0 || n > 256 {
			return badRequest("BOT_COMMAND_DESCRIPTION_INVALID")
		}
	}
	s.mu.Lock()
	s.commands = cmds
	s.mu.Unlock()
	writeResult(w, true)
	return nil
}

func (s *Server) sendChatAction(w http.ResponseWriter, _ *http.Request, p params) *apiError {
	if _, e := p.chatID(); e != nil {
		return e
	}
	if !slices.Contains(chatActions, p.vals["action"]) {
		return badRequest("wrong parameter action in request")
	}
	writeResult(w, true)
	return nil
}
