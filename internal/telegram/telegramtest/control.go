package telegramtest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// controlRoutes exposes the Go control API over HTTP for out-of-process
// tools. Bodies and answers are JSON; no token is needed.
//
//	POST /control/updates      Update                                  → {"update_id"}
//	POST /control/messages     {chat_id, user_id, chat_type, text}     → {"update_id"}
//	GET  /control/sent[?wait=N&timeout=5s]                             → [SentMessage] (504 on timeout)
//	POST /control/fail         {method, status, count, retry_after}    → {} (retry_after in seconds)
//	GET  /control/calls?method=sendMessage                             → {"method", "calls"}
//	GET  /control/webhook                                              → {"url", "secret"}
//	POST /control/refuse       {chat_id, code, migrate_to_chat_id}     → {} (code 0: accept again)
//	POST /control/press        {chat_id, user_id, message_id, data}    → {"query_id"}
//	POST /control/inline       {user_id, query, chat_type}             → {"query_id"}
//	POST /control/member       {chat_id, user_id, status}              → {} (getChatMember's answer)
//	GET  /control/answers                                              → {"callbacks": [CallbackAnswer], "inline": [InlineAnswer]}
func (s *Server) controlRoutes(mux *http.ServeMux) {
	s.injectRoutes(mux)
	s.inspectRoutes(mux)
	s.faultRoutes(mux)
	s.interactionRoutes(mux)
}

// injectRoutes are the control routes that hand the bot an update.
func (s *Server) injectRoutes(mux *http.ServeMux) {
	type message struct {
		ChatID   int64  `json:"chat_id"`
		UserID   int64  `json:"user_id"`
		ChatType string `json:"chat_type"`
		Text     string `json:"text"`
	}
	handleControl(mux, "POST /control/updates", func(u Update) (any, error) {
		return map[string]int64{"update_id": s.AddUpdate(u)}, nil
	})
	handleControl(mux, "POST /control/messages", func(m message) (any, error) {
		return map[string]int64{"update_id": s.SendText(m.ChatID, m.UserID, m.ChatType, m.Text)}, nil
	})
}

// inspectRoutes are the control routes that report what the bot did.
func (s *Server) inspectRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /control/sent", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("wait") == "" {
			writeJSON(w, http.StatusOK, s.Sent())
			return
		}
		n, err := strconv.Atoi(q.Get("wait"))
		if err != nil {
			controlError(w, http.StatusBadRequest, "wait must be an integer")
			return
		}
		timeout := 5 * time.Second
		if t := q.Get("timeout"); t != "" {
			if timeout, err = time.ParseDuration(t); err != nil {
				controlError(w, http.StatusBadRequest, "timeout must be a Go duration such as 5s")
				return
			}
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		sent, err := s.WaitSent(ctx, n)
		if err != nil {
			controlError(w, http.StatusGatewayTimeout, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, sent)
	})
	mux.HandleFunc("GET /control/calls", func(w http.ResponseWriter, r *http.Request) {
		m := r.URL.Query().Get("method")
		writeJSON(w, http.StatusOK, map[string]any{"method": m, "calls": s.Calls(m)})
	})
	mux.HandleFunc("GET /control/webhook", func(w http.ResponseWriter, _ *http.Request) {
		url, secret := s.Webhook()
		writeJSON(w, http.StatusOK, map[string]string{"url": url, "secret": secret})
	})
}

// faultRoutes are the control routes that make the fake API fail or refuse.
func (s *Server) faultRoutes(mux *http.ServeMux) {
	type fail struct {
		Method     string `json:"method"`
		Status     int    `json:"status"`
		Count      int    `json:"count"`
		RetryAfter int    `json:"retry_after"`
	}
	type refuse struct {
		ChatID    int64 `json:"chat_id"`
		Code      int   `json:"code"`
		MigrateTo int64 `json:"migrate_to_chat_id"`
	}
	handleControl(mux, "POST /control/fail", func(f fail) (any, error) {
		if f.Method == "" || f.Status < 400 || f.Status > 599 {
			return nil, errors.New("method and a 4xx or 5xx status are required")
		}
		s.FailNext(f.Method, f.Status, f.Count, time.Duration(f.RetryAfter)*time.Second)
		return struct{}{}, nil
	})
	handleControl(mux, "POST /control/refuse", func(f refuse) (any, error) {
		switch {
		case f.Code == 0:
			s.Accept(f.ChatID)
		case f.Code == http.StatusForbidden || f.Code == http.StatusBadRequest:
			s.Refuse(f.ChatID, Refusal{Code: f.Code, MigrateTo: f.MigrateTo})
		default:
			return nil, errors.New("code must be 403, 400 or 0")
		}
		return struct{}{}, nil
	})
}

func decodeControl(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		controlError(w, http.StatusBadRequest, "bad json: "+err.Error())
		return false
	}
	return true
}

func controlError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// interactionRoutes are the control routes for buttons, inline mode and members.
func (s *Server) interactionRoutes(mux *http.ServeMux) {
	type press struct {
		ChatID    int64  `json:"chat_id"`
		UserID    int64  `json:"user_id"`
		MessageID int64  `json:"message_id"`
		Data      string `json:"data"`
	}
	type inline struct {
		UserID   int64  `json:"user_id"`
		Query    string `json:"query"`
		ChatType string `json:"chat_type"`
	}
	type member struct {
		ChatID int64  `json:"chat_id"`
		UserID int64  `json:"user_id"`
		Status string `json:"status"`
	}
	handleControl(mux, "POST /control/press", func(p press) (any, error) {
		return map[string]string{"query_id": s.Press(p.ChatID, p.UserID, p.MessageID, p.Data)}, nil
	})
	handleControl(mux, "POST /control/inline", func(q inline) (any, error) {
		return map[string]string{"query_id": s.Inline(q.UserID, q.Query, q.ChatType)}, nil
	})
	handleControl(mux, "POST /control/member", func(m member) (any, error) {
		s.SetMember(m.ChatID, m.UserID, m.Status)
		return struct{}{}, nil
	})
	mux.HandleFunc("GET /control/answers", func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"callbacks": slices.Clone(s.answers), "inline": slices.Clone(s.inlineAs)})
	})
}

// handleControl registers a control route that decodes a JSON T and answers
// what f returns; an error from f is the caller's mistake, answered 400.
func handleControl[T any](mux *http.ServeMux, pattern string, f func(T) (any, error)) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		var v T
		if !decodeControl(w, r, &v) {
			return
		}
		answer, err := f(v)
		if err != nil {
			controlError(w, http.StatusBadRequest, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, answer)
	})
}
