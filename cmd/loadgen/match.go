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

var pairLine = regexp.MustCompile(`^[A-Z0-9]+-[A-Z0-9]+ · `)

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
	kind string
	at   time.Time
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
}

func newMatcher() *matcher {
	return &matcher{chats: map[int64][]pending{}, examples: map[string]int{}}
}

// request records a request of kind sent to chat at at.
func (m *matcher) request(chat int64, kind string, at time.Time) {
	if m.sent == 0 {
		m.first = at
	}
	m.chats[chat] = append(m.chats[chat], pending{kind: kind, at: at})
	m.sent++
	m.waiting++
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
	m.waiting--
	m.answered++
	m.latencies = append(m.latencies, max(at.Sub(p.at), 0))
	if at.After(m.last) {
		m.last = at
	}
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
