package telegram

import (
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func TestSplitHTML(t *testing.T) {
	const href = `<a href="https://x.y/?a=1&amp;b=2">`
	tests := []struct {
		name  string
		in    string
		limit int
		want  []string
	}{
		{name: "fits", in: "<b>hi</b> there", limit: 4096, want: []string{"<b>hi</b> there"}},
		{name: "empty", in: "", limit: 4096, want: []string{""}},
		{name: "line ends first", in: "aaaa\nbbbb\ncccc", limit: 10, want: []string{"aaaa\nbbbb\n", "cccc"}},
		{name: "then spaces", in: "aaa bbb ccc", limit: 8, want: []string{"aaa bbb ", "ccc"}},
		{name: "hard split of a long word", in: "abcdefghij", limit: 4, want: []string{"abcd", "efgh", "ij"}},
		{name: "bold re-opened", in: "<b>aaaa\nbbbb</b>", limit: 6, want: []string{"<b>aaaa\n</b>", "<b>bbbb</b>"}},
		{name: "entity never split", in: "abcd&amp;e", limit: 4, want: []string{"abcd", "&amp;e"}},
		{name: "entity counts one", in: "&lt;&lt;&lt;&lt;", limit: 4, want: []string{"&lt;&lt;&lt;&lt;"}},
		{name: "astral runes count two", in: "😀😀😀", limit: 4, want: []string{"😀😀", "😀"}},
		{name: "attributes re-opened", in: href + "aaaa bbbb</a>", limit: 5, want: []string{href + "aaaa </a>", href + "bbbb</a>"}},
		{
			name: "nested pre and code", in: "<pre><code class=\"language-go\">aaaa\nbbbb</code></pre>", limit: 5,
			want: []string{"<pre><code class=\"language-go\">aaaa\n</code></pre>", "<pre><code class=\"language-go\">bbbb</code></pre>"},
		},
		{name: "close tag after a cut stays before it", in: "<b>aaa\n</b>bbbb", limit: 4, want: []string{"<b>aaa\n</b>", "bbbb"}},
		{name: "open tag before a hard cut moves after it", in: "abcd<b>efgh</b>", limit: 4, want: []string{"abcd", "<b>efgh</b>"}},
		{name: "stray angle bracket is text", in: "a < b > c", limit: 4, want: []string{"a < ", "b > ", "c"}},
		{name: "unmatched close tag passes through", in: "ab</i>cdef", limit: 4, want: []string{"ab</i>cd", "ef"}},
		{name: "limit raised to 2", in: "abcde", limit: 1, want: []string{"ab", "cd", "e"}},
		{name: "deep nesting split as plain text", in: strings.Repeat("<b>", 17) + "a &lt; d" + strings.Repeat("</b>", 17), limit: 3,
			want: []string{"a ", "&lt; d"}},
		{name: "16 levels kept", in: strings.Repeat("<b>", 16) + "ab" + strings.Repeat("</b>", 16), limit: 2,
			want: []string{strings.Repeat("<b>", 16) + "ab" + strings.Repeat("</b>", 16)}},
		{name: "malformed numeric entity is text", in: "&#39amp;", limit: 4, want: []string{"&#39", "amp;"}},
		{name: "numeric astral entity counts two", in: "ab&#x1F600;c", limit: 3, want: []string{"ab", "&#x1F600;c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SplitHTML(tt.in, tt.limit)
			if !slices.Equal(got, tt.want) {
				t.Errorf("SplitHTML(%q, %d)\n got %q\nwant %q", tt.in, tt.limit, got, tt.want)
			}
		})
	}
}

func TestStripHTML(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{name: "tags dropped", in: "<b>BTC</b> <i>up</i>", want: "BTC up"},
		{name: "entities decoded", in: "a &lt;b&gt; &amp; &quot;c&quot; &#128512; &#x41;", want: `a <b> & "c" 😀 A`},
		{name: "link text kept", in: `<a href="https://x.y">site</a>`, want: "site"},
		{name: "stray characters kept", in: "1 < 2 & 3 > 2", want: "1 < 2 & 3 > 2"},
		{name: "unknown entity kept", in: "&bogus; &", want: "&bogus; &"},
		{name: "only Telegram's named entities", in: "&apos; &nbsp; &amp;", want: "&apos; &nbsp; &"},
		{name: "malformed numeric entities kept", in: "&#39amp; &#; &#x; &#123456789;", want: "&#39amp; &#; &#x; &#123456789;"},
		{name: "invalid code points decode to U+FFFD", in: "&#0; &#xD800; &#x110000; &#xFFFFFFFF;", want: "\uFFFD \uFFFD \uFFFD \uFFFD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := StripHTML(tt.in); got != tt.want {
				t.Errorf("StripHTML(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// longReply is a 10k-character reply the way handlers write them: headers,
// escaped text, a link and <pre> blocks, one longer than a message.
func longReply() string {
	var b strings.Builder
	b.WriteString("<b>Market report</b>\n")
	for i := range 40 {
		fmt.Fprintf(&b, "Pair %02d: <code>BTC-USDT</code> price 64&#39;%03d.50 &amp; rising &lt;fast&gt;\n", i, i*7)
	}
	b.WriteString(`<a href="https://example.com/?a=1&amp;b=2">source</a>` + "\n")
	b.WriteString("<pre><code class=\"language-text\">")
	for i := range 120 {
		fmt.Fprintf(&b, "%03d | open 64000.%02d | close 64100.%02d | vol 1234 &lt;x&gt;\n", i, i%100, (i*3)%100)
	}
	b.WriteString("</code></pre>\n<i>Funding</i>: ")
	b.WriteString(strings.Repeat("word ", 400))
	b.WriteString("\n<pre>short block</pre>\nend")
	return b.String()
}

func TestSplitLongReply(t *testing.T) {
	in := longReply()
	if n := visibleLen(in); n < 10000 {
		t.Fatalf("test input has %d visible units, want ≥ 10000", n)
	}
	chunks := SplitHTML(in, MaxMessageLen)
	if len(chunks) < 3 {
		t.Fatalf("got %d chunks, want at least 3", len(chunks))
	}
	var joined strings.Builder
	for i, c := range chunks {
		if n := visibleLen(c); n > MaxMessageLen || n == 0 {
			t.Errorf("chunk %d has %d visible units, want 1..%d", i, n, MaxMessageLen)
		}
		if err := wellFormed(c); err != nil {
			t.Errorf("chunk %d is not balanced HTML: %v", i, err)
		}
		joined.WriteString(StripHTML(c))
	}
	if joined.String() != StripHTML(in) {
		t.Error("the chunks' text, concatenated, differs from the input's text")
	}

	var golden strings.Builder
	for i, c := range chunks {
		fmt.Fprintf(&golden, "===== chunk %d: %d units =====\n%s\n", i+1, visibleLen(c), c)
	}
	checkGolden(t, "split_long_reply.golden", golden.String())
}

// wellFormed checks that s parses as balanced markup; Telegram's HTML subset
// with only &lt; &gt; &amp; &quot; and numeric entities is valid XML.
func wellFormed(s string) error {
	d := xml.NewDecoder(strings.NewReader("<root>" + s + "</root>"))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run with -update to accept):\n%s", path, got)
	}
}

func FuzzSplitHTML(f *testing.F) {
	f.Add("<b>aaaa\nbbbb</b>", uint16(6))
	f.Add(`<a href="x>y">a b c</a>&amp;&#128512;`, uint16(4))
	f.Add("<pre><code>x\ny\nz</code></pre> < & &lt", uint16(5))
	f.Add(longReply()[:3000], uint16(300))
	f.Fuzz(func(t *testing.T, s string, lim uint16) {
		limit := 4 + int(lim%300)
		chunks := SplitHTML(s, limit)
		var joined strings.Builder
		for i, c := range chunks {
			if n := visibleLen(c); n > limit {
				t.Fatalf("chunk %d has %d units, limit %d: %q", i, n, limit, c)
			}
			joined.WriteString(StripHTML(c))
		}
		if joined.String() != StripHTML(s) {
			t.Fatalf("text not preserved:\n in %q\nout %q", StripHTML(s), joined.String())
		}
	})
}

func BenchmarkSplit(b *testing.B) {
	in := longReply()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		SplitHTML(in, MaxMessageLen)
	}
}
