package telegram

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
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
// 200 for an update once the journal has committed it (or already had it),
// and for an ignored one. A full queue, a failing journal or a pipeline
// that is not running answers 503 with Retry-After: 1, so Telegram delivers
// the update again. Only POST is allowed (405).
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
			b.count(sourceWebhook, outcomeUnauthorized, 1)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		u, outcome := b.decodeUpdate(w, r)
		if outcome == "" {
			outcome = b.admit(r.Context(), sourceWebhook, []Update{u}, time.Now()).outcome
		} else {
			b.count(sourceWebhook, outcome, 1)
		}
		switch outcome {
		case outcomeAccepted, outcomeDuplicate, outcomeIgnored:
			w.WriteHeader(http.StatusOK)
		case outcomeTooLarge:
			http.Error(w, "update too large", http.StatusRequestEntityTooLarge)
		case outcomeMalformed:
			http.Error(w, "malformed update", http.StatusBadRequest)
		default: // queue full, journal failing, not running
			w.Header().Set("Retry-After", "1")
			http.Error(w, "busy, retry", http.StatusServiceUnavailable)
		}
	})
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
	u, err := decodeBody(body)
	if err != nil {
		return Update{}, outcomeMalformed
	}
	return u, ""
}

// RegisterWebhook points Telegram at rawURL with our secret, for the
// AllowedUpdates types. Readiness in webhook mode waits for it.
func (b *Bot) RegisterWebhook(ctx context.Context, rawURL string) error {
	if b.cfg.Mode != ModeWebhook {
		return errors.New("telegram: register webhook: bot is in polling mode")
	}
	u, err := url.Parse(rawURL)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return fmt.Errorf("telegram: register webhook: %q is not an absolute URL", rawURL)
	}
	err = b.api.SetWebhook(ctx, Webhook{URL: rawURL, Secret: b.cfg.WebhookSecret, AllowedUpdates: AllowedUpdates()})
	if err != nil {
		return fmt.Errorf("telegram: register webhook: %w", err)
	}
	b.webhookOn.Store(true)
	b.log.InfoContext(ctx, "telegram webhook registered", "host", u.Host)
	return nil
}
