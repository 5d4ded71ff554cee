package main

// End-to-end tests of the update journal: the real binary (this test binary
// re-executed as the bot) against the fakes, killed or stopped while a
// backlog waits inside it, then restarted on the same store.

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/store/pgtest"
	"github.com/cryptobot-dev/cryptobot/internal/telegram/telegramtest"
)

// childEnv makes the test binary run main instead of the tests.
const childEnv = "CRYPTOBOT_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		main()
	}
	os.Exit(pgtest.Main(m))
}

// backlog is how many updates wait inside the bot when it is stopped; the
// first run sends at slowRate, so most of them are still unanswered.
const (
	backlog  = 300
	slowRate = "20"
	// maxTwice bounds the updates answered twice: those whose reply was
	// accepted but not yet recorded when the bot died, at most one per
	// worker (8 by default) plus a little slack.
	maxTwice = 10
)

// child is one run of the bot as a subprocess.
type child struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	exited chan struct{}
	err    error // of Wait, once exited is closed
}

// spawn starts the bot with the rig's environment for mode plus env, in its
// own working directory.
func (b *bot) spawn(mode string, env ...string) *child {
	b.t.Helper()
	c := &child{stderr: &syncBuffer{}, exited: make(chan struct{})}
	c.cmd = exec.Command(os.Args[0])
	c.cmd.Env = append(append(b.environ(mode), childEnv+"=1", "PATH="+os.Getenv("PATH")), env...)
	c.cmd.Dir = b.t.TempDir()
	c.cmd.Stderr = c.stderr
	if err := c.cmd.Start(); err != nil {
		b.t.Fatal(err)
	}
	go func() { c.err = c.cmd.Wait(); close(c.exited) }()
	b.t.Cleanup(func() {
		_ = c.cmd.Process.Kill()
		<-c.exited
		if b.t.Failed() {
			b.t.Logf("bot (pid %d) log:\n%s", c.cmd.Process.Pid, c.stderr.String())
		}
	})
	return c
}

// waitReady waits for /readyz 200, failing if the child exits first.
func (c *child) waitReady(b *bot) {
	b.t.Helper()
	eventually(b.t, "/readyz 200", func() bool {
		select {
		case <-c.exited:
			b.t.Fatalf("bot exited before ready: %v\n%s", c.err, c.stderr.String())
		default:
		}
		res, err := httpGet("http://" + b.addr + "/readyz")
		return err == nil && res.code == http.StatusOK
	})
}

// stop sends sig and waits for the exit; SIGTERM must exit 0.
func (c *child) stop(b *bot, sig syscall.Signal) {
	b.t.Helper()
	if err := c.cmd.Process.Signal(sig); err != nil {
		b.t.Fatal(err)
	}
	select {
	case <-c.exited:
	case <-time.After(waitFor):
		b.t.Fatalf("no exit within %s of %s", waitFor, sig)
	}
	if sig == syscall.SIGTERM && c.err != nil {
		b.t.Fatalf("exit after SIGTERM: %v\n%s", c.err, c.stderr.String())
	}
}

// journalRig is a rig whose fake Telegram keeps redelivering to a webhook
// that is down, as the real one does for hours, and a free port for the bot.
func journalRig(t *testing.T) *bot {
	t.Helper()
	b, withLn := newRig(t, telegramtest.Options{MaxAttempts: 1 << 20})
	// The child binds the port itself, again after each restart.
	var o options
	withLn(&o)
	if err := o.listeners[b.addr].Close(); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestJournalSurvivesStop(t *testing.T) {
	for _, tc := range []struct {
		name, mode string
		sig        syscall.Signal
		postgres   bool
	}{
		{"webhook SIGKILL", "webhook", syscall.SIGKILL, false},
		{"polling SIGKILL", "polling", syscall.SIGKILL, false},
		{"webhook SIGTERM", "webhook", syscall.SIGTERM, false},
		{"polling SIGTERM", "polling", syscall.SIGTERM, false},
		{"webhook SIGKILL postgres", "webhook", syscall.SIGKILL, true},
		{"polling SIGTERM postgres", "polling", syscall.SIGTERM, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := "sqlite:" + filepath.Join(t.TempDir(), "state", "cryptobot.db")
			if tc.postgres {
				url = pgtest.Start(t)
			}
			b := journalRig(t)
			storeEnv := "CRYPTOBOT_STORE__URL=" + url
			first := b.spawn(tc.mode, storeEnv, "CRYPTOBOT_TELEGRAM__RATE__GLOBAL="+slowRate, "CRYPTOBOT_SHUTDOWN_TIMEOUT=300ms")
			first.waitReady(b)
			for i := range int64(backlog) {
				b.tg.SendText(20000+i, 20000+i, "private", "/price btc")
			}
			eventually(t, "every update journaled and acknowledged", func() bool {
				return b.total(`cryptobot_updates_received_total{outcome="accepted"`) >= backlog
			})
			ctx, cancel := context.WithTimeout(t.Context(), waitFor)
			defer cancel()
			if _, err := b.tg.WaitSent(ctx, 10); err != nil {
				t.Fatal(err)
			}
			first.stop(b, tc.sig)
			before := len(b.tg.Sent())
			if before >= backlog {
				t.Fatalf("all %d answered before the stop: no backlog to test", before)
			}

			second := b.spawn(tc.mode, storeEnv)
			second.waitReady(b)
			replies := map[int64]int{}
			eventually(t, "every update answered after the restart", func() bool {
				clear(replies)
				for _, m := range b.tg.Sent() {
					replies[m.ChatID]++
				}
				return len(replies) == backlog
			})
			second.stop(b, syscall.SIGTERM)
			twice := 0
			for chat, n := range replies {
				if n > 2 {
					t.Errorf("chat %d answered %d times", chat, n)
				}
				twice += n - 1
			}
			t.Logf("%s: %d of %d answered before the stop, the rest after the restart; %d answered twice",
				tc.name, before, backlog, twice)
			if twice > maxTwice {
				t.Errorf("%d updates answered twice, want at most %d", twice, maxTwice)
			}
		})
	}
}

// A store.url the bot cannot use is a configuration error: exit 2 and one
// line naming the key, never a silent fallback.
func TestStoreOpenErrorsExit2(t *testing.T) {
	dir := t.TempDir()
	notDir, corrupt := filepath.Join(dir, "file"), filepath.Join(dir, "corrupt.db")
	if err := os.WriteFile(notDir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(corrupt, bytes.Repeat([]byte("not a database "), 512), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, url, want string }{
		{"path not creatable", "sqlite:" + filepath.Join(notDir, "sub", "cryptobot.db"), "not writable"},
		{"corrupt file", "sqlite:" + corrupt, "corrupt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, ln := newRig(t, telegramtest.Options{})
			var stderr syncBuffer
			code := run(t.Context(), testModules(), nil, append(b.environ("polling"), "CRYPTOBOT_STORE__URL="+tc.url),
				strings.NewReader(""), &bytes.Buffer{}, &stderr, ln)
			exit2Naming(t, code, stderr.String(), tc.want)
		})
	}
	if got, _ := os.ReadFile(corrupt); !bytes.HasPrefix(got, []byte("not a database")) {
		t.Error("the corrupt file was rewritten")
	}
}

// A second process on the SQLite file of a running bot refuses to start
// instead of corrupting it, and the first keeps answering.
func TestSecondProcessOnOneFileExits2(t *testing.T) {
	held := "CRYPTOBOT_STORE__URL=sqlite:" + filepath.Join(t.TempDir(), "cryptobot.db")
	holder := startBot(t, "polling", held)
	b := journalRig(t)
	second := b.spawn("polling", held)
	select {
	case <-second.exited:
	case <-time.After(waitFor):
		t.Fatal("the second process did not exit")
	}
	exit2Naming(t, second.cmd.ProcessState.ExitCode(), second.stderr.String(), "another")
	holder.ask(1, "/price btc")
}

// exit2Naming checks for exit 2 with a last log line naming store.url and want.
func exit2Naming(t *testing.T, code int, stderr, want string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	last := lines[len(lines)-1]
	if code != exitConfig || !strings.Contains(last, "store.url") || !strings.Contains(last, want) {
		t.Fatalf("exit %d, last line %q; want 2 and a line naming store.url and %q\n%s", code, last, want, stderr)
	}
	t.Logf("exit 2: %s", last)
}

// Postgres down at start: the bot retries while /readyz names the store.
// Postgres going away mid-run: the webhook answers 503 with Retry-After so
// Telegram redelivers, /readyz names the store, and once Postgres is back
// everything sent meanwhile is answered without a restart.
func TestPostgresDown(t *testing.T) {
	srv := pgtest.NewServer(t)
	srv.Stop(t)
	b, ln := newRig(t, telegramtest.Options{MaxAttempts: 1 << 20})
	ctx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	go func() {
		b.done <- run(ctx, testModules(), nil, append(b.environ("webhook"), "CRYPTOBOT_STORE__URL="+srv.URL("postgres")),
			strings.NewReader(""), io.Discard, b.stderr, ln)
	}()
	t.Cleanup(func() {
		cancel()
		<-b.done
		if t.Failed() {
			t.Logf("bot log:\n%s", b.stderr.String())
		}
	})
	eventually(t, "/readyz naming the store while Postgres is down at start", func() bool {
		res, err := httpGet("http://" + b.addr + "/readyz")
		return err == nil && res.code == http.StatusServiceUnavailable && strings.Contains(res.body, `"store":"unavailable`)
	})
	srv.Restart(t)
	b.waitReady()
	b.ask(1, "/price btc")

	srv.Stop(t)
	resp := b.post(update(900001, 2, "/price btc"), b.secret)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("webhook with Postgres down: %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	for chat := int64(3); chat < 8; chat++ {
		b.tg.SendText(chat, chat, "private", "/price btc") // the fake redelivers until accepted
	}
	eventually(t, "/readyz naming the store", func() bool {
		res, err := httpGet("http://" + b.addr + "/readyz")
		return err == nil && res.code == http.StatusServiceUnavailable && strings.Contains(res.body, `"store"`) &&
			!strings.Contains(res.body, `"store":"ok"`)
	})

	srv.Restart(t)
	b.waitReady()
	for chat := int64(3); chat < 8; chat++ {
		b.waitReply(chat, 0)
	}
	b.waitSettled()
	for chat := int64(3); chat < 8; chat++ {
		if n := len(b.sentTo(chat)); n != 1 {
			t.Errorf("chat %d: %d replies, want 1", chat, n)
		}
	}
}
