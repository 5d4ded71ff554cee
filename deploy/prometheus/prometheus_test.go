package prometheus

import (
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/cryptobot-dev/cryptobot/deploy/prometheus/promcheck"
)

func TestPromtool(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"check config", []string{"check", "config", "prometheus.yml"}, "SUCCESS: prometheus.yml is valid prometheus config file syntax"},
		{"check HA config", []string{"check", "config", "prometheus.ha.yml"}, "SUCCESS: prometheus.ha.yml is valid prometheus config file syntax"},
		{"check rules", []string{"check", "rules", "alerts.yml"}, "SUCCESS: 17 rules found"},
		{"test rules", []string{"test", "rules", "alerts_test.yml"}, "SUCCESS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := promcheck.Promtool(t.Context(), t, ".", tc.args...)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("output %q, want %q", out, tc.want)
			}
		})
	}
}

type rule struct {
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func decodeFile(t *testing.T, path string, v any) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func alertRules(t *testing.T) []rule {
	t.Helper()
	var f struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []rule `yaml:"rules"`
		} `yaml:"groups"`
	}
	decodeFile(t, "alerts.yml", &f)
	var rules []rule
	for _, g := range f.Groups {
		rules = append(rules, g.Rules...)
	}
	return rules
}

// ruleProblems checks one alert against the house rules: a severity, the
// three annotations with a one-line runbook, and selectors that read known
// metrics of the cryptobot job only.
func ruleProblems(r rule, known map[string]bool) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if s := r.Labels["severity"]; s != "critical" && s != "warning" {
		add("severity %q, want critical or warning", s)
	}
	for _, key := range []string{"summary", "description", "runbook"} {
		if strings.TrimSpace(r.Annotations[key]) == "" {
			add("no %s annotation", key)
		}
	}
	if strings.Contains(strings.TrimSpace(r.Annotations["runbook"]), "\n") {
		add("runbook is not one line")
	}
	sels := promcheck.Selectors(r.Expr)
	if len(sels) == 0 {
		add("expr reads no bot metric")
	}
	for _, s := range sels {
		if !promcheck.Known(known, s.Metric) {
			add("unknown metric %s", s.Metric)
		}
		if !strings.Contains(s.Matchers, `job="cryptobot"`) {
			add(`%s{%s} lacks job="cryptobot"`, s.Metric, s.Matchers)
		}
	}
	return problems
}

func TestAlertRules(t *testing.T) {
	rules := alertRules(t)
	var names []string
	for _, r := range rules {
		names = append(names, r.Alert)
	}
	sort.Strings(names)
	want := []string{"AllVenuesFailing", "BotDown", "CommandErrorRatio", "CryptobotAlertsStalled", "CryptobotExchangeRejecting", "CryptobotJournalBacklog",
		"CryptobotNoLeader", "CryptobotOutboxBacklog", "CryptobotStaleData", "CryptobotStoreErrors", "FlagFilesInvalid", "MemoryHigh", "RepliesLateOrFailed", "Shedding", "TelegramRateLimitStorm", "UpdatesNotAnswered", "VenueFailing"}
	if !slices.Equal(names, want) {
		t.Errorf("alerts %v, want %v", names, want)
	}
	known := promcheck.Metrics()
	for _, r := range rules {
		t.Run(r.Alert, func(t *testing.T) {
			for _, p := range ruleProblems(r, known) {
				t.Error(p)
			}
		})
	}
}

func TestRuleProblemsCatches(t *testing.T) {
	known := promcheck.Metrics()
	good := rule{
		Alert:       "X",
		Expr:        `cryptobot_flag_config_valid{job="cryptobot"} == 0`,
		Labels:      map[string]string{"severity": "warning"},
		Annotations: map[string]string{"summary": "s", "description": "d", "runbook": "r"},
	}
	if p := ruleProblems(good, known); len(p) != 0 {
		t.Fatalf("valid rule: %v", p)
	}
	for _, tc := range []struct {
		name   string
		mutate func(*rule)
		want   string
	}{
		{"no severity", func(r *rule) { r.Labels = nil }, "severity"},
		{"odd severity", func(r *rule) { r.Labels = map[string]string{"severity": "page"} }, "severity"},
		{"no runbook", func(r *rule) { r.Annotations = map[string]string{"summary": "s", "description": "d"} }, "no runbook"},
		{"multi-line runbook", func(r *rule) { r.Annotations["runbook"] = "a\nb" }, "not one line"},
		{"no job", func(r *rule) { r.Expr = `cryptobot_flag_config_valid == 0` }, `lacks job="cryptobot"`},
		{"other job", func(r *rule) { r.Expr = `up{job="bot"} == 0` }, `lacks job="cryptobot"`},
		{"typo in metric", func(r *rule) { r.Expr = `cryptobot_flags_config_valid{job="cryptobot"} == 0` }, "unknown metric"},
		{"no metric", func(r *rule) { r.Expr = `vector(1)` }, "reads no bot metric"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := good
			r.Annotations = map[string]string{"summary": "s", "description": "d", "runbook": "r"}
			tc.mutate(&r)
			problems := ruleProblems(r, known)
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tc.want) }) {
				t.Errorf("problems %q, want one containing %q", problems, tc.want)
			}
		})
	}
}

// TestEveryAlertIsUnitTested requires a firing and a non-firing promtool case
// per alert, with the firing cases checking all three annotations.
func TestEveryAlertIsUnitTested(t *testing.T) {
	type expAlert struct {
		ExpLabels      map[string]string `yaml:"exp_labels"`
		ExpAnnotations map[string]string `yaml:"exp_annotations"`
	}
	var f struct {
		RuleFiles          []string `yaml:"rule_files"`
		EvaluationInterval string   `yaml:"evaluation_interval"`
		Tests              []struct {
			Interval      string           `yaml:"interval"`
			InputSeries   []map[string]any `yaml:"input_series"`
			AlertRuleTest []struct {
				EvalTime  string     `yaml:"eval_time"`
				Alertname string     `yaml:"alertname"`
				ExpAlerts []expAlert `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	decodeFile(t, "alerts_test.yml", &f)
	if !slices.Equal(f.RuleFiles, []string{"alerts.yml"}) {
		t.Errorf("rule_files %v, want [alerts.yml]", f.RuleFiles)
	}
	firing, quiet := map[string]bool{}, map[string]bool{}
	for _, tc := range f.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) == 0 {
				quiet[a.Alertname] = true
				continue
			}
			firing[a.Alertname] = true
			for _, e := range a.ExpAlerts {
				for _, key := range []string{"summary", "description", "runbook"} {
					if e.ExpAnnotations[key] == "" {
						t.Errorf("%s at %s: firing case does not check the %s annotation", a.Alertname, a.EvalTime, key)
					}
				}
			}
		}
	}
	for _, r := range alertRules(t) {
		if !firing[r.Alert] {
			t.Errorf("%s has no firing test case", r.Alert)
		}
		if !quiet[r.Alert] {
			t.Errorf("%s has no non-firing test case", r.Alert)
		}
	}
}

// TestScrapeConfig: one host scrapes bot:8080; docker-compose.ha.yml's
// Prometheus scrapes each replica as its own instance of the same job, so
// the rules and dashboards work unchanged.
func TestScrapeConfig(t *testing.T) {
	for file, want := range map[string][]string{
		"prometheus.yml":    {"bot:8080"},
		"prometheus.ha.yml": {"bot-1:8080", "bot-2:8080"},
	} {
		t.Run(file, func(t *testing.T) { checkScrapeConfig(t, file, want) })
	}
}

func checkScrapeConfig(t *testing.T, file string, wantTargets []string) {
	var f struct {
		Global struct {
			ScrapeInterval     string `yaml:"scrape_interval"`
			EvaluationInterval string `yaml:"evaluation_interval"`
		} `yaml:"global"`
		RuleFiles     []string `yaml:"rule_files"`
		ScrapeConfigs []struct {
			JobName        string `yaml:"job_name"`
			ScrapeInterval string `yaml:"scrape_interval"`
			MetricsPath    string `yaml:"metrics_path"`
			StaticConfigs  []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	decodeFile(t, file, &f)
	if !slices.Equal(f.RuleFiles, []string{"alerts.yml"}) {
		t.Errorf("rule_files %v, want [alerts.yml]", f.RuleFiles)
	}
	if len(f.ScrapeConfigs) != 1 {
		t.Fatalf("%d scrape configs, want 1", len(f.ScrapeConfigs))
	}
	sc := f.ScrapeConfigs[0]
	var targets []string
	for _, s := range sc.StaticConfigs {
		targets = append(targets, s.Targets...)
	}
	if sc.JobName != "cryptobot" || sc.ScrapeInterval != "15s" || sc.MetricsPath != "/metrics" || !slices.Equal(targets, wantTargets) {
		t.Errorf("scrape config %+v, want job cryptobot, 15s, /metrics, targets %v", sc, wantTargets)
	}
}
