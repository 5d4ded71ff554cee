package main

//lint:file-ignore SA1019 dashboardv2 is Grafana 12's experimental v2 schema; file provisioning loads the classic dashboard JSON (schemaVersion 42) this package emits.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cryptobot-dev/cryptobot/deploy/grafana"
	"github.com/cryptobot-dev/cryptobot/deploy/prometheus/promcheck"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"go.yaml.in/yaml/v3"
)

// committedDir holds the dashboards Grafana provisions; tests run in gen/.
const committedDir = "../dashboards"

func generated(t *testing.T) []grafana.File {
	t.Helper()
	files, err := grafana.Files()
	if err != nil {
		t.Fatalf("grafana.Files: %v", err)
	}
	if len(files) != 4 {
		t.Fatalf("got %d dashboards, want 4 (overview, upstreams, rollout, resources)", len(files))
	}
	return files
}

func committed(t *testing.T) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(committedDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}

func TestCommittedDashboardsAreFresh(t *testing.T) {
	const fix = "run go run ./deploy/grafana/gen from the module root"
	onDisk := committed(t)
	for _, f := range generated(t) {
		got, ok := onDisk[f.Name]
		switch {
		case !ok:
			t.Errorf("dashboards/%s is missing: %s", f.Name, fix)
		case !bytes.Equal(got, f.JSON):
			t.Errorf("dashboards/%s is stale: %s", f.Name, fix)
		}
		delete(onDisk, f.Name)
	}
	for name := range onDisk {
		t.Errorf("dashboards/%s is not generated: %s (it removes stale files)", name, fix)
	}
}

func TestFilesAreDeterministic(t *testing.T) {
	a, b := generated(t), generated(t)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two runs of grafana.Files differ")
	}
	for _, f := range a {
		if !bytes.HasSuffix(f.JSON, []byte("}\n")) || bytes.HasSuffix(f.JSON, []byte("\n\n")) {
			t.Errorf("%s: want exactly one trailing newline", f.Name)
		}
	}
}

func TestWrite(t *testing.T) {
	t.Run("writes every dashboard and prunes stale JSON", func(t *testing.T) {
		dir := t.TempDir()
		for name, content := range map[string]string{"old.json": "{}", "overview.json": "stale", "README.md": "keep"} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := write(dir); err != nil {
			t.Fatalf("write: %v", err)
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		want := []string{"README.md", "overview.json", "resources.json", "rollout.json", "upstreams.json"}
		if !slices.Equal(names, want) {
			t.Errorf("directory holds %v, want %v", names, want)
		}
		for _, f := range generated(t) {
			got, err := os.ReadFile(filepath.Join(dir, f.Name))
			if err != nil || !bytes.Equal(got, f.JSON) {
				t.Errorf("%s not written as generated (err %v)", f.Name, err)
			}
		}
	})
	t.Run("missing directory is an error", func(t *testing.T) {
		err := write(filepath.Join(t.TempDir(), "nope"))
		if err == nil || !strings.Contains(err.Error(), "run from the module root") {
			t.Errorf("write to a missing dir: got %v, want a 'run from the module root' error", err)
		}
	})
}

func strictDecode(raw []byte) error {
	var d dashboard.Dashboard
	if err := grafana.BuildError(d.UnmarshalJSONStrict(raw)); err != nil {
		return fmt.Errorf("strict decode: %w", err)
	}
	if err := grafana.BuildError(d.Validate()); err != nil {
		return fmt.Errorf("validate: %w", err)
	}
	return nil
}

func TestStrictDecode(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	for name, raw := range committed(t) {
		t.Run(name, func(t *testing.T) {
			if err := strictDecode(raw); err != nil {
				t.Error(err)
			}
		})
	}
	// The decoder must reject what Grafana would misread, or the check above
	// proves nothing.
	valid := committed(t)["overview.json"]
	for _, tc := range []struct{ name, from, to string }{
		{"unknown top-level field", `"uid": "cryptobot-overview",`, `"uid": "cryptobot-overview", "bogus": 1,`},
		{"refresh of the wrong type", `"refresh": "30s"`, `"refresh": 30`},
		{"unit of the wrong type", `"unit": "reqps"`, `"unit": 7`},
	} {
		t.Run("rejects "+tc.name, func(t *testing.T) {
			broken := strings.Replace(string(valid), tc.from, tc.to, 1)
			if broken == string(valid) {
				t.Fatalf("fixture: %q not found", tc.from)
			}
			if err := strictDecode([]byte(broken)); err == nil {
				t.Error("strict decode accepted it")
			}
		})
	}
}

func TestBuildError(t *testing.T) {
	var typedNil dashboard.Dashboard
	for _, tc := range []struct {
		name    string
		err     error
		wantNil bool
	}{
		{"nil", nil, true},
		{"typed-nil BuildErrors", typedNil.UnmarshalJSONStrict([]byte(`{"title":"x","schemaVersion":42,"templating":{},"annotations":{}}`)), true},
		{"real error", errors.New("boom"), false},
		{"decode error", typedNil.UnmarshalJSONStrict([]byte(`{"bogus":1}`)), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := grafana.BuildError(tc.err); (got == nil) != tc.wantNil {
				t.Errorf("BuildError(%v) = %v, want nil: %v", tc.err, got, tc.wantNil)
			}
		})
	}
}

func TestLintCommittedDashboards(t *testing.T) {
	known := promcheck.Metrics()
	for name, raw := range committed(t) {
		t.Run(name, func(t *testing.T) {
			for _, p := range lint(raw, known) {
				t.Error(p)
			}
		})
	}
}

// TestLintCatches proves each check fires on a minimal dashboard broken in
// one way.
func TestLintCatches(t *testing.T) {
	known := promcheck.Metrics()
	const okExpr = `sum(rate(cryptobot_commands_total{job=~"$job"}[$__rate_interval]))`
	ds := map[string]any{"type": "prometheus", "uid": "prometheus"}
	panel := func(id, x, y, w int, targets ...map[string]any) map[string]any {
		return map[string]any{"id": id, "type": "timeseries", "title": fmt.Sprintf("p%d", id), "datasource": ds,
			"gridPos": map[string]any{"x": x, "y": y, "w": w, "h": 8}, "targets": targets}
	}
	tgt := func(ref, expr string) map[string]any {
		return map[string]any{"refId": ref, "expr": expr, "datasource": ds}
	}
	build := func(mutate func(d map[string]any)) []byte {
		d := map[string]any{
			"uid": "x",
			"templating": map[string]any{"list": []any{map[string]any{
				"name": "job", "query": "label_values(cryptobot_build_info, job)", "datasource": ds}}},
			"panels": []any{
				map[string]any{"id": 1, "type": "row", "title": "row", "gridPos": map[string]any{"x": 0, "y": 0, "w": 24, "h": 1}, "panels": []any{}},
				panel(2, 0, 1, 12, tgt("A", okExpr)),
				panel(3, 12, 1, 12, tgt("A", okExpr), tgt("B", okExpr)),
			},
		}
		if mutate != nil {
			mutate(d)
		}
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	panels := func(d map[string]any) []any { return d["panels"].([]any) }
	p3 := func(d map[string]any) map[string]any { return panels(d)[2].(map[string]any) }

	if got := lint(build(nil), known); len(got) != 0 {
		t.Fatalf("valid fixture: %v", got)
	}
	for _, tc := range []struct {
		name   string
		mutate func(map[string]any)
		want   string
	}{
		{"wider than the grid", func(d map[string]any) { p3(d)["gridPos"].(map[string]any)["w"] = 13 }, "outside the 24-column grid"},
		{"overlap", func(d map[string]any) { p3(d)["gridPos"].(map[string]any)["x"] = 6 }, "panels 2 and 3 overlap"},
		{"overlaps a row", func(d map[string]any) { p3(d)["gridPos"].(map[string]any)["y"] = 0 }, "panels 1 and 3 overlap"},
		{"no gridPos", func(d map[string]any) { delete(p3(d), "gridPos") }, "has no gridPos"},
		{"no id", func(d map[string]any) { delete(p3(d), "id") }, "no id"},
		{"duplicate id", func(d map[string]any) { p3(d)["id"] = 2 }, "duplicate id"},
		{"duplicate title", func(d map[string]any) { p3(d)["title"] = "p2" }, "duplicate title"},
		{"no targets", func(d map[string]any) { p3(d)["targets"] = []any{} }, "no targets"},
		{"missing refId", func(d map[string]any) { p3(d)["targets"] = []any{tgt("", okExpr)} }, "target without refId"},
		{"duplicate refId", func(d map[string]any) { p3(d)["targets"] = []any{tgt("A", okExpr), tgt("A", okExpr)} }, "duplicate refId A"},
		{"panel datasource", func(d map[string]any) { p3(d)["datasource"] = map[string]any{"type": "prometheus", "uid": "other"} }, `"p3": datasource`},
		{"target without datasource", func(d map[string]any) { p3(d)["targets"] = []any{map[string]any{"refId": "A", "expr": okExpr}} }, `"p3" A: datasource`},
		{"hard-coded job", func(d map[string]any) {
			p3(d)["targets"] = []any{tgt("A", `sum(rate(cryptobot_commands_total{job="tns_app"}[5m]))`)}
		}, `lacks job=~"$job"`},
		{"one selector without job", func(d map[string]any) {
			p3(d)["targets"] = []any{tgt("A", `go_memory_classes_total_bytes{job=~"$job"} - go_memory_classes_heap_released_bytes`)}
		}, `go_memory_classes_heap_released_bytes{} lacks`},
		{"unknown metric", func(d map[string]any) {
			p3(d)["targets"] = []any{tgt("A", `sum(cryptobot_command_total{job=~"$job"})`)}
		}, "unknown metric cryptobot_command_total"},
		{"empty expr", func(d map[string]any) { p3(d)["targets"] = []any{tgt("A", " ")} }, "empty expr"},
		{"no job variable", func(d map[string]any) { d["templating"] = map[string]any{"list": []any{}} }, "no job template variable"},
		{"job variable on another metric", func(d map[string]any) {
			d["templating"] = map[string]any{"list": []any{map[string]any{"name": "job", "query": "label_values(up, job)", "datasource": ds}}}
		}, "variable job: query"},
		{"not JSON", func(d map[string]any) { d["panels"] = "x" }, "decode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			problems := lint(build(tc.mutate), known)
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tc.want) }) {
				t.Errorf("problems %q, want one containing %q", problems, tc.want)
			}
		})
	}
}

func TestQueriesMatchCommittedJSON(t *testing.T) {
	var fromJSON []grafana.Query
	for _, f := range generated(t) { // generated order: overview, upstreams, rollout, resources
		raw, err := os.ReadFile(filepath.Join(committedDir, f.Name))
		if err != nil {
			t.Fatal(err)
		}
		qs, err := queriesOf(raw)
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		fromJSON = append(fromJSON, qs...)
	}
	got := grafana.Queries()
	if len(got) < 50 {
		t.Errorf("only %d queries", len(got))
	}
	if !reflect.DeepEqual(got, fromJSON) {
		t.Errorf("grafana.Queries() does not match the committed JSON (%d vs %d queries)", len(got), len(fromJSON))
	}
}

// TestDashboardsShowEveryBotMetric keeps the dashboards in step with the
// metrics contract: a new collector needs a panel.
func TestDashboardsShowEveryBotMetric(t *testing.T) {
	used := map[string]bool{"cryptobot_build_info": true} // feeds the job variable
	for _, q := range grafana.Queries() {
		for _, s := range promcheck.Selectors(q.Expr) {
			used[strings.TrimSuffix(s.Metric, "_bucket")] = true
		}
	}
	required := []string{
		"go_memory_classes_total_bytes", "go_memory_classes_heap_released_bytes", "go_gc_gomemlimit_bytes",
		"go_gc_heap_live_bytes", "go_goroutines", "process_resident_memory_bytes", "process_cpu_seconds_total",
	}
	for name := range promcheck.Metrics() {
		if strings.HasPrefix(name, "cryptobot_") {
			required = append(required, name)
		}
	}
	for _, name := range required {
		if !used[name] {
			t.Errorf("no panel shows %s", name)
		}
	}
}

// rulesFile turns queries into a Prometheus rules file, one recording rule
// per query, so promtool can parse every expression.
func rulesFile(qs []grafana.Query) ([]byte, error) {
	type rule struct {
		Record string `yaml:"record"`
		Expr   string `yaml:"expr"`
	}
	type group struct {
		Name  string `yaml:"name"`
		Rules []rule `yaml:"rules"`
	}
	var groups []group
	for i, q := range qs {
		if len(groups) == 0 || groups[len(groups)-1].Name != q.Dashboard {
			groups = append(groups, group{Name: q.Dashboard})
		}
		g := &groups[len(groups)-1]
		g.Rules = append(g.Rules, rule{Record: fmt.Sprintf("grafana:query_%d", i), Expr: q.Expand("5m", "cryptobot")})
	}
	return yaml.Marshal(map[string]any{"groups": groups})
}

func TestQueriesParseWithPromtool(t *testing.T) {
	check := func(t *testing.T, qs []grafana.Query) (string, error) {
		t.Helper()
		rules, err := rulesFile(qs)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "panel-queries.yml"), rules, 0o644); err != nil {
			t.Fatal(err)
		}
		return promcheck.Promtool(t.Context(), t, dir, "check", "rules", "panel-queries.yml")
	}
	t.Run("every panel query parses", func(t *testing.T) {
		qs := grafana.Queries()
		out, err := check(t, qs)
		if err != nil {
			for i, q := range qs {
				t.Logf("grafana:query_%d = %s / %s / %s", i, q.Dashboard, q.Panel, q.RefID)
			}
			t.Fatalf("%v\n%s", err, out)
		}
		if want := fmt.Sprintf("SUCCESS: %d rules found", len(qs)); !strings.Contains(out, want) {
			t.Errorf("promtool output %q, want %q", out, want)
		}
	})
	t.Run("a broken query fails", func(t *testing.T) {
		out, err := check(t, []grafana.Query{{Dashboard: "x", Expr: `sum(rate(cryptobot_commands_total{job=~"$job"}[$__rate_interval])`}})
		if err == nil || !strings.Contains(out, "unclosed left parenthesis") {
			t.Errorf("promtool accepted a broken expr: err %v, output %s", err, out)
		}
	})
}

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
