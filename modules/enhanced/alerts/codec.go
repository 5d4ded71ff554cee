package alerts

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/modules/enhanced/alerts/rule"
)

// toRow is a new alert as the store keeps it.
func toRow(a rule.Alert) (AlertRow, error) {
	r, err := json.Marshal(a.Rule)
	if err != nil {
		return AlertRow{}, fmt.Errorf("encode rule: %w", err)
	}
	s, err := json.Marshal(a.Status)
	if err != nil {
		return AlertRow{}, fmt.Errorf("encode status: %w", err)
	}
	return AlertRow{ID: a.ID, ChatID: a.ChatID, Pair: a.Pair.String(), Kind: a.Rule.Kind.String(),
		State: a.State.String(), Rule: r, Status: s, Created: a.Created, Expires: a.Expires}, nil
}

// fromRow reads a stored alert back. The State column wins over the one in
// the Status JSON: the store pauses a blocked chat's alerts by state alone.
func fromRow(row AlertRow) (rule.Alert, error) {
	a := rule.Alert{ID: row.ID, ChatID: row.ChatID, Created: row.Created, Expires: row.Expires}
	base, quote, ok := strings.Cut(row.Pair, "-")
	if !ok || base == "" || quote == "" {
		return a, fmt.Errorf("alert %d: bad pair %q", row.ID, row.Pair)
	}
	a.Pair = market.Pair{Base: base, Quote: quote}
	if err := json.Unmarshal(row.Rule, &a.Rule); err != nil {
		return a, fmt.Errorf("alert %d: decode rule: %w", row.ID, err)
	}
	if len(row.Status) > 0 {
		if err := json.Unmarshal(row.Status, &a.Status); err != nil {
			return a, fmt.Errorf("alert %d: decode status: %w", row.ID, err)
		}
	}
	st, err := rule.ParseState(row.State)
	if err != nil {
		return a, fmt.Errorf("alert %d: %w", row.ID, err)
	}
	a.State = st
	return a, nil
}

func statusJSON(s rule.Status) []byte {
	b, _ := json.Marshal(s) // plain fields: cannot fail
	return b
}
