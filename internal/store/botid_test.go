package store

import (
	"testing"
)

// Update ids are per bot: after a token switch to another bot, the old
// bot's journal must not turn the new bot's updates into duplicates.
func TestBindBot(t *testing.T) {
	forEachDriver(t, func(t *testing.T, url string) {
		s := open(t, url, Options{})
		ctx := t.Context()
		us := func(ids ...int64) []Update {
			var out []Update
			for _, id := range ids {
				out = append(out, Update{ID: id, ChatID: 1, Body: []byte(`{}`)})
			}
			return out
		}
		if _, err := s.Append(ctx, us(1, 2, 3)); err != nil {
			t.Fatal(err)
		}
		noErr(t, "settle", s.Settle(ctx, Answered, 1))
		for _, step := range []string{"first bind", "same bot again"} {
			if n, err := s.BindBot(ctx, 7); err != nil || n != 0 {
				t.Fatalf("%s: BindBot = %d, %v; want the journal kept", step, n, err)
			}
		}
		if left, _ := s.Unanswered(ctx, 0); len(left) != 2 {
			t.Fatalf("%d unanswered after binding the same bot, want 2", len(left))
		}
		n, err := s.BindBot(ctx, 8)
		if err != nil || n != 2 {
			t.Fatalf("BindBot(another bot) = %d, %v; want the 2 unanswered dropped", n, err)
		}
		if left, _ := s.Unanswered(ctx, 0); len(left) != 0 {
			t.Errorf("%d of the old bot's entries still unanswered", len(left))
		}
		fresh, err := s.Append(ctx, us(1))
		if err != nil || !fresh[0] {
			t.Errorf("the new bot's update 1: fresh %v, %v; want fresh, not the old bot's duplicate", fresh, err)
		}
		if n, err := s.BindBot(ctx, 8); err != nil || n != 0 {
			t.Errorf("binding the new bot again = %d, %v", n, err)
		}
	})
}
