// Package modulestest holds the checks and fakes every module's tests share:
// golden reply files, Telegram HTML validity, registration, deadline, usage
// and memory-cost checks, and a canned market (Source, Venue). Import it
// from _test.go files only.
package modulestest

import (
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cryptobot-dev/cryptobot/internal/golden"
)

// Golden compares got with testdata/<name>.golden; with -update it rewrites the file.
func Golden(t testing.TB, name, got string) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name+".golden"), got)
}

// entities are the escapes html.EscapeString writes and Telegram accepts.
var entities = map[string]bool{"&lt;": true, "&gt;": true, "&amp;": true, "&quot;": true, "&#34;": true, "&#39;": true}

// CheckHTML fails unless s fits one Telegram message and is HTML that uses
// only <b>, <i>, <code> and <pre>, balanced, with every other '<', '>' and
// '&' escaped. An empty string (a section with nothing to add) passes.
func CheckHTML(t testing.TB, s string) {
	t.Helper()
	if n := utf8.RuneCountInString(s); n >= 4096 {
		t.Errorf("reply is %d characters, want < 4096", n)
	}
	var open []string
	for rest := s; rest != ""; {
		i := strings.IndexAny(rest, "<>&")
		if i < 0 {
			break
		}
		rest = rest[i:]
		switch rest[0] {
		case '>':
			t.Errorf("unescaped '>' in %q", s)
			return
		case '&':
			j := strings.IndexByte(rest, ';')
			if j < 0 || !entities[rest[:j+1]] {
				t.Errorf("bad entity at %q", rest)
				return
			}
			rest = rest[j+1:]
			continue
		}
		j := strings.IndexByte(rest, '>')
		if j < 0 {
			t.Errorf("unterminated tag at %q", rest)
			return
		}
		tag := rest[1:j]
		rest = rest[j+1:]
		switch tag {
		case "b", "i", "code", "pre":
			open = append(open, tag)
		case "/b", "/i", "/code", "/pre":
			if len(open) == 0 || open[len(open)-1] != tag[1:] {
				t.Errorf("unbalanced </%s> in %q", tag[1:], s)
				return
			}
			open = open[:len(open)-1]
		default:
			t.Errorf("tag <%s> not allowed in %q", tag, s)
			return
		}
	}
	if len(open) > 0 {
		t.Errorf("unclosed tags %v in %q", open, s)
	}
}

// HeapInUse is the live heap after a full collection, for memory-cost tests.
func HeapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// Within2x fails unless a module's measured cost and its declared Cost are
// within a factor of two of each other, either way.
func Within2x(t testing.TB, what string, measured, declared uint64) {
	t.Helper()
	t.Logf("%s: measured %d B, declared %d B", what, measured, declared)
	if measured > 2*declared || declared > 2*measured {
		t.Errorf("%s: measured %d B is not within 2x of the declared %d B", what, measured, declared)
	}
}
