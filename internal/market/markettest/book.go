// Package markettest runs fake Binance, Bybit and OKX servers on 127.0.0.1
// that speak each venue's real response shapes and error envelopes, from one
// deterministic in-memory Book, with fault injection and per-endpoint hit
// counters. Constructors take no *testing.T, so demos and console mode can
// use the fakes too.
package markettest

import (
	"fmt"
	"math"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
)

// Market is one pair in a Book. Zero values take the defaults noted.
type Market struct {
	Pair        market.Pair
	Price       float64 // last price; also the mark and index price
	Open        float64 // price 24 h ago; 0: Price
	BaseVolume  float64 // 24 h volume in base coin
	Spot, Perp  bool    // listed as spot, as a linear perpetual
	Halted      bool    // listed but not tradable
	OICoin      float64 // perpetual open interest in base coin
	FundingRate float64 // fraction per interval
	// FundingInterval between settlements; 0: 8 h.
	FundingInterval time.Duration
	CtVal           float64 // OKX swap contract value in base coin; 0: 1
}

// Book is the market every fake serves. Servers copy it when they start, so
// changing a Book afterwards has no effect on them.
type Book struct {
	Markets []Market
	// Now is the fakes' clock: it places the open candle, funding times and
	// timestamps. DefaultBook uses a fixed instant so output is deterministic.
	Now func() time.Time
}

// DefaultNow is the fixed instant of DefaultBook: 2026-01-15 12:34:56 UTC.
func DefaultNow() time.Time { return time.Date(2026, 1, 15, 12, 34, 56, 0, time.UTC) }

// DefaultBook returns the standard test market: BTC, ETH, SOL, DOGE and PEPE
// against USDT and ETH-BTC as spot; BTC, ETH and SOL USDT perpetuals (SOL on a
// 4 h funding interval, the others 8 h); a BTC-USDC perpetual and a halted
// LUNA-USDT spot listing that clients must filter out.
func DefaultBook() Book {
	usdt := func(base string) market.Pair { return market.Pair{Base: base, Quote: "USDT"} }
	return Book{
		Now: DefaultNow,
		Markets: []Market{
			{Pair: usdt("BTC"), Price: 97123.4, Open: 95000, BaseVolume: 12345.678, Spot: true, Perp: true,
				OICoin: 85432.1, FundingRate: 0.0001, FundingInterval: 8 * time.Hour, CtVal: 0.01},
			{Pair: usdt("ETH"), Price: 3456.78, Open: 3500.12, BaseVolume: 234567.89, Spot: true, Perp: true,
				OICoin: 2100000, FundingRate: 0.00005, FundingInterval: 8 * time.Hour, CtVal: 0.1},
			{Pair: usdt("SOL"), Price: 187.65, Open: 180.4, BaseVolume: 3456789, Spot: true, Perp: true,
				OICoin: 9876543, FundingRate: -0.00002, FundingInterval: 4 * time.Hour, CtVal: 1},
			{Pair: usdt("DOGE"), Price: 0.3821, Open: 0.3912, BaseVolume: 987654321, Spot: true},
			{Pair: usdt("PEPE"), Price: 0.00001234, Open: 0.00001200, BaseVolume: 5.5e12, Spot: true},
			{Pair: market.Pair{Base: "ETH", Quote: "BTC"}, Price: 0.03559, Open: 0.0356, BaseVolume: 45678.9, Spot: true},
			{Pair: market.Pair{Base: "BTC", Quote: "USDC"}, Price: 97100, Open: 95010, BaseVolume: 1234.5, Perp: true,
				OICoin: 4321, FundingRate: 0.0001, FundingInterval: 8 * time.Hour, CtVal: 0.0001},
			{Pair: usdt("LUNA"), Price: 0.0001, Open: 0.0001, BaseVolume: 1, Spot: true, Halted: true},
		},
	}
}

func (b Book) clone() Book {
	b.Markets = append([]Market(nil), b.Markets...)
	if b.Now == nil {
		b.Now = DefaultNow
	}
	for i := range b.Markets {
		m := &b.Markets[i]
		if m.Open == 0 {
			m.Open = m.Price
		}
		if m.FundingInterval == 0 {
			m.FundingInterval = 8 * time.Hour
		}
		if m.CtVal == 0 {
			m.CtVal = 1
		}
	}
	return b
}

// find returns the tradable market for pair, spot or perp.
func (b Book) find(p market.Pair, perp bool) (Market, bool) {
	for _, m := range b.Markets {
		if m.Pair == p && !m.Halted && ((perp && m.Perp) || (!perp && m.Spot)) {
			return m, true
		}
	}
	return Market{}, false
}

func (m Market) high() float64 { return math.Max(m.Price, m.Open) * 1.012 }
func (m Market) low() float64  { return math.Min(m.Price, m.Open) * 0.988 }
func (m Market) changePct() float64 {
	return (m.Price - m.Open) / m.Open * 100
}

// nextFunding is the next settlement after now on the market's interval grid.
func (m Market) nextFunding(now time.Time) time.Time {
	return now.Truncate(m.FundingInterval).Add(m.FundingInterval)
}

// curve is the price multiplier j bars back: 1 at the latest bar.
func curve(j int) float64 {
	x := float64(j)
	return 1 + 0.02*math.Sin(x/11) + 0.005*math.Sin(x/2.7)
}

// bar is one generated candle.
type bar struct {
	open          time.Time
	o, h, l, c, v float64
	closed        bool
}

// bars returns n candles newest first: index 0 is the bar still open at now.
func (m Market) bars(now time.Time, iv time.Duration, n int) []bar {
	start := now.Truncate(iv)
	out := make([]bar, n)
	for j := range n {
		c, o := m.Price*curve(j), m.Price*curve(j+1)
		wick := 0.002 * (1.5 + math.Sin(float64(j)/3))
		out[j] = bar{
			open:   start.Add(-time.Duration(j) * iv),
			o:      o,
			c:      c,
			h:      math.Max(o, c) * (1 + wick),
			l:      math.Min(o, c) * (1 - wick),
			v:      m.BaseVolume * iv.Hours() / 24 * (1 + 0.5*math.Sin(float64(j)/5)),
			closed: j > 0,
		}
	}
	return out
}

// oiPoint is one generated open-interest row.
type oiPoint struct {
	t         time.Time
	coin, usd float64
}

// oiHistory returns n rows newest first, on period boundaries up to now.
func (m Market) oiHistory(now time.Time, period time.Duration, n int) []oiPoint {
	start := now.Truncate(period)
	out := make([]oiPoint, n)
	for j := range n {
		coin := m.OICoin * (1 + 0.03*math.Sin(float64(j)/13))
		out[j] = oiPoint{t: start.Add(-time.Duration(j) * period), coin: coin, usd: coin * m.Price * curve(j)}
	}
	return out
}

// LargeBook returns a Book of n spot pairs against USDT (bases C0001, C0002,
// …, prices spread over nine orders of magnitude), the first third also
// listed as perpetuals: a venue's full listing, for batched-price tests and
// benchmarks.
func LargeBook(n int) Book {
	b := Book{Now: DefaultNow}
	for i := range n {
		price := math.Pow(10, float64(i%9)-4) * (1 + float64(i%997)/1000)
		b.Markets = append(b.Markets, Market{
			Pair:  market.Pair{Base: fmt.Sprintf("C%04d", i+1), Quote: "USDT"},
			Price: price, Open: price * 0.98, BaseVolume: 1e6 / price,
			Spot: true, Perp: i < n/3, OICoin: 1e5, FundingRate: 0.0001,
		})
	}
	return b
}
