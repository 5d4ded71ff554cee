package telegram

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// SecretHeader carries the webhook secret on every delivery.
const SecretHeader = "X-Telegram-Bot-Api-Secret-Token"

// WebhookHandler is the webhook route (mount it with echo.WrapHandler). It
// checks the secret in constant time (401), caps the body at MaxBody (413),
// rejects malformed JSON or an update without update_id (400), and answers
// 200 at once for an accepted, duplicate or ignored update. A full queue or a
// pipeline that is not running answers 503 with Retry-After: 1, so Telegram
// delivers the update again. Only POST is allowed (405).
func (b *Bot) WebhookHandler() http.Handler {
	want := sha256.Sum256([]byte(b.cfg.WebhookSecret))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		// Hashing first keeps the comparison constant-time in the length too.
		got := sha256.Sum256([]byte(r.Header.Get(SecretHeader)))
		if b.cfg.WebhookSecret == "" || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			b.countWebhook(outcomeUnauthorized)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		u, outcome := b.decodeUpdate(w, r)
		if outcome == "" {
			outcome = b.enqueue(u, sourceWebhook, time.Now())
		} else {
			b.countWebhook(outcome)
		}
		switch outcome {
		case outcomeAccepted, outcomeDuplicate, outcomeIgnored:
			w.WriteHeader(http.StatusOK)
		case outcomeTooLarge:
			http.Error(w, "update too large", http.StatusRequestEntityTooLarge)
		case outcomeMalformed:
			http.Error(w, "malformed update", http.StatusBadRequest)
		default: // queue full, not running
			w.Header().Set("Retry-After", "1")
			http.Error(w, "busy, retry", http.StatusServiceUnavailable)
		}
	})
}

func (b *Bot) countWebhook(outcome string) {
	b.m.UpdatesReceived.WithLabelValues(sourceWebhook, outcome).Inc()
	if outcome == outcomeUnauthorized || outcome == outcomeTooLarge || outcome == outcomeMalformed {
		b.stats.rejected.Add(1)
	}
}

// decodeUpdate reads one update, or returns the outcome that rejects it.
func (b *Bot) decodeUpdate(w http.ResponseWriter, r *http.Request) (Update, string) {
	if r.ContentLength > b.cfg.MaxBody {
		return Update{}, outcomeTooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, b.cfg.MaxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return Update{}, outcomeTooLarge
		}
		return Update{}, outcomeMalformed
	}
	var wire struct {
		UpdateID *int64   `json:"update_id"`
		Message  *Message `json:"message"`
	}
	if err := json.Unmarshal(body, &wire); err != nil || wire.UpdateID == nil {
		return Update{}, outcomeMalformed
	}
	return Update{UpdateID: *wire.UpdateID, Message: wire.Message}, ""
}

// RegisterWebhook points Telegram at rawURL with our secret, for message
// updates only. Readiness in webhook mode waits for it.
func (b *Bot) RegisterWebhook(ctx context.Context, rawURL string) error {
	if b.cfg.Mode != ModeWebhook {
		return errors.New("telegram: register webhook: bot is in polling mode")
	}
	u, err := url.Parse(rawURL)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return fmt.Errorf("telegram: register webhook: %q is not an absolute URL", rawURL)
	}
	err = b.api.SetWebhook(ctx, Webhook{URL: rawURL, Secret: b.cfg.WebhookSecret, AllowedUpdates: []string{"message"}})
	if err != nil {
		return fmt.Errorf("telegram: register webhook: %w", err)
	}
	b.webhookOn.Store(true)
	b.log.InfoContext(ctx, "telegram webhook registered", "host", u.Host)
	return nil
}
