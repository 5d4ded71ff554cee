package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/cryptobot-dev/cryptobot/tools/internal/clitest"
)

// good is a minimal deploy that passes every rule; cases edit it.
const good = `
services:
  bot:
    image: cryptobot:test
    build: {context: .}
    env_file: .env
    environment: {CRYPTOBOT_FLAGS__DIR: /flags}
    mem_limit: 128m
    read_only: true
    volumes:
      - {type: bind, source: ./flags, target: /flags, read_only: true}
    ports: ["127.0.0.1:8080:8080"]
    restart: unless-stopped
    healthcheck: {test: ["CMD", "/cryptobot", "healthcheck"]}
  prometheus:
    image: prom/prometheus
    mem_limit: 256m
    restart: unless-stopped
    healthcheck: {test: ["CMD", "true"]}
  caddy:
    profiles: [webhook]
    image: caddy
    mem_limit: 64m
    ports: ["443:443"]
    restart: always
    healthcheck: {test: ["CMD", "true"]}
`

// project writes compose.yml (with good's services replaced as the case
// says) into a directory that has flags/, a Dockerfile and .env.example.
func project(t *testing.T, compose string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"compose.yml":   compose,
		"flags/a.yaml":  "flags: {}\n",
		"Dockerfile":    "FROM scratch\n",
		".env.example":  "TELEGRAM_BOT_TOKEN=\n",
		"empty/.keep":   "",
		"prom/prom.yml": "global: {}\n",
	}
	for name, body := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "compose.yml")
}

func defaultPolicy(t *testing.T) policy {
	t.Helper()
	pol, err := parsePolicy("768MiB", "bot=128MiB", "bot", "caddy")
	if err != nil {
		t.Fatal(err)
	}
	return pol
}

// haPolicy is what deploy/ci/check.sh passes for docker-compose.ha.yml: a
// 2 GB host, two replicas of 128 MiB each.
func haPolicy(t *testing.T) policy {
	t.Helper()
	pol, err := parsePolicy("1152MiB", "bot-1=128MiB,bot-2=128MiB", "bot-1,bot-2", "caddy")
	if err != nil {
		t.Fatal(err)
	}
	return pol
}

// checkCase is one compose file and the problems check must find in it.
type checkCase struct {
	name    string
	compose string
	want    []string // problems, exactly, in order; the file's directory as <dir>
}

// runChecks loads each case's compose file and checks it under pol.
func runChecks(t *testing.T, pol policy, tests []checkCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := project(t, tt.compose)
			p, err := load(t.Context(), []string{file})
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			got := check(p, pol)
			dir := filepath.Dir(file)
			for i := range got {
				got[i] = strings.ReplaceAll(got[i], dir, "<dir>")
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	runChecks(t, defaultPolicy(t), []checkCase{
		{name: "good", compose: good},
		{
			name:    "no memory limit",
			compose: strings.Replace(good, "    mem_limit: 256m\n", "", 1),
			want:    []string{"service prometheus: no memory limit (set mem_limit)"},
		},
		{
			name:    "deploy resources limit counts",
			compose: strings.Replace(good, "    mem_limit: 256m\n", "    deploy: {resources: {limits: {memory: 256m}}}\n", 1),
		},
		{
			name:    "bot above its ceiling",
			compose: strings.Replace(good, "mem_limit: 128m", "mem_limit: 129m", 1),
			want:    []string{"service bot: memory limit 129MiB is above 128MiB"},
		},
		{
			name:    "sum above the host budget",
			compose: strings.Replace(good, "mem_limit: 256m", "mem_limit: 600m", 1),
			want:    []string{"memory limits add up to 792MiB, above 768MiB"},
		},
		{
			name:    "services of inactive profiles count",
			compose: strings.Replace(good, "mem_limit: 64m", "mem_limit: 400m", 1),
			want:    []string{"memory limits add up to 784MiB, above 768MiB"},
		},
		{
			name:    "no restart policy",
			compose: strings.Replace(good, "    restart: always\n", "", 1),
			want:    []string{`service caddy: restart policy "" does not bring it back (want unless-stopped)`},
		},
		{
			name:    "restart no",
			compose: strings.Replace(good, "restart: always", `restart: "no"`, 1),
			want:    []string{`service caddy: restart policy "no" does not bring it back (want unless-stopped)`},
		},
		{
			name:    "healthcheck disabled",
			compose: strings.Replace(good, `healthcheck: {test: ["CMD", "true"]}`, "healthcheck: {disable: true}", 1),
			want:    []string{"service prometheus: no healthcheck"},
		},
		{
			name:    "metrics port public",
			compose: strings.Replace(good, "127.0.0.1:8080:8080", "8080:8080", 1),
			want:    []string{"service bot: port 8080 published on all interfaces (bind it to 127.0.0.1)"},
		},
		{
			name:    "writable root",
			compose: strings.Replace(good, "read_only: true\n", "read_only: false\n", 1),
			want:    []string{"service bot: root filesystem is writable (set read_only: true)"},
		},
		{
			name:    "flags read-write",
			compose: strings.Replace(good, "target: /flags, read_only: true", "target: /flags", 1),
			want:    []string{"service bot: flag directory /flags is mounted read-write"},
		},
		{
			name:    "flags not mounted where the bot reads them",
			compose: strings.Replace(good, "CRYPTOBOT_FLAGS__DIR: /flags", "CRYPTOBOT_FLAGS__DIR: /etc/flags", 1),
			want:    []string{"service bot: flag directory /etc/flags is not mounted"},
		},
		{
			name:    "flags in a named volume",
			compose: strings.Replace(good, "{type: bind, source: ./flags, target: /flags, read_only: true}", "flagvol:/flags:ro", 1) + "volumes: {flagvol: {}}\n",
			want:    []string{"service bot: flag directory /flags is a volume, want a bind mount of the host's flags/"},
		},
		{
			name:    "flags source without flag files",
			compose: strings.Replace(good, "source: ./flags", "source: ./empty", 1),
			want:    []string{"service bot: flag directory source " + "<dir>/empty holds no *.yaml flag files"},
		},
		{
			name:    "missing bind source",
			compose: strings.Replace(good, "image: prom/prometheus\n", "image: prom/prometheus\n    volumes: [\"./prometheus:/etc/prometheus:ro\"]\n", 1),
			want:    []string{"service prometheus: bind mount source <dir>/prometheus does not exist"},
		},
		{
			name:    "missing env file without template",
			compose: strings.Replace(good, "env_file: .env", "env_file: .env.prod", 1),
			want:    []string{"service bot: env_file (nor its .example template) <dir>/.env.prod does not exist"},
		},
		{
			name:    "missing build context",
			compose: strings.Replace(good, "build: {context: .}", "build: {context: ./nowhere}", 1),
			want:    []string{"service bot: build context <dir>/nowhere does not exist"},
		},
		{
			name:    "missing Dockerfile",
			compose: strings.Replace(good, "build: {context: .}", "build: {context: ./flags}", 1),
			want:    []string{"service bot: Dockerfile <dir>/flags/Dockerfile does not exist"},
		},
		{
			name:    "no bot",
			compose: strings.Replace(strings.Replace(good, "  bot:\n", "  app:\n", 1), "bot=", "", 1),
			want: []string{
				"service bot: has a -limit but is not defined",
				"service bot: missing (the bot)",
			},
		},
	})
}

// goodHA is two replicas on one Postgres; replica cases edit it.
const goodHA = `
services:
  postgres:
    image: postgres:17-alpine
    mem_limit: 256m
    restart: unless-stopped
    healthcheck: {test: ["CMD", "pg_isready"]}
  bot-1: &bot
    image: cryptobot:test
    hostname: bot-1
    environment:
      CRYPTOBOT_FLAGS__DIR: /flags
      CRYPTOBOT_TELEGRAM__MODE: webhook
      CRYPTOBOT_STORE__URL: postgres://cryptobot:pw@postgres:5432/cryptobot
    mem_limit: 128m
    read_only: true
    volumes:
      - {type: bind, source: ./flags, target: /flags, read_only: true}
    restart: unless-stopped
    healthcheck: {test: ["CMD", "/cryptobot", "healthcheck"]}
  bot-2:
    <<: *bot
    hostname: bot-2
`

func TestCheckReplicas(t *testing.T) {
	pol, err := parsePolicy("768MiB", "bot-1=128MiB,bot-2=128MiB", "bot-1, bot-2", "caddy")
	if err != nil {
		t.Fatal(err)
	}
	runChecks(t, pol, []checkCase{
		{name: "good", compose: goodHA},
		{
			name:    "sqlite store",
			compose: strings.Replace(goodHA, "postgres://cryptobot:pw@postgres:5432/cryptobot", "sqlite:/data/cryptobot.db", 1),
			want: []string{
				`service bot-1: replica store.url "sqlite:/data/cryptobot.db" is not Postgres (CRYPTOBOT_STORE__URL=postgres://...)`,
				`service bot-2: replica store.url "sqlite:/data/cryptobot.db" is not Postgres (CRYPTOBOT_STORE__URL=postgres://...)`,
			},
		},
		{
			name: "two stores",
			compose: strings.Replace(goodHA, "    hostname: bot-2\n",
				"    hostname: bot-2\n    environment: {CRYPTOBOT_TELEGRAM__MODE: webhook, CRYPTOBOT_FLAGS__DIR: /flags, CRYPTOBOT_STORE__URL: \"postgres://cryptobot:pw@other:5432/cryptobot\"}\n", 1),
			want: []string{"services bot-1, bot-2: replicas on different store.url values, want one shared store"},
		},
		{
			name:    "polling",
			compose: strings.Replace(goodHA, "CRYPTOBOT_TELEGRAM__MODE: webhook", "CRYPTOBOT_TELEGRAM__MODE: polling", 1),
			want: []string{
				`service bot-1: replica telegram.mode "polling", want webhook (CRYPTOBOT_TELEGRAM__MODE)`,
				`service bot-2: replica telegram.mode "polling", want webhook (CRYPTOBOT_TELEGRAM__MODE)`,
			},
		},
		{
			name:    "same host name",
			compose: strings.Replace(goodHA, "hostname: bot-2", "hostname: bot-1", 1),
			want:    []string{"services bot-1, bot-2: replicas share hostname bot-1"},
		},
		{
			name:    "no host name",
			compose: strings.Replace(goodHA, "    hostname: bot-2\n", "", 1),
			// bot-2 inherits bot-1's host name through the merge key.
			want: []string{"services bot-1, bot-2: replicas share hostname bot-1"},
		},
		{
			name:    "one replica writable",
			compose: goodHA + "    read_only: false\n",
			want:    []string{"service bot-2: root filesystem is writable (set read_only: true)"},
		},
		{
			name:    "a replica missing",
			compose: strings.Replace(goodHA, "  bot-2:\n", "  bot-3:\n", 1),
			want: []string{
				"service bot-2: has a -limit but is not defined",
				"service bot-2: missing (the bot)",
			},
		},
	})
	if _, err := parsePolicy("768MiB", "", " , ", ""); err == nil {
		t.Error("parsePolicy accepted -bot with no service")
	}
}

func TestRun(t *testing.T) {
	tests := []struct {
		name       string
		args       func(file string) []string
		compose    string
		wantCode   int
		wantStdout string // substring
		wantStderr string // substring
	}{
		{
			name:       "clean",
			args:       func(f string) []string { return []string{f} },
			compose:    good,
			wantCode:   0,
			wantStdout: "ok: 3 services, memory limits 448MiB of 768MiB",
		},
		{
			name:       "problems",
			args:       func(f string) []string { return []string{"-limit", "bot=64MiB", f} },
			compose:    good,
			wantCode:   1,
			wantStdout: "service bot: memory limit 128MiB is above 64MiB",
		},
		{
			name:       "no files",
			args:       func(string) []string { return nil },
			wantCode:   2,
			wantStderr: "usage: composecheck",
		},
		{
			name:       "bad size",
			args:       func(f string) []string { return []string{"-max-total", "lots", f} },
			compose:    good,
			wantCode:   2,
			wantStderr: "-max-total",
		},
		{
			name:       "bad limit",
			args:       func(f string) []string { return []string{"-limit", "128MiB", f} },
			compose:    good,
			wantCode:   2,
			wantStderr: `-limit "128MiB": want SERVICE=SIZE`,
		},
		{
			name:       "missing file",
			args:       func(f string) []string { return []string{f + ".nope"} },
			compose:    good,
			wantCode:   2,
			wantStderr: "no such file",
		},
		{
			name:       "not a compose file",
			args:       func(f string) []string { return []string{f} },
			compose:    "services:\n  bot:\n    image: x\n    mem_limt: 128m\n",
			wantCode:   2,
			wantStderr: "mem_limt",
		},
		{
			name:       "broken yaml",
			args:       func(f string) []string { return []string{f} },
			compose:    "services: [",
			wantCode:   2,
			wantStderr: "composecheck: load",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := project(t, tt.compose)
			clitest.Run(t, run, tt.args(file), clitest.Want{Code: tt.wantCode, Stdout: tt.wantStdout, Stderr: tt.wantStderr})
		})
	}
}

// TestDeploy checks the committed deploy/ compose files, alone and with the
// staging override.
func TestDeploy(t *testing.T) {
	const dir = "../../deploy"
	prod := filepath.Join(dir, "docker-compose.yml")
	staging := filepath.Join(dir, "docker-compose.staging.yml")
	ha := filepath.Join(dir, "docker-compose.ha.yml")
	pol := defaultPolicy(t)

	for _, files := range [][]string{{prod}, {prod, staging}} {
		t.Run(filepath.Base(files[len(files)-1]), func(t *testing.T) {
			p, err := load(t.Context(), files)
			if err != nil {
				t.Fatal(err)
			}
			if problems := check(p, pol); len(problems) > 0 {
				t.Errorf("problems:\n%s", strings.Join(problems, "\n"))
			}
		})
	}

	t.Run(filepath.Base(ha), func(t *testing.T) {
		p, err := load(t.Context(), []string{ha})
		if err != nil {
			t.Fatal(err)
		}
		if problems := check(p, haPolicy(t)); len(problems) > 0 {
			t.Errorf("problems:\n%s", strings.Join(problems, "\n"))
		}
		// The load balancer reaches each replica on the port it listens on.
		caddy := p.AllServices()["caddy"]
		up := caddy.Environment["CRYPTOBOT_UPSTREAMS"]
		if up == nil || *up != "bot-1:8080 bot-2:8080" {
			t.Errorf("caddy CRYPTOBOT_UPSTREAMS = %v, want \"bot-1:8080 bot-2:8080\"", up)
		}
		for _, name := range []string{"bot-1", "bot-2"} {
			bot := p.AllServices()[name]
			for _, key := range []string{"CRYPTOBOT_HTTP__LISTEN", "CRYPTOBOT_METRICS__LISTEN"} {
				if v := bot.Environment[key]; v == nil || *v != ":8080" {
					t.Errorf("%s %s = %v, want :8080 (one listener; the image sets 0.0.0.0:8080)", name, key, v)
				}
			}
			if d, ok := bot.DependsOn["postgres"]; !ok || d.Condition != types.ServiceConditionHealthy {
				t.Errorf("%s depends_on postgres = %+v, want condition service_healthy", name, d)
			}
		}
	})

	t.Run("staging overrides", func(t *testing.T) {
		p, err := load(t.Context(), []string{prod, staging})
		if err != nil {
			t.Fatal(err)
		}
		bot := p.AllServices()["bot"]
		if len(bot.EnvFiles) != 1 || filepath.Base(bot.EnvFiles[0].Path) != ".env.staging" {
			t.Errorf("staging env_file = %+v, want only .env.staging (never production's .env)", bot.EnvFiles)
		}
		if v := bot.Environment["CRYPTOBOT_ENV"]; v == nil || *v != "staging" {
			t.Errorf("staging CRYPTOBOT_ENV = %v, want staging", v)
		}
		seen := map[string]bool{}
		for _, s := range p.AllServices() {
			for _, port := range s.Ports {
				seen[port.Published] = true
			}
		}
		for _, prodPort := range []string{"8080", "9090", "3000"} {
			if seen[prodPort] {
				t.Errorf("staging publishes host port %s, which production uses", prodPort)
			}
		}
	})
}
