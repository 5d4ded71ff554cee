package market

import (
	"errors"
	"strings"
	"testing"
)

var normalizeCases = []struct {
	name, in string
	want     string // canonical pair; empty when an error is expected
	reason   string // substring of SymbolError.Reason
}{
	{"bare lower", "btc", "BTC-USDT", ""},
	{"bare upper", "BTC", "BTC-USDT", ""},
	{"glued usdt", "btcusdt", "BTC-USDT", ""},
	{"slash", "BTC/USDT", "BTC-USDT", ""},
	{"dash", "btc-usdt", "BTC-USDT", ""},
	{"underscore", "BTC_USDT", "BTC-USDT", ""},
	{"dollar", "$btc", "BTC-USDT", ""},
	{"dollar glued", "$ethusdt", "ETH-USDT", ""},
	{"spaces trimmed", "  btc \t", "BTC-USDT", ""},
	{"cross dash", "ETH-BTC", "ETH-BTC", ""},
	{"cross glued", "ethbtc", "ETH-BTC", ""},
	{"usdc", "ethusdc", "ETH-USDC", ""},
	{"fdusd longest", "ethfdusd", "ETH-FDUSD", ""},
	{"tusd", "btctusd", "BTC-TUSD", ""},
	{"dai", "ethdai", "ETH-DAI", ""},
	{"bnb quote", "solbnb", "SOL-BNB", ""},
	{"eth quote", "bnbeth", "BNB-ETH", ""},
	{"eur", "btceur", "BTC-EUR", ""},
	{"try", "btctry", "BTC-TRY", ""},
	{"brl", "btcbrl", "BTC-BRL", ""},
	{"digits", "1000pepe", "1000PEPE-USDT", ""},
	{"quote alone is a base", "usdc", "USDC-USDT", ""},
	{"fdusd alone", "FDUSD", "FDUSD-USDT", ""},
	{"glued ambiguity splits", "wbtc", "W-BTC", ""},
	{"explicit odd quote kept", "btc/xyz", "BTC-XYZ", ""},
	{"mixed case", "eTh/UsDt", "ETH-USDT", ""},
	{"max length", strings.Repeat("A", 25), strings.Repeat("A", 25) + "-USDT", ""},

	{"empty", "", "", "empty"},
	{"blank", "   ", "", "empty"},
	{"dollar only", "$", "", "empty"},
	{"double dollar", "$$btc", "", "letters and digits"},
	{"usdt alone", "usdt", "", "same"},
	{"same both sides", "btc-btc", "", "same"},
	{"two separators", "btc-usdt-swap", "", "more than one separator"},
	{"inner space", "btc usdt", "", "letters and digits"},
	{"punctuation", "btc!", "", "letters and digits"},
	{"non ascii", "бтц", "", "letters and digits"},
	{"missing base", "-usdt", "", "missing base"},
	{"missing quote", "btc/", "", "missing quote"},
	{"input too long", strings.Repeat("A", 31), "", "longer than 30"},
	{"pair too long", strings.Repeat("A", 26), "", "longer than 30"},
	{"html", "<b>btc</b>", "", "letters and digits"},
}

func TestNormalize(t *testing.T) {
	for _, tc := range normalizeCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Normalize(tc.in)
			if tc.want != "" {
				if err != nil {
					t.Fatalf("Normalize(%q) error %v, want %s", tc.in, err, tc.want)
				}
				if got.String() != tc.want {
					t.Errorf("Normalize(%q) = %s, want %s", tc.in, got, tc.want)
				}
				return
			}
			var se *SymbolError
			if !errors.As(err, &se) {
				t.Fatalf("Normalize(%q) = %v, %v; want *SymbolError", tc.in, got, err)
			}
			if !strings.Contains(se.Reason, tc.reason) {
				t.Errorf("reason %q, want it to contain %q", se.Reason, tc.reason)
			}
			if !errors.Is(err, ErrInvalidSymbol) || !errors.Is(err, ErrUnknownSymbol) {
				t.Errorf("errors.Is(%v, ErrInvalidSymbol|ErrUnknownSymbol) = false", err)
			}
			if se.Input != tc.in {
				t.Errorf("Input = %q, want %q", se.Input, tc.in)
			}
		})
	}
}

func TestSymbolErrorClipsInput(t *testing.T) {
	_, err := Normalize(strings.Repeat("x", 5000))
	if err == nil {
		t.Fatal("want an error for 5000 characters")
	}
	if n := len(err.Error()); n > 100 {
		t.Errorf("error message is %d bytes, want it clipped: %.120s", n, err)
	}
}

func FuzzNormalize(f *testing.F) {
	for _, tc := range normalizeCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		p, err := Normalize(in)
		if err != nil {
			if !errors.Is(err, ErrUnknownSymbol) {
				t.Fatalf("Normalize(%q) error %v does not wrap ErrUnknownSymbol", in, err)
			}
			return
		}
		for _, part := range []string{p.Base, p.Quote} {
			if part == "" {
				t.Fatalf("Normalize(%q) = %#v: empty part", in, p)
			}
			for _, c := range []byte(part) {
				if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
					t.Fatalf("Normalize(%q) = %#v: byte %q", in, p, c)
				}
			}
		}
		if len(p.String()) > MaxSymbolLen {
			t.Fatalf("Normalize(%q) = %s: longer than %d", in, p, MaxSymbolLen)
		}
		again, err := Normalize(p.String())
		if err != nil || again != p {
			t.Fatalf("round trip %q → %s → %v, %v", in, p, again, err)
		}
	})
}
