package grafana

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestQueryExpand(t *testing.T) {
	for _, tc := range []struct {
		name, expr, want string
	}{
		{"both macros", `sum(rate(x{job=~"$job"}[$__rate_interval]))`, `sum(rate(x{job=~"cryptobot"}[5m]))`},
		{"repeated", `a{job=~"$job"}[$__rate_interval] / b{job=~"$job"}[$__rate_interval]`, `a{job=~"cryptobot"}[5m] / b{job=~"cryptobot"}[5m]`},
		{"no macros", `time()`, `time()`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := (Query{Expr: tc.expr}).Expand("5m", "cryptobot"); got != tc.want {
				t.Errorf("Expand = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestQueries(t *testing.T) {
	qs := Queries()
	dashboards := map[string]bool{}
	seen := map[Query]bool{}
	for _, q := range qs {
		dashboards[q.Dashboard] = true
		key := Query{Dashboard: q.Dashboard, Panel: q.Panel, RefID: q.RefID}
		if seen[key] {
			t.Errorf("duplicate query address %s / %s / %s", q.Dashboard, q.Panel, q.RefID)
		}
		seen[key] = true
		if q.Panel == "" || q.RefID == "" || q.Expr == "" {
			t.Errorf("incomplete query %+v", q)
		}
		if strings.Contains(q.Expand("1m", "bot"), "$") {
			t.Errorf("%s / %s: macro left after Expand: %s", q.Dashboard, q.Panel, q.Expr)
		}
	}
	for _, uid := range []string{"cryptobot-overview", "cryptobot-upstreams", "cryptobot-rollout", "cryptobot-resources"} {
		if !dashboards[uid] {
			t.Errorf("no queries for dashboard %s", uid)
		}
	}
}

func TestProvisioning(t *testing.T) {
	read := func(t *testing.T, path string, v any) {
		t.Helper()
		b, err := os.ReadFile(filepath.FromSlash(path))
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		dec.KnownFields(true)
		if err := dec.Decode(v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	t.Run("datasource", func(t *testing.T) {
		var f struct {
			APIVersion  int `yaml:"apiVersion"`
			Datasources []struct {
				Name      string         `yaml:"name"`
				Type      string         `yaml:"type"`
				UID       string         `yaml:"uid"`
				Access    string         `yaml:"access"`
				URL       string         `yaml:"url"`
				IsDefault bool           `yaml:"isDefault"`
				Editable  bool           `yaml:"editable"`
				JSONData  map[string]any `yaml:"jsonData"`
			} `yaml:"datasources"`
		}
		read(t, "provisioning/datasources/prometheus.yml", &f)
		if f.APIVersion != 1 || len(f.Datasources) != 1 {
			t.Fatalf("want apiVersion 1 and one datasource, got %+v", f)
		}
		ds := f.Datasources[0]
		if ds.UID != DatasourceUID || ds.Type != "prometheus" || ds.URL != "http://prometheus:9090" || ds.Access != "proxy" {
			t.Errorf("datasource %+v, want uid %q, type prometheus, url http://prometheus:9090, access proxy", ds, DatasourceUID)
		}
	})
	t.Run("dashboards", func(t *testing.T) {
		var f struct {
			APIVersion int `yaml:"apiVersion"`
			Providers  []struct {
				Name                  string `yaml:"name"`
				OrgID                 int    `yaml:"orgId"`
				Folder                string `yaml:"folder"`
				Type                  string `yaml:"type"`
				DisableDeletion       bool   `yaml:"disableDeletion"`
				AllowUIUpdates        bool   `yaml:"allowUiUpdates"`
				UpdateIntervalSeconds int    `yaml:"updateIntervalSeconds"`
				Options               struct {
					Path                      string `yaml:"path"`
					FoldersFromFilesStructure bool   `yaml:"foldersFromFilesStructure"`
				} `yaml:"options"`
			} `yaml:"providers"`
		}
		read(t, "provisioning/dashboards/cryptobot.yml", &f)
		if f.APIVersion != 1 || len(f.Providers) != 1 {
			t.Fatalf("want apiVersion 1 and one provider, got %+v", f)
		}
		p := f.Providers[0]
		if p.Type != "file" || p.Options.Path != "/var/lib/grafana/dashboards" {
			t.Errorf("provider %+v, want type file at /var/lib/grafana/dashboards", p)
		}
	})
}
