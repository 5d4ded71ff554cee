package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/telegram"
	"github.com/cryptobot-dev/cryptobot/modules"
)

// handler is the pipeline's consumer: the router.
type handler interface {
	Handle(ctx context.Context, req modules.Request) modules.Reply
}

// runConsole reads one command per line and prints each reply as plain text,
// through the same router, modules and flags as Telegram, so anyone can try
// the bot without a token. It returns at end of input or when ctx ends.
func runConsole(ctx context.Context, h handler, stdin io.Reader, stdout io.Writer) error {
	fmt.Fprintln(stdout, "cryptobot console: type a command such as /price btc or /help; Ctrl-D quits.")
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdin)
		sc.Buffer(make([]byte, 4096), 64<<10)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	var id int64
	for {
		var line string
		var ok bool
		select {
		case <-ctx.Done():
			return nil
		case line, ok = <-lines:
			if !ok {
				return nil
			}
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		id++
		req := modules.Request{UpdateID: id, ChatID: consoleChatID, UserID: consoleChatID, ChatType: "private", Received: time.Now()}
		if cmd, args, ok := telegram.ParseCommand(line, ""); ok {
			req.Command, req.Args = cmd, args
		}
		reply := h.Handle(ctx, req)
		if reply.Photo != nil {
			fmt.Fprintf(stdout, "[photo, %d bytes]\n", len(reply.Photo))
		}
		fmt.Fprintln(stdout, telegram.StripHTML(reply.Text))
		fmt.Fprintln(stdout)
	}
}
