package modulestest

import (
	"fmt"
	"testing"
)

// recorder captures what CheckHTML reports instead of failing the test.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper()                   {}
func (r *recorder) Errorf(f string, a ...any) { r.errs = append(r.errs, fmt.Sprintf(f, a...)) }

func TestCheckHTML(t *testing.T) {
	for s, ok := range map[string]bool{
		"<b>BTC</b> 1 &lt; 2":          true,
		"<pre>a\n<code>b</code></pre>": true,
		"<i>old</i> &#39;x&#34;":       true,
		"":                             true,
		"1 < 2":                        false,
		"a > b":                        false,
		"AT&T":                         false,
		"<b>open":                      false,
		"<b><i>x</b></i>":              false,
		`<a href="x">x</a>`:            false,
	} {
		r := &recorder{TB: t}
		CheckHTML(r, s)
		if got := len(r.errs) == 0; got != ok {
			t.Errorf("CheckHTML(%q) passed = %v, want %v (%v)", s, got, ok, r.errs)
		}
	}
}
