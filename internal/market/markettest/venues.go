package markettest

// Venues is the three fakes started together over one Book.
type Venues struct {
	Book    Book
	Binance *Binance
	Bybit   *Bybit
	OKX     *OKX
}

// Start starts all three fakes with DefaultBook.
func Start() *Venues { return StartBook(DefaultBook()) }

// StartBook starts all three fakes serving b.
func StartBook(b Book) *Venues {
	b = b.clone()
	return &Venues{Book: b, Binance: NewBinanceBook(b), Bybit: NewBybitBook(b), OKX: NewOKXBook(b)}
}

// Close stops all three fakes.
func (v *Venues) Close() {
	v.Binance.Close()
	v.Bybit.Close()
	v.OKX.Close()
}
