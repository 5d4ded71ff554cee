package telegram

import (
	"errors"
	"net/url"
	"strings"
)

// redactedToken replaces the bot token wherever it would otherwise appear.
const redactedToken = "<redacted>"

// Redact replaces every occurrence of token in s, raw or URL-escaped, with
// "<redacted>". The token is part of every Bot API URL (/bot<token>/method),
// and net/http puts that URL into its errors, so anything derived from a
// request must pass through Redact before it is logged or returned. An empty
// token leaves s unchanged.
func Redact(s, token string) string {
	if token == "" {
		return s
	}
	s = strings.ReplaceAll(s, token, redactedToken)
	for _, esc := range []string{url.PathEscape(token), url.QueryEscape(token)} {
		if esc != token {
			s = strings.ReplaceAll(s, esc, redactedToken)
		}
	}
	return s
}

// redactedError hides the token from Error() while keeping the chain for
// errors.Is and errors.As (context.Canceled, *url.Error, net.Error).
type redactedError struct {
	err   error
	token string
}

func (e *redactedError) Error() string { return Redact(e.err.Error(), e.token) }

// Unwrap skips the wrappers whose text holds the token (the library quotes
// response bodies, which may echo the URL) and returns the first clean one.
func (e *redactedError) Unwrap() error {
	for err := e.err; err != nil; err = errors.Unwrap(err) {
		if msg := err.Error(); Redact(msg, e.token) == msg {
			return err
		}
	}
	return nil
}
