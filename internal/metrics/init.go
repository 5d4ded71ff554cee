package metrics

// Known lists the label values that can appear, so Init can create every
// series at zero: dashboards and alerts then see zeros, not gaps, and rate()
// works from the first scrape.
type Known struct {
	Sources   []string // update sources: webhook, polling, console
	Commands  []string // every command name the router serves
	Modules   []string // every module id (loaded or skipped)
	Enhanced  []string // enhanced module ids (sections, admissions)
	Venues    []string // exchanges in failover order
	Endpoints []string // exchange endpoint labels: httpjson.Endpoints
	Flags     []string // flag keys
	Routes    []string // HTTP route patterns
	Methods   []string // Telegram methods the bot calls: telegram.Methods

	// Label values, each exported by the package that records it (this
	// package cannot import them: they import it).
	CommandOutcomes  []string // dispatch.CommandOutcomes
	SectionOutcomes  []string // dispatch.SectionOutcomes
	SkipCauses       []string // dispatch.SkipCauses
	AdmissionResults []string // memguard.AdmissionResults
	ExchangeOutcomes []string // httpjson.Outcomes
	UpdateOutcomes   []string // telegram.IntakeOutcomes
	ReplyOutcomes    []string // telegram.ReplyOutcomes
	TelegramStatuses []string // telegram.Statuses
}

// Label values still listed here: the market cache and the flag provider
// record these without exporting them yet, and HTTPCodes are what the
// routes answer.
var (
	CacheKinds    = []string{"ticker", "open_interest", "oi_history", "funding", "candles"}
	CacheResults  = []string{"hit", "miss", "coalesced"}
	ReloadResults = []string{"ok", "rejected", "unchanged"}
	HTTPCodes     = []string{"200", "400", "401", "404", "405", "413", "503"}
)

// Init creates every known series at zero.
func (m *Metrics) Init(k Known) {
	for _, s := range k.Sources {
		for _, o := range k.UpdateOutcomes {
			m.UpdatesReceived.WithLabelValues(s, o)
		}
	}
	for _, c := range append(k.Commands, "unknown") {
		for _, o := range k.CommandOutcomes {
			m.Commands.WithLabelValues(c, o)
		}
		m.CommandDuration.WithLabelValues(c)
	}
	for _, o := range k.ReplyOutcomes {
		m.Replies.WithLabelValues(o)
	}
	for _, id := range k.Modules {
		for _, c := range k.SkipCauses {
			m.ModuleSkipped.WithLabelValues(id, c) // 0: the dashboard reads "none skipped", not "No data"
		}
	}
	for _, id := range k.Enhanced {
		for _, o := range k.SectionOutcomes {
			m.SectionsTotal.WithLabelValues(id, o)
		}
		for _, r := range k.AdmissionResults {
			m.MemoryAdmissions.WithLabelValues(id, r)
		}
	}
	for i, v := range k.Venues {
		for _, e := range k.Endpoints {
			for _, o := range k.ExchangeOutcomes {
				m.ExchangeRequests.WithLabelValues(v, e, o)
			}
			m.ExchangeDuration.WithLabelValues(v, e)
		}
		for _, to := range k.Venues[i+1:] {
			m.Failovers.WithLabelValues(v, to)
		}
	}
	for _, kind := range CacheKinds {
		for _, r := range CacheResults {
			m.CacheRequests.WithLabelValues(kind, r)
		}
	}
	for _, f := range k.Flags {
		for _, v := range []string{"on", "off"} {
			m.FlagEvaluations.WithLabelValues(f, v, "TARGETING_MATCH")
		}
	}
	for _, r := range ReloadResults {
		m.FlagReloads.WithLabelValues(r)
	}
	for _, route := range k.Routes {
		for _, c := range HTTPCodes {
			m.HTTPRequests.WithLabelValues(route, c)
		}
		m.HTTPDuration.WithLabelValues(route)
	}
	for _, meth := range k.Methods {
		for _, s := range k.TelegramStatuses {
			m.TelegramRequests.WithLabelValues(meth, s)
		}
		m.TelegramDuration.WithLabelValues(meth)
	}
}
