package markettest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"
)

// route answers one endpoint with a status and a value to encode as JSON.
type route struct {
	endpoint string
	handle   func(r *http.Request) (int, any)
}

// venue is what differs between the fakes.
type venue interface {
	routes() map[string]route
	// errorBodies are the venue's answers to an injected status.
	errorBodies() errorBodies
	// rateLimited is the venue's rate-limit answer: status and body.
	rateLimited() (int, any)
	// lastField is the ticker's last-price field, which SetLast overrides.
	lastField() string
}

// errorBodies are what a venue answers, besides its rate-limit body, when a
// fault makes it fail with a status.
type errorBodies struct {
	notFound plain // the gateway's 404 page
	server   any   // a 5xx
	other    any   // any other status; nil: the status text
}

// failBody is the venue's body for an injected status: its rate-limit body
// for its rate-limit status, else errorBodies' by class.
func (s *Server) failBody(status int) any {
	if st, body := s.v.rateLimited(); status == st {
		return body
	}
	eb := s.v.errorBodies()
	switch {
	case status == http.StatusNotFound:
		return eb.notFound
	case status >= 500:
		return eb.server
	case eb.other == nil:
		return plain(http.StatusText(status))
	}
	return eb.other
}

// classifier is a venue one of whose paths serves two endpoints (Bybit's
// tickers: one symbol's ticker, or every symbol's last price).
type classifier interface {
	endpointOf(r *http.Request, def string) string
}

// endpoint is the endpoint label of a request on route rt.
func (s *Server) endpoint(rt route, r *http.Request) string {
	if c, ok := s.v.(classifier); ok {
		return c.endpointOf(r, rt.endpoint)
	}
	return rt.endpoint
}

type faultKind int

const (
	faultStatus faultKind = iota
	faultRate
	faultMalformed
)

type fault struct {
	kind       faultKind
	status     int
	retryAfter time.Duration
	n          int
}

// Server is the part every fake venue shares: an httptest.Server on
// 127.0.0.1, a copy of the Book, queued faults and hit counters. It is safe
// for concurrent use.
type Server struct {
	srv    *httptest.Server
	book   Book
	routes map[string]route
	v      venue

	mu     sync.Mutex
	faults []fault
	delay  time.Duration
	hits   map[string]int

	overrides []override // guarded by mu

	done      chan struct{}
	closeOnce sync.Once
}

func newServer(b Book, mk func(b Book, s *Server) venue) *Server {
	s := &Server{book: b.clone(), hits: map[string]int{}, done: make(chan struct{})}
	s.v = mk(s.book, s)
	s.routes = s.withOverrides(s.v.routes())
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve)) // listens on 127.0.0.1
	return s
}

// URL is the base URL to configure a client with.
func (s *Server) URL() string { return s.srv.URL }

// Close ends hanging requests and shuts the server down. It is idempotent.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		s.srv.Close()
	})
}

// Fail makes the next n requests answer status with the venue's error body.
func (s *Server) Fail(status, n int) { s.queue(fault{kind: faultStatus, status: status, n: n}) }

// RateLimit makes the next n requests answer with the venue's rate-limit
// response, carrying Retry-After in whole seconds when retryAfter > 0.
func (s *Server) RateLimit(retryAfter time.Duration, n int) {
	s.queue(fault{kind: faultRate, retryAfter: retryAfter, n: n})
}

// Malformed makes the next n requests answer 200 with a truncated body.
func (s *Server) Malformed(n int) { s.queue(fault{kind: faultMalformed, n: n}) }

// Delay holds every request for d, or until the request's context ends or the
// server closes; 0 turns it off. Use a long d for a hanging venue.
func (s *Server) Delay(d time.Duration) {
	s.mu.Lock()
	s.delay = d
	s.mu.Unlock()
}

// Hits returns how many requests reached endpoint ("ticker", "instruments",
// "open_interest", "oi_history", "funding", "funding_info", "candles",
// "all_prices"),
// faulted ones included.
func (s *Server) Hits(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[endpoint]
}

// Reset clears queued faults, the delay and the hit counters.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults, s.delay, s.hits = nil, 0, map[string]int{}
	s.overrides = nil
}

func (s *Server) queue(f fault) {
	if f.n <= 0 {
		return
	}
	s.mu.Lock()
	s.faults = append(s.faults, f)
	s.mu.Unlock()
}

// admit counts the hit and takes the next queued fault, if any.
func (s *Server) admit(endpoint string) (time.Duration, *fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hits[endpoint]++
	if len(s.faults) == 0 {
		return s.delay, nil
	}
	f := s.faults[0]
	if s.faults[0].n--; s.faults[0].n == 0 {
		s.faults = s.faults[1:]
	}
	return s.delay, &f
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rt, ok := s.routes[r.URL.Path]
	if !ok || r.Method != http.MethodGet {
		writeJSON(w, http.StatusNotFound, s.failBody(http.StatusNotFound), false)
		return
	}
	delay, f := s.admit(s.endpoint(rt, r))
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
	}
	if f != nil {
		switch f.kind {
		case faultStatus:
			writeJSON(w, f.status, s.failBody(f.status), false)
			return
		case faultRate:
			if f.retryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int(f.retryAfter.Round(time.Second)/time.Second)))
			}
			status, body := s.v.rateLimited()
			writeJSON(w, status, body, false)
			return
		}
	}
	status, body := rt.handle(r)
	writeJSON(w, status, body, f != nil && f.kind == faultMalformed)
}

// plain is a body sent as text rather than JSON (gateway error pages).
type plain string

func writeJSON(w http.ResponseWriter, status int, v any, truncate bool) {
	var b []byte
	if p, ok := v.(plain); ok {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		b = []byte(p)
	} else {
		w.Header().Set("Content-Type", "application/json")
		var err error
		if b, err = json.Marshal(v); err != nil {
			status, b = http.StatusInternalServerError, []byte(`{"error":"fake: `+err.Error()+`"}`)
		}
	}
	if truncate {
		b = b[:len(b)/2]
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// Number formatting in the venues' styles.
func dec(v float64) string         { return strconv.FormatFloat(v, 'f', -1, 64) }
func decN(v float64, n int) string { return strconv.FormatFloat(v, 'f', n, 64) }
func ms(t time.Time) int64         { return t.UnixMilli() }
func msStr(t time.Time) string     { return strconv.FormatInt(t.UnixMilli(), 10) }

// limit reads a limit parameter: default when absent, capped at hi; ok is
// false when it is not a positive integer.
// window reads a history request's interval parameter (named param, one of
// ivs) and its limit (def when absent, capped at hi); bad names the
// parameter that does not parse, "" when both do.
func window(r *http.Request, param string, ivs map[string]time.Duration, def, hi int) (iv time.Duration, n int, bad string) {
	iv, ok := ivs[r.URL.Query().Get(param)]
	if !ok {
		return 0, 0, param
	}
	if n, ok = limit(r, def, hi); !ok {
		return 0, 0, "limit"
	}
	return iv, n, ""
}

func limit(r *http.Request, def, hi int) (int, bool) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, false
	}
	return min(n, hi), true
}
