// Package grafana defines the bot's Grafana dashboards as code with
// grafana-foundation-sdk. The generator in ./gen writes them to
// dashboards/*.json, which Grafana loads through the file provider in
// provisioning/; Queries lists every panel query so end-to-end tests can run
// each one against a real Prometheus.
package grafana

//lint:file-ignore SA1019 dashboardv2 is Grafana 12's experimental v2 schema; file provisioning loads the classic dashboard JSON (schemaVersion 42) this package emits.

//go:generate go run ./gen -dir dashboards

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// DatasourceUID is the uid of the provisioned Prometheus datasource
// (provisioning/datasources/prometheus.yml); every panel and target uses it.
const DatasourceUID = "prometheus"

// JobVariable is the dashboard template variable every query filters on,
// as job=~"$job".
const JobVariable = "job"

// gridWidth is Grafana's fixed number of dashboard columns.
const gridWidth = 24

// Query is one panel target of a generated dashboard.
type Query struct {
	Dashboard string // dashboard uid, e.g. "cryptobot-overview"
	Panel     string // panel title, unique within its dashboard
	RefID     string // target refId within the panel: "A", "B", ...
	Expr      string // PromQL with Grafana macros ($__rate_interval, $job)
}

// Expand returns the query's expression with the Grafana macros replaced, so
// it can be sent to Prometheus directly: $__rate_interval becomes
// rateInterval (e.g. "5m") and $job becomes job.
func (q Query) Expand(rateInterval, job string) string {
	return strings.NewReplacer("$__rate_interval", rateInterval, "$"+JobVariable, job).Replace(q.Expr)
}

// File is one generated dashboard: Name is its file name under dashboards/.
type File struct {
	Name string
	JSON []byte
}

// Queries lists every target of every generated dashboard in dashboard,
// panel and refId order.
func Queries() []Query {
	var qs []Query
	for _, b := range boards() {
		for _, r := range b.rows {
			for _, p := range r.panels {
				for i, t := range p.targets {
					qs = append(qs, Query{Dashboard: b.uid, Panel: p.title, RefID: refID(i), Expr: t.expr})
				}
			}
		}
	}
	return qs
}

// Files builds every dashboard and renders it as indented JSON with a
// trailing newline. Key order is stable: struct fields in SDK order, map keys
// sorted.
func Files() ([]File, error) {
	var files []File
	for _, b := range boards() {
		d, err := b.build()
		if err != nil {
			return nil, fmt.Errorf("build dashboard %s: %w", b.uid, err)
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false) // keep PromQL such as `a > 0` readable
		if err := enc.Encode(d); err != nil {
			return nil, fmt.Errorf("encode dashboard %s: %w", b.uid, err)
		}
		files = append(files, File{Name: b.file, JSON: buf.Bytes()})
	}
	return files, nil
}

// BuildError turns the SDK's typed-nil cog.BuildErrors (returned as a
// non-nil error on success) into nil and leaves real errors alone.
func BuildError(err error) error {
	var be cog.BuildErrors
	if errors.As(err, &be) && len(be) == 0 {
		return nil
	}
	return err
}

type panelKind int

const (
	timeSeries panelKind = iota
	statPanel
)

// board, row, panel and target describe a dashboard declaratively; build
// turns them into SDK objects, assigning ids, refIds and grid positions.
type board struct {
	file, uid, title, description string
	rows                          []row
}

type row struct {
	title  string
	panels []panel
}

type panel struct {
	kind               panelKind
	title, description string
	unit               string
	w, h               uint32
	targets            []target
	min, max           *float64
	thresholds         []dashboard.Threshold // first step is the base (nil value)
	thresholdLines     bool                  // draw thresholds as lines on a time series
	noValue            string
}

type target struct {
	expr, legend string
}

func refID(i int) string { return string(rune('A' + i)) }

func datasource() common.DataSourceRef {
	return common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr(DatasourceUID)}
}

func (b board) build() (dashboard.Dashboard, error) {
	db := dashboard.NewDashboardBuilder(b.title).
		Uid(b.uid).
		Description(b.description).
		Tags([]string{"cryptobot"}).
		Timezone("browser").
		Refresh("30s").
		Time("now-6h", "now").
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		WithVariable(dashboard.NewQueryVariableBuilder(JobVariable).
			Label("Job").
			Datasource(datasource()).
			Query(dashboard.StringOrMap{String: cog.ToPtr("label_values(cryptobot_build_info, job)")}).
			Definition("label_values(cryptobot_build_info, job)").
			Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
			Sort(dashboard.VariableSortAlphabeticalAsc).
			Multi(true).
			IncludeAll(true).
			AllValue(".*"))

	id := uint32(0)
	y := uint32(0)
	for _, r := range b.rows {
		id++
		db.WithRow(dashboard.NewRowBuilder(r.title).Id(id).Datasource(datasource()).
			GridPos(dashboard.GridPos{X: 0, Y: y, W: gridWidth, H: 1}))
		y++
		x, lineH := uint32(0), uint32(0)
		for _, p := range r.panels {
			if x+p.w > gridWidth {
				x, y, lineH = 0, y+lineH, 0
			}
			id++
			db.WithPanel(p.builder(id, dashboard.GridPos{X: x, Y: y, W: p.w, H: p.h}))
			x += p.w
			lineH = max(lineH, p.h)
		}
		y += lineH
	}
	d, err := db.Build()
	return d, BuildError(err)
}

func (p panel) builder(id uint32, pos dashboard.GridPos) cog.Builder[dashboard.Panel] {
	targets := make([]cog.Builder[variants.Dataquery], len(p.targets))
	for i, t := range p.targets {
		q := prometheus.NewDataqueryBuilder().RefId(refID(i)).Datasource(datasource()).Expr(t.expr)
		if t.legend != "" {
			q.LegendFormat(t.legend)
		}
		targets[i] = q
	}
	var thresholds *dashboard.ThresholdsConfigBuilder
	if len(p.thresholds) > 0 {
		thresholds = dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(p.thresholds)
	}

	switch p.kind {
	case statPanel:
		sp := stat.NewPanelBuilder().Id(id).Title(p.title).Description(p.description).
			Datasource(datasource()).GridPos(pos).Targets(targets).
			GraphMode(common.BigValueGraphModeArea).
			ColorMode(common.BigValueColorModeValue).
			Orientation(common.VizOrientationAuto).
			ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}))
		if p.unit != "" {
			sp.Unit(p.unit)
		}
		if thresholds != nil {
			sp.Thresholds(thresholds)
		}
		if p.noValue != "" {
			sp.NoValue(p.noValue)
		}
		if p.min != nil {
			sp.Min(*p.min)
		}
		if p.max != nil {
			sp.Max(*p.max)
		}
		return sp
	default:
		tp := timeseries.NewPanelBuilder().Id(id).Title(p.title).Description(p.description).
			Datasource(datasource()).GridPos(pos).Targets(targets).
			FillOpacity(10).
			ShowPoints(common.VisibilityModeNever).
			Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderDescending)).
			Legend(common.NewVizLegendOptionsBuilder().ShowLegend(true).
				DisplayMode(common.LegendDisplayModeList).Placement(common.LegendPlacementBottom))
		if p.unit != "" {
			tp.Unit(p.unit)
		}
		if thresholds != nil {
			tp.Thresholds(thresholds)
		}
		if p.thresholdLines {
			tp.ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeDashed))
		}
		if p.noValue != "" {
			tp.NoValue(p.noValue)
		}
		if p.min != nil {
			tp.Min(*p.min)
		}
		if p.max != nil {
			tp.Max(*p.max)
		}
		return tp
	}
}
