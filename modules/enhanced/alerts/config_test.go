package alerts

import (
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/config"
)

// The settings decode from modules.enhanced.alerts, and zero means the default.
func TestConfigDecodes(t *testing.T) {
	c, err := config.Load("", false, []string{
		"CRYPTOBOT_MODULES__ENHANCED__ALERTS__POLL=5s",
		"CRYPTOBOT_MODULES__ENHANCED__ALERTS__MAX_PER_CHAT=7",
	})
	if err != nil {
		t.Fatal(err)
	}
	var cfg Config
	if err := c.DecodeModule("enhanced.alerts", &cfg); err != nil {
		t.Fatal(err)
	}
	got, err := cfg.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Poll: 5 * time.Second, SlowPoll: time.Minute, MaxPerChat: 7, MaxWatch: 30, MaxGlobal: 100_000, FlagCheck: 10 * time.Second}
	if got != want {
		t.Errorf("settings %+v, want %+v", got, want)
	}
	if _, err := (Config{Poll: time.Millisecond}).withDefaults(); err == nil {
		t.Error("a 1ms poll was accepted")
	}
}
