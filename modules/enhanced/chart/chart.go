// Package chart is the chart module: /chart SYMBOL [interval] reads the last
// closed spot candles and answers with a PNG candlestick chart (price and
// time axes, last-price tag, EMA20 and EMA50, volume) drawn with the standard
// library and the Go fonts, captioned with the numbers a trader reads off it.
package chart

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"time"

	flags "github.com/cryptobot-dev/cryptobot/flags/flagkey"
	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/modules"
	"github.com/cryptobot-dev/cryptobot/modules/callback"
	"github.com/cryptobot-dev/cryptobot/modules/reply"
)

// Limit is how many closed candles a chart shows; MinCandles is the shortest
// history worth drawing (one EMA20 seed).
const (
	Limit      = 120
	MinCandles = 20
)

// The module's memory cost, checked by TestMemoryCost. Resident is the
// module, the PNG output buffers it keeps warm (about 25 KB each) and the
// glyph masks of its two font sizes (about 45 KB, built on first use and
// shared). PerRequest is one request: the 1000×600 paletted canvas (600 KB),
// the encoder's deflate state (about 1.2 MB, which compress/flate allocates
// whatever the level) and the PNG bytes handed to the transport (about 25 KB).
//
// The deflate state is deliberately not pooled: png.EncoderBuffer keeps the
// last image and writer alive, so pooling it would pin a whole canvas.
const (
	residentBytes   = 88 << 10
	perRequestBytes = 1856 << 10

	pooledBuffers  = 2         // warm PNG buffers kept between requests
	maxPooledBytes = 512 << 10 // a buffer grown past this by an unusual chart is dropped
)

func init() {
	modules.Register(modules.MarketModule("enhanced.chart", flags.Charts, modules.Cost{Resident: residentBytes, PerRequest: perRequestBytes},
		func(src market.Source, now func() time.Time) modules.Module { return New(src, now) }))
}

// Source is the market data the module reads.
type Source = reply.CandleSource

// Module answers /chart.
type Module struct {
	src  Source
	now  func() time.Time
	bufs chan *bytes.Buffer // a small free list: bounded and deterministic, unlike sync.Pool
	enc  png.Encoder
}

// New builds the module over src; now (time.Now when nil) drops a still-open
// candle a source may have let through.
func New(src Source, now func() time.Time) *Module {
	return &Module{
		src:  src,
		now:  modules.Clock(now),
		bufs: make(chan *bytes.Buffer, pooledBuffers),
		enc:  png.Encoder{CompressionLevel: png.BestSpeed},
	}
}

var _ modules.Module = (*Module)(nil)

// Commands returns /chart.
func (m *Module) Commands() []modules.Command {
	return modules.One("chart", "/chart SYMBOL [15m|1h|4h|1d]",
		"Candlestick chart with EMA20 and volume", m.handle)
}

func (m *Module) handle(ctx context.Context, req modules.Request) (modules.Reply, error) {
	s, text := command.Fetch(ctx, m.src, req.Args, m.now)
	if text != "" {
		return modules.Reply{Text: text}, nil
	}
	sc := newScale(s.Candles)
	photo, err := m.encode(render(s.Pair, s.Interval, s.Candles, sc))
	if err != nil {
		return modules.Reply{}, fmt.Errorf("chart %s %s: %w", s.Pair, s.Interval, err)
	}
	kb := callback.Keyboard(callback.Intervals("chart", s.Pair.String(), string(s.Interval)))
	return modules.Reply{Photo: photo, Text: caption(s.Pair, s.Interval, s.Candles, sc), Buttons: kb}, nil
}

// command reads /chart's arguments and candles, in its own words.
var command = reply.CandleCommand{
	Limit:       Limit,
	MinCandles:  MinCandles,
	Usage:       usageText,
	TooMany:     tooManyText,
	BadInterval: badIntervalText,
	NotEnough:   notEnoughText,
}

// encode writes the PNG into a pooled buffer and returns an exact-size copy,
// so the buffer's spare capacity stays in the pool rather than in the reply.
func (m *Module) encode(img image.Image) ([]byte, error) {
	var buf *bytes.Buffer
	select {
	case buf = <-m.bufs:
		buf.Reset()
	default:
		buf = new(bytes.Buffer)
	}
	defer func() {
		if buf.Cap() <= maxPooledBytes {
			select {
			case m.bufs <- buf:
			default: // enough warm buffers already
			}
		}
	}()
	if err := m.enc.Encode(buf, img); err != nil {
		return nil, fmt.Errorf("encode png: %w", err)
	}
	return bytes.Clone(buf.Bytes()), nil
}
