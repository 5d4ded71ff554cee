package dispatch

import (
	"context"
	"html"
	"regexp"
	"strings"

	"github.com/cryptobot-dev/cryptobot/modules"
	"github.com/cryptobot-dev/cryptobot/modules/callback"
)

// Inliner answers inline queries. The router asks the first loaded module
// that implements it (core.price); with none, inline queries get no results.
type Inliner interface {
	Inline(ctx context.Context, req modules.Request) (*modules.InlineAnswer, error)
}

// Notes for presses and membership changes.
const (
	ToastUpdated = "Updated"
	helloText    = "👋 <b>Hi, thanks for adding me!</b>\nI quote crypto prices from Binance, Bybit and OKX. " +
		"Try <code>/price BTC</code>, or send /help to see every command."
)

// press runs the command a button names, as if typed again with the
// button's arguments, under the same flag and memory guard as that command.
// Data that does not decode, or names a command not served here, is only
// answered with a toast. req.Command is set for the panic handler's label.
func (r *Router) press(ctx context.Context, req *modules.Request) modules.Reply {
	p, err := callback.Decode(req.Callback.Data)
	if err != nil {
		r.count("unknown", OutcomeUnknown)
		return modules.Reply{Toast: callback.Toast(err)}
	}
	e, ok := r.commands[p.Command]
	if !ok || e.cmd.Admin && !r.admins[req.ChatID] {
		r.countUnknown(ok)
		return modules.Reply{Toast: callback.ToastInvalid}
	}
	req.Command, req.Args = p.Command, p.Args
	release, text, outcome := r.admit(ctx, e, *req)
	if release == nil {
		r.count(req.Command, outcome)
		return modules.Reply{Toast: text}
	}
	defer release()
	reply, outcome := r.call(ctx, e, *req)
	r.count(req.Command, outcome)
	return pressReply(reply)
}

// pressReply makes a command's reply the answer to a press. A reply with
// buttons is the command's full answer and edits the pressed message (a
// module may also set Edit itself); anything else (usage, an unknown pair,
// unavailable data, a failure) becomes the toast, and nothing is sent: a
// press never posts a new message.
func pressReply(rep modules.Reply) modules.Reply {
	if rep.Text != "" || rep.Photo != nil {
		if rep.Edit || len(rep.Buttons) > 0 {
			rep.Edit, rep.Inline = true, nil
			if rep.Toast == "" {
				rep.Toast = ToastUpdated
			}
			return rep
		}
	}
	toast := rep.Toast
	if toast == "" {
		toast = plain(rep.Text)
	}
	return modules.Reply{Toast: toast}
}

var tagRE = regexp.MustCompile(`<[^>]*>`)

// plain turns reply HTML into toast text.
func plain(s string) string {
	return strings.TrimSpace(html.UnescapeString(tagRE.ReplaceAllString(s, "")))
}

// inline answers an inline query through the Inliner; a failure answers
// with no results (the transport adds the hint), never an error.
func (r *Router) inline(ctx context.Context, req modules.Request) modules.Reply {
	if r.inliner == nil {
		return modules.Reply{}
	}
	ans, err := r.inliner.Inline(ctx, req)
	if err != nil {
		r.opts.Log.Warn("inline query failed", "err", err)
		return modules.Reply{}
	}
	return modules.Reply{Inline: ans}
}

// membership tells Options.OnMembership of the bot's new status in a chat
// (alerts and digests pause for a chat that removed or blocked the bot) and
// greets a group that just added it. Being removed sends nothing: the bot
// can no longer write there.
func (r *Router) membership(ctx context.Context, req modules.Request) modules.Reply {
	if r.opts.OnMembership != nil {
		r.opts.OnMembership(ctx, req.ChatID, req.Member.New)
	}
	group := req.ChatType == "group" || req.ChatType == "supergroup"
	if group && present(req.Member.New) && !present(req.Member.Old) {
		return modules.Reply{Text: helloText}
	}
	return modules.Reply{}
}

// present reports a status in which the bot is in the chat and may write.
func present(status string) bool {
	switch status {
	case "creator", "administrator", "member", "restricted":
		return true
	}
	return false
}
