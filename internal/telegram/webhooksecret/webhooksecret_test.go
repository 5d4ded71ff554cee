package webhooksecret

import (
	"strings"
	"testing"
)

func TestValid(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"abcXYZ019_-", true},
		{strings.Repeat("a", MaxLen), true},
		{"", false},
		{strings.Repeat("a", MaxLen+1), false},
		{"has space", false},
		{"dot.", false},
		{"slash/", false},
		{"ünï", false},
		{"tab\t", false},
	}
	for _, tt := range tests {
		if got := Valid(tt.in); got != tt.want {
			t.Errorf("Valid(%.20q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
