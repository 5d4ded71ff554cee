// Package callback is the codec of inline keyboard button data: what a press
// asks for, in at most the 64 bytes Telegram lets a button carry. Data is
// "1|command|arg|arg…": a version, a command name and its arguments. A press
// carries a command and arguments the router validates and runs again (a
// refresh, another interval, a setting), so a button never holds state the
// server must remember. Telegram returns the data of any button a client
// holds, from an older build or forged, so Decode trusts nothing.
package callback

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cryptobot-dev/cryptobot/modules"
)

// Version is the codec version every button of this build carries. Bump it
// when the meaning of existing data changes; old buttons then read as stale.
const Version = "1"

// Limits of the data.
const (
	MaxData = 64 // bytes, Telegram's limit
	MaxArgs = 6
	maxArg  = 24 // bytes per argument
	sep     = "|"
)

// Errors of Decode and Encode. Test with errors.Is.
var (
	ErrStale     = errors.New("callback: data of another version") // a button from an older (or newer) build
	ErrMalformed = errors.New("callback: malformed data")          // forged or corrupt
)

// Press is decoded button data: a command to run with its arguments.
type Press struct {
	Command string
	Args    []string
}

// Encode returns the data for command with args, or an error when it does
// not fit or holds a character the codec does not carry.
func Encode(command string, args ...string) (string, error) {
	if !modules.ValidCommandName(command) {
		return "", fmt.Errorf("%w: command %q", ErrMalformed, command)
	}
	if len(args) > MaxArgs {
		return "", fmt.Errorf("%w: %d arguments, at most %d", ErrMalformed, len(args), MaxArgs)
	}
	for _, a := range args {
		if !validArg(a) {
			return "", fmt.Errorf("%w: argument %q", ErrMalformed, a)
		}
	}
	data := Version + sep + command
	if len(args) > 0 {
		data += sep + strings.Join(args, sep)
	}
	if len(data) > MaxData {
		return "", fmt.Errorf("%w: %d bytes, at most %d", ErrMalformed, len(data), MaxData)
	}
	return data, nil
}

// Decode reads button data. Data of another version is ErrStale; anything
// else that Encode could not have written is ErrMalformed.
func Decode(data string) (Press, error) {
	if len(data) == 0 || len(data) > MaxData {
		return Press{}, fmt.Errorf("%w: %d bytes", ErrMalformed, len(data))
	}
	version, rest, ok := strings.Cut(data, sep)
	if !ok {
		return Press{}, ErrStale // no version at all: a button from before the codec
	}
	if version != Version {
		return Press{}, fmt.Errorf("%w: version %q", ErrStale, shorten(version))
	}
	parts := strings.Split(rest, sep)
	p := Press{Command: parts[0], Args: parts[1:]}
	if !modules.ValidCommandName(p.Command) {
		return Press{}, fmt.Errorf("%w: command", ErrMalformed)
	}
	if len(p.Args) > MaxArgs {
		return Press{}, fmt.Errorf("%w: %d arguments", ErrMalformed, len(p.Args))
	}
	for _, a := range p.Args {
		if !validArg(a) {
			return Press{}, fmt.Errorf("%w: argument", ErrMalformed)
		}
	}
	if len(p.Args) == 0 {
		p.Args = nil
	}
	return p, nil
}

// validArg accepts what pairs, intervals and setting values are made of.
func validArg(a string) bool {
	if a == "" || len(a) > maxArg {
		return false
	}
	for i := 0; i < len(a); i++ {
		c := a[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '_', c == '.', c == '/', c == '+', c == ':':
		default:
			return false
		}
	}
	return true
}

func shorten(s string) string {
	if len(s) > 8 {
		return s[:8] + "…"
	}
	return s
}

// Toasts for presses the router refuses.
const (
	ToastStale   = "This button is from an older version. Send the command again."
	ToastInvalid = "This button does not work. Send the command again."
)

// Toast is the note shown for a Decode error.
func Toast(err error) string {
	if errors.Is(err, ErrStale) {
		return ToastStale
	}
	return ToastInvalid
}

// RefreshLabel is the label of the refresh button.
const RefreshLabel = "🔄 Refresh"

// Button returns a callback button, or false when its data does not encode.
func Button(label, command string, args ...string) (modules.Button, bool) {
	data, err := Encode(command, args...)
	if err != nil {
		return modules.Button{}, false
	}
	return modules.Button{Text: label, Data: data}, true
}

// Refresh is a keyboard row with the refresh button that runs command with
// args again, or nil when they do not fit in a button.
func Refresh(command string, args ...string) []modules.Button {
	b, ok := Button(RefreshLabel, command, args...)
	if !ok {
		return nil
	}
	return []modules.Button{b}
}

// Intervals are the candle intervals the interval row offers, in order.
var intervals = [...]string{"15m", "1h", "4h", "1d"}

// Intervals is a row of interval buttons for command on pair, each running
// "command pair interval", the current one marked "• 1h".
func Intervals(command, pair, current string) []modules.Button {
	row := make([]modules.Button, 0, len(intervals))
	for _, iv := range intervals {
		label := iv
		if iv == current {
			label = "• " + iv
		}
		if b, ok := Button(label, command, pair, iv); ok {
			row = append(row, b)
		}
	}
	if len(row) == 0 {
		return nil
	}
	return row
}

// Keyboard assembles rows, leaving out empty ones; nil when none is left.
func Keyboard(rows ...[]modules.Button) [][]modules.Button {
	var out [][]modules.Button
	for _, r := range rows {
		if len(r) > 0 {
			out = append(out, r)
		}
	}
	return out
}
