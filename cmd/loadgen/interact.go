package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/internal/market/markettest"
	_ "modernc.org/sqlite" // the store's driver, to count its alerts read-only
)

// Kinds answered by something other than a sendMessage in the chat, and the
// alert acknowledgement.
const (
	kindInline = "inline" // an inline_query, answered by answerInlineQuery
	kindPress  = "press"  // Refresh pressed, answered by answerCallbackQuery (and an editMessageText)
	kindAlert  = "alert"  // /alert PAIR above|below LEVEL, answered "🔔 Alert #N set: …"
)

// alertPairs are the pairs alerts are set on, at the fake book's prices.
var alertPairs = []market.Pair{{Base: "BTC", Quote: "USDT"}, {Base: "ETH", Quote: "USDT"}, {Base: "SOL", Quote: "USDT"}}

// alertCommands draw "/alert BTC-USDT above 101234.56": a level 2–40 % above
// or below the book's price, so none fires (the fakes' prices do not move)
// and none trips the 100× check.
func alertCommands() []command {
	book := markettest.DefaultBook()
	var out []command
	for _, p := range alertPairs {
		price := 0.0
		for _, m := range book.Markets {
			if m.Pair == p {
				price = m.Price
			}
		}
		for _, dir := range []string{"above", "below"} {
			out = append(out, command{kind: kindAlert, gen: func(r *rand.Rand) string {
				f := 0.02 + 0.38*r.Float64()
				level := price * (1 + f)
				if dir == "below" {
					level = price * (1 - f)
				}
				return "/alert " + p.String() + " " + dir + " " + strconv.FormatFloat(level, 'f', 2, 64)
			}})
		}
	}
	return out
}

const (
	pressChat  = 200_000_000 // chats whose /price message the press category presses Refresh on
	pressSeeds = 500         // at most this many such messages (and users): presses are limited per user
)

// pressTarget is a message the bot sent with its Refresh button.
type pressTarget struct {
	chat, message int64
	data          string
}

// seedPress sends /price btc in up to pressSeeds chats of their own and
// returns each reply's Refresh button, so presses hit messages the bot
// really sent with data from its own keyboard.
func seedPress(ctx context.Context, r *rig, n int, timeout time.Duration) ([]pressTarget, error) {
	n = min(max(n, 1), pressSeeds)
	before := len(r.tg.Sent())
	for i := range n {
		chat := int64(pressChat + i)
		r.tg.SendText(chat, chat, "private", "/price btc")
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	sent, err := r.tg.WaitSent(ctx, before+n)
	if err != nil {
		return nil, fmt.Errorf("press seeds: %w", err)
	}
	var out []pressTarget
	for _, m := range sent[before:] {
		if m.ChatID < pressChat || m.ChatID >= pressChat+int64(n) || len(m.Buttons) == 0 || len(m.Buttons[0]) == 0 {
			continue
		}
		if d := m.Buttons[0][0].CallbackData; d != "" {
			out = append(out, pressTarget{chat: m.ChatID, message: m.MessageID, data: d})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("press seeds: none of %d /price replies has a button", n)
	}
	return out, nil
}

// uses reports whether the mix draws category name at all.
func (m mix) uses(name string) bool {
	i := categoryIndex(name)
	return i >= 0 && m.weights[i] > 0
}

// countAlerts counts the live (armed or cooling) alerts in the bot's store
// file, the default sqlite:data/cryptobot.db under its working directory,
// with a read-only connection beside the running bot: the store's own Open
// would refuse, the bot holds its lock file.
func countAlerts(ctx context.Context, r *rig) (int, error) {
	path := filepath.Join(r.tmp, "data", "cryptobot.db")
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var n int
	err = db.QueryRowContext(ctx, "SELECT count(*) FROM alerts WHERE state IN ('armed', 'cooling')").Scan(&n)
	return n, err
}
