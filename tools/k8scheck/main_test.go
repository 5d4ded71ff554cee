package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/cryptobot-dev/cryptobot/tools/internal/clitest"
)

const (
	repoRoot  = "../.."
	committed = "../../deploy/kubernetes"
)

func bot(t *testing.T) Bot {
	t.Helper()
	b, err := loadBot(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	b.MaxMemory = resource.MustParse("128Mi")
	return b
}

// TestDeploy checks the committed manifests.
func TestDeploy(t *testing.T) {
	m, err := load(committed)
	if err != nil {
		t.Fatal(err)
	}
	if problems := check(m, bot(t)); len(problems) > 0 {
		t.Errorf("problems:\n%s", strings.Join(problems, "\n"))
	}
	// What the bot's config says, read from the main module, so a renamed
	// key or moved default shows up here.
	b := bot(t)
	if b.WebhookPath != "/webhook" || !b.ConfigKeys["http.listen"] || !b.ConfigKeys["flags.dir"] || !b.ConfigKeys["store.url"] {
		t.Errorf("internal/config read as %+v", b)
	}
	if b.ImageEnv["CRYPTOBOT_FLAGS__DIR"] != "/flags" || b.ImageUser != 65532 || b.ImageName != "cryptobot" {
		t.Errorf("image read as env %v, user %d, name %q", b.ImageEnv, b.ImageUser, b.ImageName)
	}
}

// copyDir copies the committed manifests into a temporary directory, with
// edit applied to one file (old must occur in it).
func copyDir(t *testing.T, file, old, repl string) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(committed)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(committed, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == file {
			s := string(data)
			if !strings.Contains(s, old) {
				t.Fatalf("fixture: %q not in %s", old, file)
			}
			data = []byte(strings.Replace(s, old, repl, 1))
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestCheckCatches breaks the committed manifests one way at a time.
func TestCheckCatches(t *testing.T) {
	b := bot(t)
	for _, tc := range []struct {
		name, file, old, repl string
		want                  string
	}{
		{"one replica", "deployment.yaml", "  replicas: 2\n", "  replicas: 1\n", "replicas"},
		{"rollout drops a replica", "deployment.yaml", "maxUnavailable: 0", "maxUnavailable: 1", "maxUnavailable 1, want 0"},
		{"surge of two", "deployment.yaml", "maxSurge: 1", "maxSurge: 2", "maxSurge 2, want 1"},
		{"liveness on readyz", "deployment.yaml", "path: /healthz\n              port: http\n            periodSeconds: 10", "path: /readyz\n              port: http\n            periodSeconds: 10", "livenessProbe path \"/readyz\", want /healthz"},
		{"readiness on healthz", "deployment.yaml", "path: /readyz", "path: /healthz", "readinessProbe path \"/healthz\", want /readyz"},
		{"probe on another port", "deployment.yaml", "path: /readyz\n              port: http", "path: /readyz\n              port: 9090", "readinessProbe port 9090, want 8080"},
		{"listen on loopback", "deployment.yaml", "value: \":8080\"\n            - name: CRYPTOBOT_METRICS__LISTEN", "value: \"127.0.0.1:8080\"\n            - name: CRYPTOBOT_METRICS__LISTEN", "loopback"},
		{"listen on another port", "deployment.yaml", "value: \":8080\"\n            - name: CRYPTOBOT_METRICS__LISTEN", "value: \":9000\"\n            - name: CRYPTOBOT_METRICS__LISTEN", "no containerPort 9000"},
		{"metrics listener left to the image", "deployment.yaml", "            - name: CRYPTOBOT_METRICS__LISTEN\n              value: \":8080\"\n", "", "CRYPTOBOT_METRICS__LISTEN \"0.0.0.0:8080\" differs"},
		{"unknown config key", "deployment.yaml", "CRYPTOBOT_FLAGS__DIR", "CRYPTOBOT_FLAG__DIR", "flag.dir is not a config key"},
		{"token as a literal", "deployment.yaml", "- name: TELEGRAM_BOT_TOKEN\n              valueFrom:\n                secretKeyRef:\n                  name: cryptobot\n                  key: telegram-bot-token", "- name: TELEGRAM_BOT_TOKEN\n              value: \"123:abc\"", "TELEGRAM_BOT_TOKEN: not from the Secret"},
		{"secret key missing", "secret.example.yaml", "store-url:", "store_url:", `Secret cryptobot has no key "store-url"`},
		{"polling", "deployment.yaml", "value: webhook", "value: polling", "want webhook"},
		{"flags read-write", "deployment.yaml", "mountPath: /flags\n              readOnly: true", "mountPath: /flags", "mounted read-write"},
		{"flags dir elsewhere", "deployment.yaml", "value: /flags", "value: /etc/flags", "/etc/flags (CRYPTOBOT_FLAGS__DIR) is not mounted"},
		{"flags drifted", "flags-configmap.yaml", "state: ENABLED", "state: DISABLED", "differs from flags/"},
		{"writable root", "deployment.yaml", "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false", "readOnlyRootFilesystem is not true"},
		{"root", "deployment.yaml", "runAsNonRoot: true\n            capabilities", "runAsNonRoot: false\n            capabilities", "runAsNonRoot is not true"},
		{"other uid", "deployment.yaml", "runAsUser: 65532", "runAsUser: 1000", "runAsUser 1000, the image's USER is 65532"},
		{"memory limit too high", "deployment.yaml", "memory: 128Mi", "memory: 256Mi", "memory limit 256Mi is above 128Mi"},
		{"no memory request", "deployment.yaml", "              memory: 64Mi\n", "", "memory request and limit"},
		{"grace too short", "deployment.yaml", "terminationGracePeriodSeconds: 25", "terminationGracePeriodSeconds: 12", "terminationGracePeriodSeconds 12"},
		{"service misses the pods", "service.yaml", "  selector:\n    app.kubernetes.io/name: cryptobot", "  selector:\n    app.kubernetes.io/name: other", "service cryptobot: selector"},
		{"service on another port", "service.yaml", "targetPort: http", "targetPort: 9090", "no port targets the bot's 8080"},
		{"pdb blocks every eviction", "pdb.yaml", "minAvailable: 1", "minAvailable: 2", "minAvailable 2, want 1..1"},
		{"secret in the kustomization", "kustomization.yaml", "  - pdb.yaml\n", "  - pdb.yaml\n  - secret.example.yaml\n", "lists a Secret"},
		{"image renamed", "deployment.yaml", "image: cryptobot:latest", "image: bot:latest", `image "bot:latest"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := load(copyDir(t, tc.file, tc.old, tc.repl))
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			problems := check(m, b)
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tc.want) }) {
				t.Errorf("problems %q, want one containing %q", problems, tc.want)
			}
		})
	}
}

// TestStrictDecode: fields the API types do not have, or have twice, fail
// the load, so a typo never silently drops a setting.
func TestStrictDecode(t *testing.T) {
	for _, tc := range []struct{ name, file, old, repl, want string }{
		{"unknown field", "deployment.yaml", "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: true\n            readOnlyRootFS: true", "unknown field"},
		{"duplicate field", "pdb.yaml", "minAvailable: 1", "minAvailable: 1\n  minAvailable: 1", "duplicate"},
		{"wrong type", "deployment.yaml", "  replicas: 2\n", "  replicas: two\n", "replicas"},
		{"unknown kustomization field", "kustomization.yaml", "namespace: cryptobot", "namespace: cryptobot\nnamePrefx: x-", "unknown field"},
		{"unknown kind", "namespace.yaml", "kind: Namespace", "kind: Ingress", "not a kind this deploy uses"},
		{"missing resource", "kustomization.yaml", "  - pdb.yaml\n", "  - pdb.yaml\n  - hpa.yaml\n", "hpa.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(copyDir(t, tc.file, tc.old, tc.repl))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("load: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestRun(t *testing.T) {
	clitest.Run(t, run, []string{repoRoot}, clitest.Want{Code: 0, Stdout: "ok: 5 manifests, 2 replicas"})
	clitest.Run(t, run, []string{"-max-memory", "64Mi", repoRoot}, clitest.Want{Code: 1, Stdout: "memory limit 128Mi is above 64Mi"})
	clitest.Run(t, run, nil, clitest.Want{Code: 2, Stderr: "usage: k8scheck"})
	clitest.Run(t, run, []string{"-max-memory", "lots", repoRoot}, clitest.Want{Code: 2, Stderr: "-max-memory"})
	clitest.Run(t, run, []string{"-dir", "nowhere", repoRoot}, clitest.Want{Code: 2, Stderr: "kustomization.yaml"})
}
