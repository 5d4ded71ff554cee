package telegram

import (
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/cryptobot-dev/cryptobot/modules"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		bot      string
		wantCmd  string
		wantArgs []string
		wantOK   bool
	}{
		{name: "addressed to us", text: "/price@OurBot btc", bot: "OurBot", wantCmd: "price", wantArgs: []string{"btc"}, wantOK: true},
		{name: "upper case command", text: "/PRICE btc", bot: "OurBot", wantCmd: "price", wantArgs: []string{"btc"}, wantOK: true},
		{name: "bot name any case", text: "/price@ourbot", bot: "OurBot", wantCmd: "price", wantOK: true},
		{name: "bot name given with @", text: "/price@OurBot", bot: "@OurBot", wantCmd: "price", wantOK: true},
		{name: "other bot", text: "/price@OtherBot btc", bot: "OurBot"},
		{name: "empty bot after @", text: "/price@ btc", bot: "OurBot"},
		{name: "addressed but our name unknown", text: "/price@OurBot", bot: ""},
		{name: "unaddressed with unknown name", text: "/price eth", bot: "", wantCmd: "price", wantArgs: []string{"eth"}, wantOK: true},
		{name: "no slash", text: "price btc", bot: "OurBot"},
		{name: "leading space", text: " /price", bot: "OurBot"},
		{name: "slash alone", text: "/", bot: "OurBot"},
		{name: "slash then space", text: "/ price", bot: "OurBot"},
		{name: "empty", text: "", bot: "OurBot"},
		{name: "invalid command chars", text: "/usr/bin/env", bot: "OurBot"},
		{name: "non latin command", text: "/цена btc", bot: "OurBot"},
		{name: "command too long", text: "/" + strings.Repeat("a", 33), bot: "OurBot"},
		{name: "32 chars is fine", text: "/" + strings.Repeat("a", 32), bot: "OurBot", wantCmd: strings.Repeat("a", 32), wantOK: true},
		{name: "args split on any whitespace", text: "/price\tbtc \n eth  ", bot: "OurBot", wantCmd: "price", wantArgs: []string{"btc", "eth"}, wantOK: true},
		{name: "newline after command", text: "/start\nhello", bot: "OurBot", wantCmd: "start", wantArgs: []string{"hello"}, wantOK: true},
		{name: "args keep their case", text: "/price BTC-usdt", bot: "OurBot", wantCmd: "price", wantArgs: []string{"BTC-usdt"}, wantOK: true},
		{name: "underscore and digits", text: "/oi_24h", bot: "OurBot", wantCmd: "oi_24h", wantOK: true},
		// Issue 13.6: invisible format characters and compatibility forms.
		{name: "RTL marks around the symbol", text: "/price \u200fBTC\u200e", bot: "OurBot", wantCmd: "price", wantArgs: []string{"BTC"}, wantOK: true},
		{name: "zero-width space inside the symbol", text: "/price b\u200btc", bot: "OurBot", wantCmd: "price", wantArgs: []string{"btc"}, wantOK: true},
		{name: "leading BOM", text: "\ufeff/price btc", bot: "OurBot", wantCmd: "price", wantArgs: []string{"btc"}, wantOK: true},
		{name: "zero-width space after the command", text: "/price\u200b btc", bot: "OurBot", wantCmd: "price", wantArgs: []string{"btc"}, wantOK: true},
		{name: "full-width letters", text: "／ｐｒｉｃｅ　ＢＴＣ", bot: "OurBot", wantCmd: "price", wantArgs: []string{"BTC"}, wantOK: true},
		{name: "word joiner in the bot name", text: "/price@Our\u2060Bot eth", bot: "OurBot", wantCmd: "price", wantArgs: []string{"eth"}, wantOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd, args, ok := ParseCommand(tt.text, tt.bot)
			if cmd != tt.wantCmd || !slices.Equal(args, tt.wantArgs) || ok != tt.wantOK {
				t.Errorf("ParseCommand(%q, %q) = %q, %q, %v; want %q, %q, %v",
					tt.text, tt.bot, cmd, args, ok, tt.wantCmd, tt.wantArgs, tt.wantOK)
			}
		})
	}
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"/price@OurBot btc", "/PRICE", "/x@y z", "hello", "/", "/a\u00a0b", "/price@OurBot\x00", "\ufeff/price b\u200btc", "／ｐｒｉｃｅ"} {
		f.Add(s, "OurBot")
	}
	f.Fuzz(func(t *testing.T, text, bot string) {
		cmd, args, ok := ParseCommand(text, bot)
		text = cleanText(text)
		if !ok {
			if cmd != "" || args != nil {
				t.Fatalf("not ok but returned %q %q", cmd, args)
			}
			return
		}
		if !strings.HasPrefix(text, "/") {
			t.Fatalf("ok for %q without a leading slash", text)
		}
		if !modules.ValidCommandName(cmd) {
			t.Fatalf("invalid command name %q from %q", cmd, text)
		}
		for _, a := range args {
			if a == "" || strings.IndexFunc(a, unicode.IsSpace) >= 0 {
				t.Fatalf("arg %q holds whitespace or is empty (text %q)", a, text)
			}
		}
		if got := strings.Join(args, ""); got != strings.Join(strings.Fields(text)[1:], "") {
			t.Fatalf("args %q are not the words after the command in %q", args, text)
		}
	})
}
