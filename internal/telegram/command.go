package telegram

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/cryptobot-dev/cryptobot/modules"
)

// cmdKind says what a message's text is to the bot.
type cmdKind int

const (
	cmdNone     cmdKind = iota // plain text, or a slash word that is not a valid command
	cmdOurs                    // a command for this bot
	cmdOtherBot                // a command addressed to another bot with /cmd@other
)

// cleanText drops Unicode format characters (category Cf: RTL and LTR
// marks, zero-width spaces and joiners, a BOM), which are invisible in the
// chat but would make "/price" or "BTC" unrecognisable, then applies NFKC
// so full-width and other compatibility forms read as plain letters.
func cleanText(s string) string {
	ascii := true
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return s // the common case; every Cf and compatibility character is non-ASCII
	}
	s = strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, s)
	return norm.NFKC.String(s)
}

// ParseCommand splits "/price@OurBot btc eth" into ("price", ["btc", "eth"], true).
// The command is lower-cased and must be a name Telegram accepts (letters,
// digits and _, at most 32); the bot name is compared case-insensitively.
// ok is false for text without a leading "/", for an invalid command name and
// for a command addressed to another bot. An empty botUsername matches no
// addressed command, so "/price@Any" is never taken for ours.
func ParseCommand(text, botUsername string) (cmd string, args []string, ok bool) {
	cmd, args, kind := parseCommand(text, botUsername)
	return cmd, args, kind == cmdOurs
}

func parseCommand(text, botUsername string) (string, []string, cmdKind) {
	text = cleanText(text)
	if !strings.HasPrefix(text, "/") {
		return "", nil, cmdNone
	}
	fields := strings.Fields(text)
	head := fields[0][1:] // text starts with "/", so the first field does too
	name, bot, addressed := strings.Cut(head, "@")
	name = strings.ToLower(name)
	if !modules.ValidCommandName(name) {
		return "", nil, cmdNone
	}
	if addressed {
		botUsername = strings.TrimPrefix(botUsername, "@")
		if bot == "" || botUsername == "" || !strings.EqualFold(bot, botUsername) {
			return "", nil, cmdOtherBot
		}
	}
	args := fields[1:]
	if len(args) == 0 {
		args = nil
	}
	return name, args, cmdOurs
}
