package main

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// In staging the shipped flags turn every enhanced module on; in production
// they are off for chats outside the allow-list.
func TestEnhancedCommandsFollowTheirFlags(t *testing.T) {
	for _, tc := range []struct {
		env string
		on  bool
	}{{"staging", true}, {"production", false}} {
		t.Run(tc.env, func(t *testing.T) {
			b := startBot(t, "polling", "CRYPTOBOT_ENV="+tc.env)
			for cmd, want := range map[string]string{
				"/oi btc":          "open interest",
				"/oi eth all":      "open interest by venue",
				"/funding btc":     "funding",
				"/analysis btc 4h": "4h analysis",
			} {
				got := b.ask(100, cmd)
				if tc.on && !strings.Contains(got, want) {
					t.Errorf("%s on: %q", cmd, got)
				}
				if !tc.on && !strings.Contains(got, "not available") {
					t.Errorf("%s off: %q", cmd, got)
				}
			}
			help := b.ask(101, "/help")
			if strings.Contains(help, "/funding") != tc.on {
				t.Errorf("/help lists /funding = %v with the flag on = %v:\n%s", strings.Contains(help, "/funding"), tc.on, help)
			}
		})
	}
}

// sectionsTime lets /price wait for cold sections (the default 250 ms is for
// warm ones; TestLateSectionsAreLeftOut covers it), for tests of what the
// sections say rather than how long they may take.
const sectionsTime = "CRYPTOBOT_PRICE__SECTIONS_WAIT=4s"

func TestPriceWithAllSections(t *testing.T) {
	b := startBot(t, "polling", "CRYPTOBOT_ENV=staging", sectionsTime)
	got := b.ask(110, "/price btc")
	for _, want := range []string{"97,123.40", "OI $", "Funding +0.0100%/8h", "📊 1h: RSI"} {
		if !strings.Contains(got, want) {
			t.Errorf("/price lacks %q:\n%s", want, got)
		}
	}
}

func TestPriceSectionsFailOverWithCore(t *testing.T) {
	b := startBot(t, "polling", "CRYPTOBOT_ENV=staging", sectionsTime)
	b.venues.Binance.Fail(http.StatusServiceUnavailable, 10_000)
	got := b.ask(111, "/price btc")
	// Bybit is next in the order, but a venue slow to answer on a loaded
	// machine loses its share of the deadline to OKX: either is failover.
	if strings.Contains(got, "· Binance") || !strings.Contains(got, "· Bybit") && !strings.Contains(got, "· OKX") {
		t.Errorf("/price with Binance down is not from another venue:\n%s", got)
	}
	for _, want := range []string{"OI $", "Funding", "📊"} {
		if !strings.Contains(got, want) {
			t.Errorf("/price with Binance down lacks %q:\n%s", want, got)
		}
	}
}

func TestLateSectionsAreLeftOut(t *testing.T) {
	b := startBot(t, "polling", "CRYPTOBOT_CACHE__TTL=1m")
	const chat = 112 // sections on for this chat only
	for _, key := range []string{"open-interest", "funding-rates", "market-analysis"} {
		replaceFile(t, filepath.Join(b.flagsDir, key+".yaml"), flagFile(key, "ENABLED", `"112"`, `"off"`))
	}
	eventually(t, "flags on for the chat", func() bool {
		return strings.Contains(b.ask(chat, "/price btc"), "OI $")
	})
	// Another chat (no sections) caches the SOL ticker; then every venue hangs
	// past the section budget, so the sections are late while the core answer
	// comes from the cache.
	if got := b.ask(5, "/price sol"); !strings.Contains(got, "SOL-USDT") || strings.Contains(got, "OI $") {
		t.Fatalf("warm-up reply: %q", got)
	}
	for _, v := range []interface{ Delay(time.Duration) }{b.venues.Binance, b.venues.Bybit, b.venues.OKX} {
		v.Delay(4 * time.Second)
	}
	got := b.ask(chat, "/price sol")
	if !strings.Contains(got, "SOL-USDT") {
		t.Fatalf("core answer missing: %q", got)
	}
	for _, section := range []string{"OI $", "Funding", "📊"} {
		if strings.Contains(got, section) {
			t.Errorf("late section %q not left out:\n%s", section, got)
		}
	}
	if late := b.total(`cryptobot_price_sections_total{module="enhanced.openinterest",outcome="late"}`); late == 0 {
		t.Errorf("late sections not counted:\n%s", b.metric("cryptobot_price_sections_total"))
	}
	b.noLateReplies()
}

// With every enhanced module on, a venue that hangs must not sink /price: the
// core answer and the sections fail over inside the 5 s deadline.
func TestPriceWithSectionsWhenOneVenueHangs(t *testing.T) {
	b := startBot(t, "polling", "CRYPTOBOT_ENV=staging")
	b.waitWarm() // Bybit comes next only once its list is loaded
	b.venues.Binance.Delay(time.Minute)
	got := b.ask(113, "/price eth")
	if !strings.Contains(got, "ETH-USDT</b> · Bybit") {
		t.Errorf("core answer not from the next venue:\n%s", got)
	}
	b.noLateReplies()
}

// /chart goes out as a PNG through sendPhoto (multipart) with its caption.
func TestChartIsSentAsPhoto(t *testing.T) {
	b := startBot(t, "polling", "CRYPTOBOT_ENV=staging")
	b.tg.SendText(120, 120, "private", "/chart btc 4h")
	b.waitReply(120, 0)
	m := b.sentTo(120)[0]
	if m.Method != "sendPhoto" || m.PhotoSize < 1000 || !strings.Contains(m.Text, "BTC-USDT") {
		t.Errorf("chart reply: method %s, %d bytes, caption %q", m.Method, m.PhotoSize, m.Text)
	}
	if got := b.ask(121, "/chart zzz"); !strings.Contains(got, "Unknown pair") {
		t.Errorf("unknown pair: %q", got)
	}
}
