package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/cryptobot-dev/cryptobot/deploy/grafana"
	"github.com/cryptobot-dev/cryptobot/deploy/prometheus/promcheck"
)

// The raw view of a dashboard the checks below need; decoding into it is
// independent of the SDK so a check cannot be fooled by SDK defaults.
type rawDashboard struct {
	UID        string     `json:"uid"`
	Panels     []rawPanel `json:"panels"`
	Templating struct {
		List []struct {
			Name       string          `json:"name"`
			Query      json.RawMessage `json:"query"`
			Datasource *rawDatasource  `json:"datasource"`
		} `json:"list"`
	} `json:"templating"`
}

type rawPanel struct {
	ID         uint32         `json:"id"`
	Type       string         `json:"type"`
	Title      string         `json:"title"`
	GridPos    *rawGridPos    `json:"gridPos"`
	Datasource *rawDatasource `json:"datasource"`
	Targets    []rawTarget    `json:"targets"`
	Panels     []rawPanel     `json:"panels"` // a collapsed row's panels
}

type rawGridPos struct{ X, Y, W, H int }

type rawDatasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type rawTarget struct {
	RefID      string         `json:"refId"`
	Expr       string         `json:"expr"`
	Datasource *rawDatasource `json:"datasource"`
}

const jobMatcher = `job=~"$job"`

// lint returns every problem found in one dashboard's JSON; known is the set
// of metric names the bot exposes.
func lint(raw []byte, known map[string]bool) []string {
	var d rawDashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		return []string{fmt.Sprintf("decode: %v", err)}
	}
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	jobVar := false
	for _, v := range d.Templating.List {
		if v.Name != grafana.JobVariable {
			continue
		}
		jobVar = true
		if !strings.Contains(string(v.Query), "label_values(cryptobot_build_info, job)") {
			add("variable job: query %s, want label_values(cryptobot_build_info, job)", v.Query)
		}
		if !okDatasource(v.Datasource) {
			add("variable job: datasource %+v, want uid %q", v.Datasource, grafana.DatasourceUID)
		}
	}
	if !jobVar {
		add("no job template variable")
	}

	ids := map[uint32]bool{}
	titles := map[string]bool{}
	var walk func(group string, panels []rawPanel)
	walk = func(group string, panels []rawPanel) {
		problems = append(problems, gridProblems(group, panels)...)
		for _, p := range panels {
			name := fmt.Sprintf("panel %d %q", p.ID, p.Title)
			if p.ID == 0 {
				add("%s: no id", name)
			} else if ids[p.ID] {
				add("%s: duplicate id", name)
			}
			ids[p.ID] = true
			if p.Type == "row" {
				walk(name, p.Panels)
				continue
			}
			if p.Title == "" {
				add("%s: no title", name)
			} else if titles[p.Title] {
				add("%s: duplicate title", name)
			}
			titles[p.Title] = true
			if !okDatasource(p.Datasource) {
				add("%s: datasource %+v, want uid %q", name, p.Datasource, grafana.DatasourceUID)
			}
			if len(p.Targets) == 0 {
				add("%s: no targets", name)
			}
			refIDs := map[string]bool{}
			for _, t := range p.Targets {
				switch {
				case t.RefID == "":
					add("%s: target without refId", name)
				case refIDs[t.RefID]:
					add("%s: duplicate refId %s", name, t.RefID)
				}
				refIDs[t.RefID] = true
				if !okDatasource(t.Datasource) {
					add("%s %s: datasource %+v, want uid %q", name, t.RefID, t.Datasource, grafana.DatasourceUID)
				}
				for _, p := range exprProblems(t.Expr, known) {
					add("%s %s: %s", name, t.RefID, p)
				}
			}
		}
	}
	walk("dashboard", d.Panels)
	return problems
}

func okDatasource(ds *rawDatasource) bool {
	return ds != nil && ds.Type == "prometheus" && ds.UID == grafana.DatasourceUID
}

// gridProblems checks one group of panels: inside the 24-column grid and no
// two overlapping.
func gridProblems(group string, panels []rawPanel) []string {
	var problems []string
	for i, p := range panels {
		g := p.GridPos
		if g == nil {
			problems = append(problems, fmt.Sprintf("%s: panel %d has no gridPos", group, p.ID))
			continue
		}
		if g.X < 0 || g.Y < 0 || g.W <= 0 || g.H <= 0 || g.X+g.W > 24 {
			problems = append(problems, fmt.Sprintf("%s: panel %d gridPos %+v outside the 24-column grid", group, p.ID, *g))
		}
		for _, q := range panels[:i] {
			h := q.GridPos
			if h != nil && g.X < h.X+h.W && h.X < g.X+g.W && g.Y < h.Y+h.H && h.Y < g.Y+g.H {
				problems = append(problems, fmt.Sprintf("%s: panels %d and %d overlap", group, q.ID, p.ID))
			}
		}
	}
	return problems
}

// exprProblems checks that every metric an expression reads exists and is
// filtered on the job variable.
func exprProblems(expr string, known map[string]bool) []string {
	if strings.TrimSpace(expr) == "" {
		return []string{"empty expr"}
	}
	sels := promcheck.Selectors(expr)
	if len(sels) == 0 {
		return []string{"expr reads no bot metric"}
	}
	var problems []string
	for _, s := range sels {
		if !promcheck.Known(known, s.Metric) {
			problems = append(problems, fmt.Sprintf("unknown metric %s", s.Metric))
		}
		if !strings.Contains(s.Matchers, jobMatcher) {
			problems = append(problems, fmt.Sprintf("%s{%s} lacks %s", s.Metric, s.Matchers, jobMatcher))
		}
	}
	return problems
}

// queriesOf lists a dashboard's targets the way grafana.Queries does.
func queriesOf(raw []byte) ([]grafana.Query, error) {
	var d rawDashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, err
	}
	var qs []grafana.Query
	var walk func([]rawPanel)
	walk = func(panels []rawPanel) {
		for _, p := range panels {
			walk(p.Panels)
			for _, t := range p.Targets {
				qs = append(qs, grafana.Query{Dashboard: d.UID, Panel: p.Title, RefID: t.RefID, Expr: t.Expr})
			}
		}
	}
	walk(d.Panels)
	return qs, nil
}
