package store

import (
	"context"
	"testing"
)

func TestChatSettings(t *testing.T) {
	forEachDriver(t, func(t *testing.T, url string) {
		s, ctx := open(t, url, Options{}), context.Background()
		if got, err := s.ChatSettings(ctx, 5); err != nil || got != (ChatSettings{}) {
			t.Fatalf("unset: %+v, %v; want the defaults", got, err)
		}
		want := ChatSettings{Quote: "USDC", Zone: "Europe/Berlin", Numbers: "eu", Compact: true, Silent: true, AlertsBy: "admins"}
		for _, cs := range []ChatSettings{{Quote: "BTC"}, want} {
			if err := s.SetChatSettings(ctx, 5, cs); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := s.ChatSettings(ctx, 5); err != nil || got != want {
			t.Errorf("got %+v, %v; want %+v", got, err, want)
		}
		if got, _ := s.ChatSettings(ctx, 6); got != (ChatSettings{}) {
			t.Errorf("another chat: %+v", got)
		}
	})
}
