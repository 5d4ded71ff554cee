package telegramtest

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// htmlTags are the tags of Telegram's HTML parse mode (api#formatting-options).
var htmlTags = map[string]bool{
	"b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true,
	"s": true, "strike": true, "del": true, "span": true, "tg-spoiler": true,
	"a": true, "tg-emoji": true, "code": true, "pre": true, "blockquote": true,
}

var namedEntities = map[string]rune{"lt": '<', "gt": '>', "amp": '&', "quot": '"'}

// parseHTML validates s as Telegram HTML and returns its visible text, or
// the reason it cannot be parsed, worded like the reference server. It is
// stricter than the server in one way: an '&' that does not start an
// entity is rejected instead of kept, so escaping bugs show up in tests.
func parseHTML(s string) (visible, problem string) {
	var out strings.Builder
	var open []string
	for i := 0; i < len(s); {
		switch s[i] {
		case '<':
			end := tagEnd(s, i)
			if end < 0 {
				return "", fmt.Sprintf("Unclosed start tag at byte offset %d", i)
			}
			body, closing := strings.CutPrefix(s[i+1:end], "/")
			name := strings.ToLower(body[:tagNameLen(body)])
			switch {
			case !closing && !htmlTags[name]:
				return "", fmt.Sprintf("Unsupported start tag %q at byte offset %d", name, i)
			case !closing:
				open = append(open, name)
			case len(open) == 0:
				return "", fmt.Sprintf("Unexpected end tag at byte offset %d", i)
			case open[len(open)-1] != name:
				return "", fmt.Sprintf("Unmatched end tag at byte offset %d, expected \"</%s>\", found \"</%s>\"", i, open[len(open)-1], name)
			default:
				open = open[:len(open)-1]
			}
			i = end + 1
		case '&':
			r, n := entity(s[i:])
			if n == 0 {
				return "", fmt.Sprintf("Unsupported entity at byte offset %d: escape '&' as &amp;", i)
			}
			out.WriteRune(r)
			i += n
		default:
			_, n := utf8.DecodeRuneInString(s[i:])
			out.WriteString(s[i : i+n])
			i += n
		}
	}
	if len(open) > 0 {
		return "", fmt.Sprintf("Can't find end tag corresponding to start tag %q", open[len(open)-1])
	}
	return out.String(), ""
}

// tagEnd returns the index of the '>' closing the tag at s[i], skipping
// quoted attribute values, or -1.
func tagEnd(s string, i int) int {
	var quote byte
	for j := i + 1; j < len(s); j++ {
		switch c := s[j]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return j
		}
	}
	return -1
}

func tagNameLen(s string) int {
	n := 0
	for n < len(s) && (s[n] == '-' || s[n] >= '0' && s[n] <= '9' || s[n]|0x20 >= 'a' && s[n]|0x20 <= 'z') {
		n++
	}
	return n
}

// entity decodes the entity at the start of s (&lt; &#60; &#x3C;) and
// returns it with its length in bytes, or n == 0 if s does not start one.
func entity(s string) (r rune, n int) {
	semi := strings.IndexByte(s, ';')
	if semi < 2 || semi > 10 {
		return 0, 0
	}
	name := s[1:semi]
	if r, ok := namedEntities[name]; ok {
		return r, semi + 1
	}
	num, ok := strings.CutPrefix(name, "#")
	if !ok {
		return 0, 0
	}
	base := 10
	if hex, isHex := strings.CutPrefix(num, "x"); isHex {
		num, base = hex, 16
	}
	v, err := strconv.ParseUint(num, base, 32)
	if err != nil || !utf8.ValidRune(rune(v)) {
		return 0, 0
	}
	return rune(v), semi + 1
}

// utf16Len is a text's length as Telegram counts it.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}
