package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// maxRetryBackoff caps the doubling webhook retry delay.
const maxRetryBackoff = time.Second

// kickDispatcher wakes the dispatcher; s.mu must be held.
func (s *Server) kickDispatcher() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// dispatch runs one deliverer per chat with queued webhook updates, so a
// failing update holds up only its own chat, as on the real server.
func (s *Server) dispatch(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		}
		s.mu.Lock()
		for chat, q := range s.chats {
			if len(q) > 0 && !s.delivering[chat] && !s.closed {
				s.delivering[chat] = true
				s.wg.Add(1)
				go s.deliver(ctx, chat)
			}
		}
		s.mu.Unlock()
	}
}

// deliver pushes chat's updates in order until its queue is empty. A
// non-2xx answer is retried after a doubling backoff, or after the answer's
// Retry-After (capped); after MaxAttempts the update is dropped.
func (s *Server) deliver(ctx context.Context, chat int64) {
	defer s.wg.Done()
	attempts, backoff := 0, s.opts.RetryBackoff
	for {
		s.mu.Lock()
		q := s.chats[chat]
		if len(q) == 0 {
			delete(s.chats, chat)
			delete(s.delivering, chat)
			s.mu.Unlock()
			return
		}
		u, hook := q[0], s.hook
		s.inflight[chat] = u.UpdateID
		s.mu.Unlock()

		status, retryAfter, err := s.push(ctx, hook, u)
		if ctx.Err() != nil {
			return
		}
		ok := err == nil && status/100 == 2
		s.mu.Lock()
		delete(s.inflight, chat)
		q = s.chats[chat]
		retry := false
		switch {
		case len(q) == 0 || q[0].UpdateID != u.UpdateID:
			// Dropped meanwhile by drop_pending_updates.
		case ok:
			s.chats[chat] = q[1:]
		case s.hook.url == "":
			// The webhook was deleted during the push: back to getUpdates.
			s.chats[chat] = q[1:]
			s.requeue(u)
		default:
			attempts++
			s.hook.lastErrorDate = time.Now().Unix()
			s.hook.lastError = fmt.Sprintf("Wrong response from the webhook: %d %s", status, http.StatusText(status))
			if err != nil {
				s.hook.lastError = "Connection failed: " + err.Error()
			}
			retry = attempts < s.opts.MaxAttempts
			if !retry {
				s.log.Warn("telegramtest: webhook update dropped", "update_id", u.UpdateID, "attempts", attempts, "last_error", s.hook.lastError)
				s.chats[chat] = q[1:]
			}
		}
		s.mu.Unlock()
		if !retry {
			attempts, backoff = 0, s.opts.RetryBackoff
			continue
		}
		wait := backoff
		backoff = min(backoff*2, maxRetryBackoff)
		if retryAfter > 0 {
			wait = min(retryAfter, s.opts.MaxRetryAfter)
		}
		if !s.opts.sleep(ctx, wait) {
			return
		}
	}
}

// push POSTs one update as JSON with the secret header and returns the
// status and any Retry-After (whole seconds). A method in the response
// body is ignored, as the bot never uses that feature.
func (s *Server) push(ctx context.Context, hook webhook, u Update) (status int, retryAfter time.Duration, err error) {
	body, err := json.Marshal(u)
	if err != nil {
		return 0, 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook.url, bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if hook.secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", hook.secret)
	}
	resp, err := s.pushHC.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // drain to reuse the connection
	if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
		retryAfter = time.Duration(secs) * time.Second
	}
	return resp.StatusCode, retryAfter, nil
}
