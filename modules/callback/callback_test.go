package callback

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestButtons(t *testing.T) {
	row := Refresh("price", "BTC-USDT")
	if len(row) != 1 || row[0].Text != RefreshLabel || row[0].Data != "1|price|BTC-USDT" {
		t.Errorf("refresh row %+v", row)
	}
	if Refresh("price", strings.Repeat("X", 30)) != nil {
		t.Error("an argument that does not fit must leave the button out")
	}
	ivs := Intervals("chart", "ETH-BTC", "4h")
	var labels []string
	for _, b := range ivs {
		labels = append(labels, b.Text)
	}
	if !slices.Equal(labels, []string{"15m", "1h", "• 4h", "1d"}) || ivs[3].Data != "1|chart|ETH-BTC|1d" {
		t.Errorf("intervals %+v", ivs)
	}
	if kb := Keyboard(nil, row, nil); len(kb) != 1 {
		t.Errorf("keyboard %+v", kb)
	}
	if Keyboard(nil) != nil {
		t.Error("an empty keyboard must be nil")
	}
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		cmd  string
		args []string
		want string
	}{
		{"price", []string{"BTC-USDT"}, "1|price|BTC-USDT"},
		{"chart", []string{"BTC-USDT", "4h"}, "1|chart|BTC-USDT|4h"},
		{"settings", nil, "1|settings"},
		{"settings", []string{"tz", "Europe/Berlin"}, "1|settings|tz|Europe/Berlin"},
	} {
		data, err := Encode(tc.cmd, tc.args...)
		if err != nil || data != tc.want {
			t.Fatalf("Encode(%s %v) = %q, %v; want %q", tc.cmd, tc.args, data, err, tc.want)
		}
		p, err := Decode(data)
		if err != nil || p.Command != tc.cmd || !slices.Equal(p.Args, tc.args) {
			t.Errorf("Decode(%q) = %+v, %v", data, p, err)
		}
	}
}

func TestEncodeRefuses(t *testing.T) {
	for name, args := range map[string][]string{
		"too long":      {strings.Repeat("A", 24), strings.Repeat("B", 24), strings.Repeat("C", 24)},
		"separator":     {"a|b"},
		"empty arg":     {""},
		"space":         {"BTC USDT"},
		"html":          {"<b>"},
		"too many args": {"a", "b", "c", "d", "e", "f", "g"},
	} {
		if data, err := Encode("price", args...); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: Encode = %q, %v; want ErrMalformed", name, data, err)
		}
	}
	if _, err := Encode("Price"); !errors.Is(err, ErrMalformed) {
		t.Errorf("bad command: %v", err)
	}
}

func TestDecodeRejects(t *testing.T) {
	for data, want := range map[string]error{
		"":                             ErrMalformed,
		"refresh:BTC":                  ErrStale, // an unversioned button from before the codec
		"0|price|BTC":                  ErrStale,
		"2|price|BTC":                  ErrStale,
		"1|":                           ErrMalformed,
		"1|Price|BTC":                  ErrMalformed,
		"1|price||BTC":                 ErrMalformed,
		"1|price|BTC|":                 ErrMalformed,
		"1|price|<b>":                  ErrMalformed,
		"1|price|a|b|c|d|e|f|g":        ErrMalformed,
		"1|" + strings.Repeat("a", 70): ErrMalformed,
	} {
		if p, err := Decode(data); !errors.Is(err, want) {
			t.Errorf("Decode(%q) = %+v, %v; want %v", data, p, err, want)
		}
	}
	if Toast(ErrStale) != ToastStale || Toast(ErrMalformed) != ToastInvalid {
		t.Error("toasts")
	}
}

// FuzzDecode: Decode never panics, accepts only what Encode writes, and
// what it accepts encodes back to the same data within Telegram's limit.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{"1|price|BTC-USDT", "1|chart|BTC-USDT|4h", "1|settings|tz|UTC", "2|x", "|", "1||", "1|a|b|c|d|e|f|g"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		p, err := Decode(data)
		if err != nil {
			if !errors.Is(err, ErrStale) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("Decode(%q): unexpected error %v", data, err)
			}
			return
		}
		again, err := Encode(p.Command, p.Args...)
		if err != nil || again != data || len(again) > MaxData {
			t.Fatalf("Decode(%q) = %+v re-encodes to %q, %v", data, p, again, err)
		}
	})
}
