package telegramtest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/telegram/telegramtest"
)

// A bot under test points its API URL at the fake; the test injects user
// messages and reads back what the bot sent.
func Example() {
	srv := telegramtest.New(telegramtest.Options{})
	defer srv.Close()

	srv.SendText(42, 7, "private", "/price btc")
	resp, err := http.Post(srv.URL()+"/bot"+srv.Token()+"/getUpdates", "application/json", strings.NewReader(`{"timeout":1}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, strings.Contains(string(body), `"text":"/price btc"`))

	// The bot answers; the multipart, urlencoded or JSON body is parsed alike.
	resp, err = http.PostForm(srv.URL()+"/bot"+srv.Token()+"/sendMessage", map[string][]string{
		"chat_id": {"42"}, "text": {"<b>BTC</b> 97,000"}, "parse_mode": {"HTML"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sent, err := srv.WaitSent(ctx, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sent[0].ChatID, sent[0].Text)
	// Output:
	// 200 true
	// 42 <b>BTC</b> 97,000
}
