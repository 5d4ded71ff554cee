package main

import (
	"html"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Reply kinds: what a command's answer looks like, told apart by its first
// line, so a fast answer that overtakes a slow one in the same chat is
// still credited to the right request.
const (
	kindPrice       = "price"
	kindOI          = "oi"
	kindFunding     = "funding"
	kindAnalysis    = "analysis"
	kindHelp        = "help"
	kindUnknown     = "unknown"      // unknown command
	kindText        = "text"         // plain text in a private chat
	kindUsage       = "usage"        // a command without its argument
	kindUnknownPair = "unknown-pair" // a symbol that is not listed
)

var pairLine = regexp.MustCompile(`^[A-Z0-9]+-[A-Z0-9]+( perp)? · `)

// classify names the kind of a reply from its first line, or returns "" for
// a reply that looks like none of them (an error message, say).
func classify(text string) string {
	first, _, _ := strings.Cut(text, "\n")
	first = strings.TrimSpace(html.UnescapeString(stripTags(first)))
	switch {
	case strings.HasPrefix(first, "Unknown command"):
		return kindUnknown
	case strings.HasPrefix(first, "Unknown pair"):
		return kindUnknownPair
	case strings.HasPrefix(first, "🔔 Alert #"):
		return kindAlert
	case strings.HasPrefix(first, "Usage:"):
		return kindUsage
	case strings.HasPrefix(first, "I answer commands"):
		return kindText
	case first == "Commands":
		return kindHelp
	case strings.HasPrefix(first, "📊") && strings.HasSuffix(first, " analysis"):
		return kindAnalysis
	case strings.HasSuffix(first, " perp funding"):
		return kindFunding
	case strings.Contains(first, " open interest"):
		return kindOI
	case pairLine.MatchString(first):
		return kindPrice
	}
	return ""
}

// stripTags drops HTML tags; entities are left for html.UnescapeString.
func stripTags(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>' && in:
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return b.String()
}

type pending struct {
	kind  string
	at    time.Time
	press *pressWait // a press's wait for its edit
}

// matcher pairs replies with requests. Each chat's requests wait in a FIFO;
// a reply takes the oldest request of its own kind, or the oldest request
// when its kind is unknown or none is waiting (counted as mismatched). A
// reply to a chat with nothing waiting is a duplicate. Not safe for
// concurrent use.
type matcher struct {
	chats      map[int64][]pending
	waiting    int
	sent       int
	answered   int
	duplicated int
	mismatched int
	examples   map[string]int // first lines of mismatched replies, at most maxExamples
	latencies  []time.Duration
	first      time.Time // first request
	last       time.Time // last answer

	byKind  map[string]*kindStats   // per request kind
	queries map[string]pending      // inline and callback query ids waiting for their answer
	presses map[msgKey][]*pressWait // per pressed message, in injection order
	edits   []time.Duration         // press → editMessageText of the pressed message
}

// pressWait is a press waiting for the edit it may cause.
type pressWait struct {
	at, answered time.Time // answered: zero until its answerCallbackQuery is seen
}

// msgKey is a message of a chat.
type msgKey struct{ chat, message int64 }

// kindStats are one request kind's counts and latencies.
type kindStats struct {
	sent, answered int
	latencies      []time.Duration
}

func newMatcher() *matcher {
	return &matcher{chats: map[int64][]pending{}, examples: map[string]int{}, byKind: map[string]*kindStats{},
		queries: map[string]pending{}, presses: map[msgKey][]*pressWait{}}
}

func (m *matcher) kind(k string) *kindStats {
	ks := m.byKind[k]
	if ks == nil {
		ks = &kindStats{}
		m.byKind[k] = ks
	}
	return ks
}

// request records a request of kind sent to chat at at.
func (m *matcher) request(chat int64, kind string, at time.Time) {
	m.sent1(kind, at)
	m.chats[chat] = append(m.chats[chat], pending{kind: kind, at: at})
}

func (m *matcher) sent1(kind string, at time.Time) {
	if m.sent == 0 {
		m.first = at
	}
	m.sent++
	m.waiting++
	m.kind(kind).sent++
}

// query records an inline or callback query id of kind injected at at;
// a press also waits for the edit of message msg.
func (m *matcher) query(id, kind string, at time.Time, msg msgKey) {
	m.sent1(kind, at)
	p := pending{kind: kind, at: at}
	if kind == kindPress {
		p.press = &pressWait{at: at}
		m.presses[msg] = append(m.presses[msg], p.press)
	}
	m.queries[id] = p
}

// answer records the answer to query id received at at: an id answered
// twice, or never injected, is a duplicate.
func (m *matcher) answer(id string, at time.Time) {
	p, ok := m.queries[id]
	if !ok {
		m.duplicated++
		return
	}
	delete(m.queries, id)
	if p.press != nil {
		p.press.answered = at
	}
	m.done(p, at)
}

// edit records an edit of msg at at: it belongs to the oldest press on msg
// injected before it and not answered before it (the bot edits, then
// answers; a press that found nothing new was answered without an edit).
// collect feeds edits before answers, so a press answered in the same
// batch is still a candidate.
func (m *matcher) edit(msg msgKey, at time.Time) {
	q := m.presses[msg]
	for len(q) > 0 && !q[0].answered.IsZero() && q[0].answered.Before(at) {
		q = q[1:]
	}
	if len(q) == 0 || q[0].at.After(at) {
		m.presses[msg] = q
		return
	}
	m.edits = append(m.edits, max(at.Sub(q[0].at), 0))
	q = q[1:]
	if len(q) == 0 {
		delete(m.presses, msg)
	} else {
		m.presses[msg] = q
	}
}

// done counts request p answered at at.
func (m *matcher) done(p pending, at time.Time) {
	m.waiting--
	m.answered++
	d := max(at.Sub(p.at), 0)
	m.latencies = append(m.latencies, d)
	ks := m.kind(p.kind)
	ks.answered++
	ks.latencies = append(ks.latencies, d)
	if at.After(m.last) {
		m.last = at
	}
}

// reply records a reply with text received in chat at at.
func (m *matcher) reply(chat int64, text string, at time.Time) {
	q := m.chats[chat]
	if len(q) == 0 {
		m.duplicated++
		return
	}
	i, kind := -1, classify(text)
	if kind != "" {
		for j, p := range q {
			if p.kind == kind {
				i = j
				break
			}
		}
	}
	if i < 0 {
		i = 0
		m.mismatched++
		m.noteMismatch(text)
	}
	p := q[i]
	if len(q) == 1 {
		delete(m.chats, chat)
	} else {
		m.chats[chat] = slices.Delete(q, i, i+1)
	}
	m.done(p, at)
}

// maxExamples bounds the distinct mismatched first lines kept.
const maxExamples = 5

// noteMismatch counts the first line of a reply that fit no waiting request,
// so a report can say what the bot answered instead (an error, a refusal).
func (m *matcher) noteMismatch(text string) {
	first, _, _ := strings.Cut(text, "\n")
	first = strings.TrimSpace(html.UnescapeString(stripTags(first)))
	if _, ok := m.examples[first]; ok || len(m.examples) < maxExamples {
		m.examples[first]++
	}
}
