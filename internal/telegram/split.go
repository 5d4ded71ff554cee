package telegram

import (
	"html"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Telegram's limits, counted after entity parsing. We count UTF-16 code
// units, which is what Telegram's clients count and never less than runes.
const (
	MaxMessageLen = 4096
	MaxCaptionLen = 1024
)

type tokKind int

const (
	tokChar  tokKind = iota // one rune, or a stray '<' or '&'
	tokEnt                  // a well-formed entity: &name; &#N; &#xH;
	tokOpen                 // <b>, <a href="…">
	tokClose                // </b>
)

// token is one indivisible piece of Telegram HTML. A split never falls inside one.
type token struct {
	kind  tokKind
	end   int    // byte offset just past the token
	units int    // visible UTF-16 code units (0 for tags)
	r     rune   // the rune of a tokChar, the decoded one of a tokEnt
	name  string // lower-case tag name of tokOpen/tokClose
}

// nextToken reads the token starting at s[i]. Anything that does not form a
// tag or an entity is plain text, so malformed input never panics.
func nextToken(s string, i int) token {
	switch c := s[i]; {
	case c < utf8.RuneSelf && c != '<' && c != '&':
		return token{kind: tokChar, end: i + 1, units: 1, r: rune(c)}
	case c == '<':
		if end, name, closing, ok := scanTag(s, i); ok {
			kind := tokOpen
			if closing {
				kind = tokClose
			}
			return token{kind: kind, end: end, name: name}
		}
	case c == '&':
		if end, r, ok := scanEntity(s, i); ok {
			return token{kind: tokEnt, end: end, units: utf16.RuneLen(r), r: r}
		}
	}
	r, size := utf8.DecodeRuneInString(s[i:])
	units := utf16.RuneLen(r)
	if units < 1 {
		units = 1 // invalid UTF-8 byte; Telegram would reject it anyway
	}
	return token{kind: tokChar, end: i + size, units: units, r: r}
}

// maxNesting is the deepest markup SplitHTML keeps.
const maxNesting = 16

// maxTagLen bounds the look-ahead for a tag's '>', so text full of stray
// '<' stays linear.
const maxTagLen = 2048

// scanTag recognises <name …> and </name>, honouring quoted attribute values.
func scanTag(s string, i int) (end int, name string, closing bool, ok bool) {
	s = s[:min(len(s), i+maxTagLen)]
	j := i + 1
	if j < len(s) && s[j] == '/' {
		closing = true
		j++
	}
	start := j
	for j < len(s) && (isASCIILetter(s[j]) || s[j] == '-' || (j > start && isDigit(s[j]))) {
		j++
	}
	if j == start {
		return 0, "", false, false
	}
	name = strings.ToLower(s[start:j])
	var quote byte
	for ; j < len(s); j++ {
		c := s[j]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '<':
			return 0, "", false, false
		case c == '>':
			return j + 1, name, closing, true
		}
	}
	return 0, "", false, false
}

// scanEntity recognises the entities Telegram accepts: &lt; &gt; &amp;
// &quot; and numeric ones (&#39; &#x1F600;), and decodes each to its one
// character; a numeric entity that is no valid character decodes to
// U+FFFD. Anything else is plain text, as Telegram would not decode it
// either. (Not html.UnescapeString: its first call builds a 110 KB table of
// named entities that Telegram does not accept.)
func scanEntity(s string, i int) (end int, r rune, ok bool) {
	rest := s[i+1:]
	for _, e := range [...]struct {
		name string
		r    rune
	}{{"lt;", '<'}, {"gt;", '>'}, {"amp;", '&'}, {"quot;", '"'}} {
		if strings.HasPrefix(rest, e.name) {
			return i + 1 + len(e.name), e.r, true
		}
	}
	if !strings.HasPrefix(rest, "#") {
		return 0, 0, false
	}
	j, base := 1, 10
	if j < len(rest) && rest[j]|0x20 == 'x' {
		j, base = 2, 16
	}
	digits := j
	for j < len(rest) && j-digits < 8 && (isDigit(rest[j]) || base == 16 && isHexLetter(rest[j])) {
		j++
	}
	if j == digits || j == len(rest) || rest[j] != ';' {
		return 0, 0, false
	}
	r = utf8.RuneError
	if n, err := strconv.ParseUint(rest[digits:j], base, 32); err == nil && n != 0 && utf8.ValidRune(rune(n)) {
		r = rune(n)
	}
	return i + 2 + j, r, true
}

func isDigit(c byte) bool     { return c >= '0' && c <= '9' }
func isHexLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'f' }

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// openTag is an element open at some point of the text, kept to re-open it
// at the start of the next chunk.
type openTag struct {
	name string
	raw  string // the original open tag with its attributes
}

// cut is a place where a chunk may end.
type cut struct {
	pos   int // byte offset in the input
	units int // visible units from the chunk start to pos
	stack []openTag
	valid bool
}

func (c *cut) set(pos, units int, stack []openTag) {
	c.pos, c.units, c.valid = pos, units, true
	c.stack = append(c.stack[:0], stack...)
}

// SplitHTML splits Telegram HTML into chunks of at most limit visible UTF-16
// code units. It prefers line ends, then spaces, and hard-splits a line with
// neither; it never splits inside a tag or an entity. Elements open at a
// split are closed at the end of the chunk and re-opened, with their
// attributes, at the start of the next, so every chunk is balanced when the
// input is. The visible text of the chunks, concatenated, is that of the
// input. Limits below 2 (one astral character) are raised to 2. When text
// that must be split nests markup deeper than 16 elements, which no reply
// needs and which would be repeated in every chunk, the markup is dropped
// and the text is split as escaped plain text instead.
// It is one function over 80 lines because the scan keeps the open-element
// stack, the chunk and the break candidates in step; split apart, the parts
// would share all of that state.
func SplitHTML(s string, limit int) []string {
	limit = max(limit, 2)
	if len(s) <= limit { // every visible unit takes at least one byte
		return []string{s}
	}
	var (
		chunks     []string
		stack      []openTag
		prefix     string // re-opened tags at the start of the current chunk
		start      int    // byte offset where the current chunk's own text starts
		units      int
		line, word cut // after the last newline / space
		// hard is after the last visible unit or close tag. Only open tags
		// can follow it, so its stack is stack[:hardDepth], not a copy.
		hard      cut
		hardDepth int
	)
	for i := 0; i < len(s); {
		tok := nextToken(s, i)
		switch tok.kind {
		case tokOpen:
			if len(stack) == maxNesting {
				return SplitHTML(html.EscapeString(StripHTML(s)), limit)
			}
			stack = append(stack, openTag{name: tok.name, raw: s[i:tok.end]})
			i = tok.end
			continue
		case tokClose:
			for k := len(stack) - 1; k >= 0; k-- {
				if stack[k].name == tok.name {
					stack = stack[:k]
					break
				}
			}
			// A close tag right after a cut point belongs before the cut, so
			// the next chunk does not start with an empty element.
			for _, c := range []*cut{&line, &word} {
				if c.valid && c.pos == i {
					c.set(tok.end, c.units, stack)
				}
			}
			// Nothing visible lies between hard and here, so hard may move
			// past any close tag, keeping "only opens follow hard" true.
			if hard.valid {
				hard.pos, hardDepth = tok.end, len(stack)
			}
			i = tok.end
			continue
		}
	cutting:
		for units+tok.units > limit {
			hard.stack = stack[:hardDepth]
			c := hard
			switch {
			case line.valid && line.units > 0:
				c = line
			case word.valid && word.units > 0:
				c = word
			case !hard.valid || hard.units == 0:
				// Unreachable while a token is at most 2 units and limit is
				// at least 2; kept so the loop can never spin.
				break cutting
			}
			chunks = append(chunks, prefix+s[start:c.pos]+closeTags(c.stack))
			prefix, start, units = openTags(c.stack), c.pos, units-c.units
			for _, k := range []*cut{&line, &word, &hard} {
				if k.pos <= c.pos {
					k.valid = false
				} else {
					k.units -= c.units
				}
			}
		}
		units += tok.units
		i = tok.end
		hard.pos, hard.units, hard.valid, hardDepth = i, units, true, len(stack)
		if tok.kind == tokChar {
			switch {
			case tok.r == '\n':
				line.set(i, units, stack)
			case unicode.IsSpace(tok.r):
				word.set(i, units, stack)
			}
		}
	}
	return append(chunks, prefix+s[start:])
}

func closeTags(stack []openTag) string {
	var b strings.Builder
	for k := len(stack) - 1; k >= 0; k-- {
		b.WriteString("</" + stack[k].name + ">")
	}
	return b.String()
}

func openTags(stack []openTag) string {
	var b strings.Builder
	for _, t := range stack {
		b.WriteString(t.raw)
	}
	return b.String()
}

// StripHTML turns Telegram HTML into plain text: tags are dropped and
// entities decoded. It is the fallback when Telegram rejects our markup.
func StripHTML(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		tok := nextToken(s, i)
		switch tok.kind {
		case tokChar:
			b.WriteString(s[i:tok.end])
		case tokEnt:
			b.WriteRune(tok.r)
		}
		i = tok.end
	}
	return b.String()
}

// visibleLen is the length Telegram counts for HTML text, in UTF-16 units.
func visibleLen(s string) int {
	n := 0
	for i := 0; i < len(s); {
		tok := nextToken(s, i)
		n += tok.units
		i = tok.end
	}
	return n
}
