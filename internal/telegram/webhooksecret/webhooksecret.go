// Package webhooksecret holds Telegram's rule for a webhook secret_token. It
// imports nothing, so config validates with the same rule the transport
// enforces without pulling the transport in.
package webhooksecret

// MaxLen is the longest secret Telegram accepts.
const MaxLen = 256

// Valid reports whether s is a secret Telegram accepts: 1 to MaxLen
// characters, each A-Z, a-z, 0-9, _ or -. (A byte loop, not a regexp: the
// counted repetition {1,256} compiles to 256 copies of the class, 80 KB of
// heap for the life of the process.)
func Valid(s string) bool {
	if len(s) == 0 || len(s) > MaxLen {
		return false
	}
	for i := range len(s) {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}
