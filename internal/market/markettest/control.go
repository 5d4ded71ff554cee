package markettest

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
)

// Control is an HTTP API over the three fakes, so a process that did not
// start them (a shell, the container test) can steer them. Every call takes
// venue=binance|bybit|okx, or none for all three:
//
//	POST /latency?d=150ms                               Delay (d=0 turns it off)
//	POST /last?pair=BTC-USDT&value=0                    SetLast
//	POST /override?endpoint=funding&pair=BTC-USDT&field=fundingRate&value=0.5   Override
//	POST /reset                                         Reset
//	GET  /hits?endpoint=ticker                          Hits, summed over the venues
func (v *Venues) Control() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /latency", v.control(func(s venueControl, r *http.Request) error {
		d, err := time.ParseDuration(r.FormValue("d"))
		if err != nil || d < 0 {
			return fmt.Errorf("d: want a duration ≥ 0, got %q", r.FormValue("d"))
		}
		s.Delay(d)
		return nil
	}))
	mux.HandleFunc("POST /last", v.control(func(s venueControl, r *http.Request) error {
		p, err := market.Normalize(r.FormValue("pair"))
		if err != nil {
			return err
		}
		s.SetLast(p, r.FormValue("value"))
		return nil
	}))
	mux.HandleFunc("POST /override", v.control(func(s venueControl, r *http.Request) error {
		p, err := market.Normalize(r.FormValue("pair"))
		if err != nil {
			return err
		}
		if r.FormValue("endpoint") == "" || r.FormValue("field") == "" {
			return fmt.Errorf("endpoint and field are required")
		}
		s.Override(r.FormValue("endpoint"), p, r.FormValue("field"), r.FormValue("value"))
		return nil
	}))
	mux.HandleFunc("POST /reset", v.control(func(s venueControl, _ *http.Request) error {
		s.Reset()
		return nil
	}))
	mux.HandleFunc("GET /hits", func(w http.ResponseWriter, r *http.Request) {
		ss, err := v.pick(r.FormValue("venue"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		n := 0
		for _, s := range ss {
			n += s.Hits(r.FormValue("endpoint"))
		}
		fmt.Fprintln(w, strconv.Itoa(n))
	})
	return mux
}

// venueControl is what every fake offers.
type venueControl interface {
	Delay(time.Duration)
	SetLast(market.Pair, string)
	Override(endpoint string, p market.Pair, field, value string)
	Reset()
	Hits(endpoint string) int
}

func (v *Venues) pick(name string) ([]venueControl, error) {
	switch name {
	case "", "all":
		return []venueControl{v.Binance, v.Bybit, v.OKX}, nil
	case "binance":
		return []venueControl{v.Binance}, nil
	case "bybit":
		return []venueControl{v.Bybit}, nil
	case "okx":
		return []venueControl{v.OKX}, nil
	}
	return nil, fmt.Errorf("venue: want binance, bybit, okx or all, got %q", name)
}

// control applies f to the venues the request names and answers 204, or 400.
func (v *Venues) control(f func(venueControl, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ss, err := v.pick(r.FormValue("venue"))
		for _, s := range ss {
			if err == nil {
				err = f(s, r)
			}
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}
