// Command k8scheck validates deploy/kubernetes against the bot it deploys:
// every manifest is decoded strictly (unknown or duplicate fields fail) into
// the k8s.io/api type of its kind, and then checked against the bot's own
// configuration and image:
//
//   - kustomization.yaml lists only files that exist and decode, and the
//     Secret is not one of them (apply -k must never overwrite it);
//   - the Deployment runs 2+ replicas with a rolling update that never
//     drops below them (maxUnavailable 0, maxSurge 1), probes /healthz
//     (liveness, startup) and /readyz (readiness) on the port the bot
//     listens on (CRYPTOBOT_HTTP__LISTEN over the Dockerfile's ENV), with
//     /metrics on that same listener;
//   - every CRYPTOBOT_* variable names a config key internal/config knows,
//     the mode is webhook, the token, store URL and webhook secret come from
//     keys the Secret has, never from literal values;
//   - CRYPTOBOT_FLAGS__DIR is a read-only mount of the flags ConfigMap, whose
//     files equal the repository's flags/*.yaml;
//   - non-root (the image's USER), read-only root filesystem, no privilege
//     escalation, all capabilities dropped, writable mounts only emptyDir;
//   - memory request and limit set, the limit at most -max-memory (the
//     128 MiB the compose deploy and the figures are sized for), and a
//     grace period longer than preStop plus the bot's shutdown_timeout;
//   - the Service and the PodDisruptionBudget select the pods, the Service
//     targets the bot's port, and the budget leaves a replica to evict.
//
// Usage, from the repository root:
//
//	(cd tools && go run ./k8scheck ..)
//
// It prints one line per problem and exits 1 on any, 2 on usage errors or
// files that do not decode.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/cryptobot-dev/cryptobot/tools/internal/cmdline"
)

func main() { cmdline.Main(run) }

func run(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cmdline.FlagSet("k8scheck", "[flags] REPO_ROOT", stderr)
	dir := fs.String("dir", "deploy/kubernetes", "manifest directory, relative to REPO_ROOT")
	maxMemory := fs.String("max-memory", "128Mi", "ceiling for the bot container's memory limit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	ceiling, err := resource.ParseQuantity(*maxMemory)
	if err != nil {
		fmt.Fprintln(stderr, "k8scheck: -max-memory:", err)
		return 2
	}
	root := fs.Arg(0)
	bot, err := loadBot(root)
	if err != nil {
		fmt.Fprintln(stderr, "k8scheck:", err)
		return 2
	}
	bot.MaxMemory = ceiling
	m, err := load(filepath.Join(root, *dir))
	if err != nil {
		fmt.Fprintln(stderr, "k8scheck:", err)
		return 2
	}
	if code := cmdline.Report(stdout, check(m, bot)); code != 0 {
		return code
	}
	fmt.Fprintf(stdout, "ok: %d manifests, %d replicas\n", len(m.Kustomization.Resources), *m.Deployment.Spec.Replicas)
	return 0
}

// Kustomization is the part of kustomize's Kustomization this deploy uses,
// decoded strictly, so a field kustomize does not know (or this check does
// not cover) fails.
type Kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Namespace  string   `json:"namespace,omitempty"`
	Resources  []string `json:"resources"`
	Labels     []struct {
		Pairs            map[string]string `json:"pairs"`
		IncludeSelectors bool              `json:"includeSelectors,omitempty"`
		IncludeTemplates bool              `json:"includeTemplates,omitempty"`
	} `json:"labels,omitempty"`
	Images []Image `json:"images,omitempty"`
}

// Image is a kustomization images entry.
type Image struct {
	Name    string `json:"name"`
	NewName string `json:"newName,omitempty"`
	NewTag  string `json:"newTag,omitempty"`
	Digest  string `json:"digest,omitempty"`
}

// Manifests is the decoded directory.
type Manifests struct {
	Kustomization Kustomization
	Deployment    *appsv1.Deployment
	Services      []*corev1.Service
	ConfigMaps    []*corev1.ConfigMap
	PDBs          []*policyv1.PodDisruptionBudget
	Namespaces    []*corev1.Namespace
	Secret        *corev1.Secret // secret.example.yaml, outside the kustomization
	SecretListed  bool           // a Secret is among the kustomization's resources
}

// Bot is what the manifests must agree with, read from the repository.
type Bot struct {
	ConfigKeys      map[string]bool   // internal/config keys, dotted
	ShutdownTimeout time.Duration     // shutdown_timeout default
	WebhookPath     string            // telegram.webhook.path default
	ImageEnv        map[string]string // the Dockerfile's ENV in the final stage
	ImageUser       int64             // the Dockerfile's USER uid
	ImageName       string            // repository part of the compose image, "cryptobot"
	Flags           map[string]string // flags/*.yaml by file name
	MaxMemory       resource.Quantity
}

// contractKeys are config keys another change adds in parallel (#14:
// internal/replica); manifests may set them before internal/config has them.
var contractKeys = []string{"replicas.id", "replicas.lease", "replicas.heartbeat"}

// secretKeys are config keys without defaults that the bot reads when set;
// their last element must still be a koanf tag in internal/config.
var secretKeys = []string{"telegram.token", "telegram.webhook.url", "telegram.webhook.secret", "store.url"}

var (
	defaultKeyRE = regexp.MustCompile(`(?m)^\s*"([a-z0-9_.]+)":\s*(.+?),?\s*(?://.*)?$`)
	koanfTagRE   = regexp.MustCompile(`koanf:"([a-z0-9_]+)"`)
	imageRE      = regexp.MustCompile(`image:\s*\$\{CRYPTOBOT_IMAGE:-([a-z0-9./-]+):[^}]*\}`)
)

// loadBot reads the bot's config keys and defaults (internal/config), its
// image (Dockerfile, deploy/docker-compose.yml) and flag files (flags/).
func loadBot(root string) (Bot, error) {
	b := Bot{ConfigKeys: map[string]bool{}, Flags: map[string]string{}}
	src, err := os.ReadFile(filepath.Join(root, "internal", "config", "config.go"))
	if err != nil {
		return Bot{}, err
	}
	tags := map[string]bool{}
	for _, m := range koanfTagRE.FindAllStringSubmatch(string(src), -1) {
		tags[m[1]] = true
	}
	defaults := string(src)
	if i := strings.Index(defaults, "func Defaults()"); i >= 0 {
		defaults = defaults[i:]
		if j := strings.Index(defaults, "\n}\n"); j >= 0 {
			defaults = defaults[:j]
		}
	} else {
		return Bot{}, errors.New("internal/config: no Defaults function")
	}
	for _, m := range defaultKeyRE.FindAllStringSubmatch(defaults, -1) {
		b.ConfigKeys[m[1]] = true
		v := strings.Trim(strings.TrimSpace(m[2]), `",`)
		switch m[1] {
		case "shutdown_timeout":
			if b.ShutdownTimeout, err = time.ParseDuration(v); err != nil {
				return Bot{}, fmt.Errorf("internal/config shutdown_timeout %q: %w", v, err)
			}
		case "telegram.webhook.path":
			b.WebhookPath = v
		}
	}
	if len(b.ConfigKeys) < 10 || b.ShutdownTimeout == 0 || b.WebhookPath == "" {
		return Bot{}, fmt.Errorf("internal/config: read %d default keys, shutdown_timeout %v, webhook path %q: Defaults changed shape", len(b.ConfigKeys), b.ShutdownTimeout, b.WebhookPath)
	}
	for _, k := range secretKeys {
		parts := strings.Split(k, ".")
		if !tags[parts[len(parts)-1]] {
			return Bot{}, fmt.Errorf("internal/config: no koanf tag %q for %s", parts[len(parts)-1], k)
		}
		b.ConfigKeys[k] = true
	}
	for _, k := range contractKeys {
		b.ConfigKeys[k] = true
	}

	if b.ImageEnv, b.ImageUser, err = dockerfile(filepath.Join(root, "Dockerfile")); err != nil {
		return Bot{}, err
	}
	compose, err := os.ReadFile(filepath.Join(root, "deploy", "docker-compose.yml"))
	if err != nil {
		return Bot{}, err
	}
	m := imageRE.FindSubmatch(compose)
	if m == nil {
		return Bot{}, errors.New("deploy/docker-compose.yml: no ${CRYPTOBOT_IMAGE:-NAME:TAG} image")
	}
	b.ImageName = string(m[1])

	paths, err := filepath.Glob(filepath.Join(root, "flags", "*.yaml"))
	if err != nil || len(paths) == 0 {
		return Bot{}, fmt.Errorf("flags/: no *.yaml flag files (%v)", err)
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return Bot{}, err
		}
		b.Flags[filepath.Base(p)] = string(data)
	}
	return b, nil
}

// dockerfile returns the ENV and the USER uid of the final stage.
func dockerfile(path string) (map[string]string, int64, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	text := strings.ReplaceAll(string(raw), "\\\n", " ")
	env := map[string]string{}
	var uid int64 = -1
	for line := range strings.SplitSeq(text, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		switch strings.ToUpper(fields[0]) {
		case "FROM":
			env, uid = map[string]string{}, -1
		case "ENV":
			for _, kv := range fields[1:] {
				if k, v, ok := strings.Cut(kv, "="); ok {
					env[k] = strings.Trim(v, `"`)
				}
			}
		case "USER":
			if len(fields) > 1 {
				u, _, _ := strings.Cut(fields[1], ":")
				if uid, err = strconv.ParseInt(u, 10, 64); err != nil {
					return nil, 0, fmt.Errorf("%s: USER %s is not numeric (runAsNonRoot needs a uid)", path, fields[1])
				}
			}
		}
	}
	if uid < 0 {
		return nil, 0, fmt.Errorf("%s: the final stage has no USER", path)
	}
	return env, uid, nil
}

type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

// decode reads one YAML document strictly into v.
func decode(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if bytes.Contains(data, []byte("\n---")) {
		return fmt.Errorf("%s: one object per file", path)
	}
	if err := yaml.UnmarshalStrict(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// load decodes kustomization.yaml, each resource it lists into the type of
// its kind, and secret.example.yaml.
func load(dir string) (*Manifests, error) {
	m := &Manifests{}
	if err := decode(filepath.Join(dir, "kustomization.yaml"), &m.Kustomization); err != nil {
		return nil, err
	}
	if m.Kustomization.APIVersion != "kustomize.config.k8s.io/v1beta1" || m.Kustomization.Kind != "Kustomization" {
		return nil, fmt.Errorf("kustomization.yaml: %s %s, want kustomize.config.k8s.io/v1beta1 Kustomization", m.Kustomization.APIVersion, m.Kustomization.Kind)
	}
	for _, res := range m.Kustomization.Resources {
		path := filepath.Join(dir, res)
		var tm typeMeta
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("kustomization resource: %w", err)
		}
		if err := yaml.Unmarshal(data, &tm); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		switch tm.APIVersion + " " + tm.Kind {
		case "apps/v1 Deployment":
			if m.Deployment != nil {
				return nil, fmt.Errorf("%s: a second Deployment", path)
			}
			m.Deployment = &appsv1.Deployment{}
			err = decode(path, m.Deployment)
		case "v1 Service":
			err = decodeAppend(path, &m.Services)
		case "v1 ConfigMap":
			err = decodeAppend(path, &m.ConfigMaps)
		case "policy/v1 PodDisruptionBudget":
			err = decodeAppend(path, &m.PDBs)
		case "v1 Namespace":
			err = decodeAppend(path, &m.Namespaces)
		case "v1 Secret":
			m.SecretListed = true
			err = decode(path, &corev1.Secret{})
		default:
			err = fmt.Errorf("%s: %s %s is not a kind this deploy uses", path, tm.APIVersion, tm.Kind)
		}
		if err != nil {
			return nil, err
		}
	}
	if m.Deployment == nil {
		return nil, errors.New("kustomization.yaml: no Deployment among the resources")
	}
	m.Secret = &corev1.Secret{}
	if err := decode(filepath.Join(dir, "secret.example.yaml"), m.Secret); err != nil {
		return nil, err
	}
	return m, nil
}

// decodeAppend decodes the file at path into a new T and appends it to list.
func decodeAppend[T any](path string, list *[]*T) error {
	v := new(T)
	err := decode(path, v)
	*list = append(*list, v)
	return err
}

// check returns the problems, in a stable order.
func check(m *Manifests, bot Bot) []string {
	k := &checker{m: m, bot: bot, podLabels: labels.Set(m.Deployment.Spec.Template.Labels)}
	k.kustomization()
	k.rollout()
	pod := m.Deployment.Spec.Template.Spec
	ci := slices.IndexFunc(pod.Containers, func(c corev1.Container) bool { return c.Name == "bot" })
	if ci < 0 {
		k.add("deployment: no container named bot")
		return k.out
	}
	c := pod.Containers[ci]
	if repo, _, _ := strings.Cut(c.Image, ":"); repo != bot.ImageName {
		k.add("container bot: image %q, want %s:TAG (kustomization images sets the registry)", c.Image, bot.ImageName)
	}
	env := k.env(c)
	port := k.listen(env)
	portName := k.probes(c, port)
	k.security(pod, c)
	k.mounts(pod, c, env["CRYPTOBOT_FLAGS__DIR"])
	k.resources(pod, c)
	k.services(port, portName)
	k.budgets()
	if ns := m.Kustomization.Namespace; ns != "" && m.Secret.Namespace != "" && m.Secret.Namespace != ns {
		k.add("secret.example.yaml: namespace %q, the kustomization deploys to %q", m.Secret.Namespace, ns)
	}
	slices.Sort(k.out)
	return k.out
}

// checker collects the problems one check function after another finds.
type checker struct {
	m         *Manifests
	bot       Bot
	podLabels labels.Set
	out       []string
}

func (k *checker) add(format string, a ...any) { k.out = append(k.out, fmt.Sprintf(format, a...)) }

// matches reports a selector that does not select the Deployment's pods.
func (k *checker) matches(what string, sel *metav1.LabelSelector) {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil || sel == nil || s.Empty() || !s.Matches(k.podLabels) {
		k.add("%s: selector %v does not select the pods (%v)", what, sel, k.podLabels)
	}
}

// kustomization checks the Kustomization itself.
func (k *checker) kustomization() {
	if k.m.SecretListed {
		k.add("kustomization: lists a Secret; apply -k would overwrite the real one (keep secret.example.yaml out)")
	}
	if !slices.ContainsFunc(k.m.Kustomization.Images, func(im Image) bool { return im.Name == k.bot.ImageName }) {
		k.add("kustomization: no images entry for %s (the image deploy/ builds)", k.bot.ImageName)
	}
}

// rollout checks the Deployment's replicas, strategy and selector.
func (k *checker) rollout() {
	d := k.m.Deployment
	if d.Spec.Replicas == nil || *d.Spec.Replicas < 2 {
		k.add("deployment: replicas %v, want at least 2", d.Spec.Replicas)
	}
	ru := d.Spec.Strategy.RollingUpdate
	if d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || ru == nil {
		k.add("deployment: strategy %q, want RollingUpdate", d.Spec.Strategy.Type)
	} else {
		if ru.MaxUnavailable == nil || ru.MaxUnavailable.String() != "0" {
			k.add("deployment: maxUnavailable %v, want 0 (never fewer ready replicas during a rollout)", ru.MaxUnavailable)
		}
		if ru.MaxSurge == nil || ru.MaxSurge.String() != "1" {
			k.add("deployment: maxSurge %v, want 1", ru.MaxSurge)
		}
	}
	k.matches("deployment", d.Spec.Selector)
}

// env checks the bot container's variables and returns its environment:
// the image's ENV, overridden by the container's.
func (k *checker) env(c corev1.Container) map[string]string {
	env := map[string]string{}
	for key, v := range k.bot.ImageEnv {
		env[key] = v
	}
	fromSecret := map[string]string{} // env name -> secret key
	for _, e := range c.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			if ref.Name != k.m.Secret.Name {
				k.add("env %s: from Secret %q, want %q (secret.example.yaml)", e.Name, ref.Name, k.m.Secret.Name)
			} else if _, ok := k.m.Secret.StringData[ref.Key]; !ok {
				if _, ok := k.m.Secret.Data[ref.Key]; !ok {
					k.add("env %s: Secret %s has no key %q", e.Name, ref.Name, ref.Key)
				}
			}
			fromSecret[e.Name] = ref.Key
			env[e.Name] = "<secret>"
		case e.ValueFrom != nil:
			env[e.Name] = "<ref>"
		default:
			env[e.Name] = e.Value
		}
		if key, ok := strings.CutPrefix(e.Name, "CRYPTOBOT_"); ok {
			key = strings.ReplaceAll(strings.ToLower(key), "__", ".")
			if !k.bot.ConfigKeys[key] && !strings.HasPrefix(key, "modules.") {
				k.add("env %s: %s is not a config key of internal/config", e.Name, key)
			}
		}
	}
	for _, name := range []string{"TELEGRAM_BOT_TOKEN", "CRYPTOBOT_STORE__URL", "CRYPTOBOT_TELEGRAM__WEBHOOK__SECRET"} {
		if _, ok := fromSecret[name]; !ok {
			k.add("env %s: not from the Secret (a secretKeyRef, never a literal value)", name)
		}
	}
	if env["CRYPTOBOT_TELEGRAM__MODE"] != "webhook" {
		k.add("env CRYPTOBOT_TELEGRAM__MODE %q, want webhook (replicas behind the Service)", env["CRYPTOBOT_TELEGRAM__MODE"])
	}
	return env
}

// listen checks the bot's listen address and returns its port (0 when it
// does not parse).
func (k *checker) listen(env map[string]string) int {
	listen := env["CRYPTOBOT_HTTP__LISTEN"]
	host, portStr, err := net.SplitHostPort(listen)
	port, perr := strconv.Atoi(portStr)
	if err != nil || perr != nil {
		k.add("env CRYPTOBOT_HTTP__LISTEN %q: want HOST:PORT", listen)
	} else if host == "127.0.0.1" || host == "localhost" || host == "::1" {
		k.add("env CRYPTOBOT_HTTP__LISTEN %q: loopback, the kubelet and the Service cannot reach it", listen)
	}
	if ml := env["CRYPTOBOT_METRICS__LISTEN"]; ml != "" && !sameAddr(ml, listen) {
		k.add("env CRYPTOBOT_METRICS__LISTEN %q differs from CRYPTOBOT_HTTP__LISTEN %q: two listeners on one port fail to bind", ml, listen)
	}
	return port
}

// probes checks the container port and the probes on it, and returns the
// port's name ("" when the container does not declare it).
func (k *checker) probes(c corev1.Container, port int) string {
	cp := slices.IndexFunc(c.Ports, func(p corev1.ContainerPort) bool { return int(p.ContainerPort) == port })
	portName := ""
	if cp < 0 {
		k.add("container bot: no containerPort %d (http.listen)", port)
	} else {
		portName = c.Ports[cp].Name
	}
	probe := func(what string, p *corev1.Probe, path string, required bool) {
		if p == nil {
			if required {
				k.add("container bot: no %s", what)
			}
			return
		}
		if p.HTTPGet == nil {
			k.add("container bot: %s is not an httpGet", what)
			return
		}
		if p.HTTPGet.Path != path {
			k.add("container bot: %s path %q, want %s", what, p.HTTPGet.Path, path)
		}
		if !targets(p.HTTPGet.Port, port, portName) {
			k.add("container bot: %s port %s, want %d (http.listen)", what, p.HTTPGet.Port.String(), port)
		}
	}
	probe("livenessProbe", c.LivenessProbe, "/healthz", true)
	probe("readinessProbe", c.ReadinessProbe, "/readyz", true)
	probe("startupProbe", c.StartupProbe, "/healthz", false)
	return portName
}

// security checks the pod's and the container's security contexts.
func (k *checker) security(pod corev1.PodSpec, c corev1.Container) {
	psc := pod.SecurityContext
	csc := c.SecurityContext
	nonRoot := (csc != nil && csc.RunAsNonRoot != nil && *csc.RunAsNonRoot) ||
		(psc != nil && psc.RunAsNonRoot != nil && *psc.RunAsNonRoot && (csc == nil || csc.RunAsNonRoot == nil))
	if !nonRoot {
		k.add("container bot: runAsNonRoot is not true")
	}
	var uid *int64
	if psc != nil && psc.RunAsUser != nil {
		uid = psc.RunAsUser
	}
	if csc != nil && csc.RunAsUser != nil {
		uid = csc.RunAsUser
	}
	if uid != nil && *uid != k.bot.ImageUser {
		k.add("container bot: runAsUser %d, the image's USER is %d (it owns the image's /data)", *uid, k.bot.ImageUser)
	}
	if csc == nil || csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem {
		k.add("container bot: readOnlyRootFilesystem is not true")
	}
	if csc == nil || csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation {
		k.add("container bot: allowPrivilegeEscalation is not false")
	}
	if csc == nil || csc.Capabilities == nil || !slices.Contains(csc.Capabilities.Drop, "ALL") {
		k.add("container bot: capabilities do not drop ALL")
	}
}

// mounts checks the container's mounts: the flag directory from the
// ConfigMap, read-only; anything writable is scratch.
func (k *checker) mounts(pod corev1.PodSpec, c corev1.Container, flagsDir string) {
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
	}
	var flagMount *corev1.VolumeMount
	for i, vm := range c.VolumeMounts {
		v, ok := volumes[vm.Name]
		if !ok {
			k.add("container bot: mount %s has no volume %q", vm.MountPath, vm.Name)
			continue
		}
		if vm.MountPath == flagsDir {
			flagMount = &c.VolumeMounts[i]
		}
		if !vm.ReadOnly && v.EmptyDir == nil {
			k.add("container bot: mount %s is writable and not an emptyDir", vm.MountPath)
		}
		if vm.SubPath != "" && vm.MountPath == flagsDir {
			k.add("container bot: flag directory mounted with subPath: ConfigMap updates would never arrive")
		}
	}
	switch {
	case flagsDir == "":
		k.add("env CRYPTOBOT_FLAGS__DIR: not set")
	case flagMount == nil:
		k.add("container bot: flag directory %s (CRYPTOBOT_FLAGS__DIR) is not mounted", flagsDir)
	default:
		if !flagMount.ReadOnly {
			k.add("container bot: flag directory %s is mounted read-write", flagsDir)
		}
		k.flagVolume(volumes[flagMount.Name], flagsDir)
	}
}

// flagVolume checks that the flag directory's volume is the whole flags
// ConfigMap and that the ConfigMap holds exactly the repository's flags/.
func (k *checker) flagVolume(v corev1.Volume, flagsDir string) {
	if v.ConfigMap == nil {
		k.add("container bot: flag directory %s is not a ConfigMap volume", flagsDir)
		return
	}
	i := slices.IndexFunc(k.m.ConfigMaps, func(cm *corev1.ConfigMap) bool { return cm.Name == v.ConfigMap.Name })
	if i < 0 {
		k.add("volume %s: ConfigMap %q is not among the kustomization's resources", v.Name, v.ConfigMap.Name)
		return
	}
	if len(v.ConfigMap.Items) > 0 {
		k.add("volume %s: items select files; mount the whole ConfigMap as the flag directory", v.Name)
	}
	cm := k.m.ConfigMaps[i]
	for name, want := range k.bot.Flags {
		if got, ok := cm.Data[name]; !ok {
			k.add("configmap %s: no %s (flags/%s)", cm.Name, name, name)
		} else if got != want {
			k.add("configmap %s: %s differs from flags/%s (regenerate it, see the file's header)", cm.Name, name, name)
		}
	}
	for name := range cm.Data {
		if _, ok := k.bot.Flags[name]; !ok {
			k.add("configmap %s: %s is not in flags/", cm.Name, name)
		}
	}
}

// resources checks memory and CPU requests and the shutdown budget.
func (k *checker) resources(pod corev1.PodSpec, c corev1.Container) {
	req, lim := c.Resources.Requests, c.Resources.Limits
	memReq, okReq := req[corev1.ResourceMemory]
	memLim, okLim := lim[corev1.ResourceMemory]
	if !okReq || !okLim {
		k.add("container bot: memory request and limit must both be set (GOMEMLIMIT comes from the limit)")
	} else {
		if memLim.Cmp(k.bot.MaxMemory) > 0 {
			k.add("container bot: memory limit %s is above %s", memLim.String(), k.bot.MaxMemory.String())
		}
		if memReq.Cmp(memLim) > 0 {
			k.add("container bot: memory request %s is above the limit %s", memReq.String(), memLim.String())
		}
	}
	if _, ok := req[corev1.ResourceCPU]; !ok {
		k.add("container bot: no CPU request")
	}
	grace := int64(30)
	if pod.TerminationGracePeriodSeconds != nil {
		grace = *pod.TerminationGracePeriodSeconds
	}
	var preStop int64
	if c.Lifecycle != nil && c.Lifecycle.PreStop != nil && c.Lifecycle.PreStop.Sleep != nil {
		preStop = c.Lifecycle.PreStop.Sleep.Seconds
	}
	if need := preStop + int64(k.bot.ShutdownTimeout/time.Second); grace <= need {
		k.add("deployment: terminationGracePeriodSeconds %d, want more than preStop %d s + shutdown_timeout %v", grace, preStop, k.bot.ShutdownTimeout)
	}
}

// services checks that a Service selects the pods and targets the bot's port.
func (k *checker) services(port int, portName string) {
	if len(k.m.Services) == 0 {
		k.add("kustomization: no Service")
	}
	for _, s := range k.m.Services {
		k.matches("service "+s.Name, &metav1.LabelSelector{MatchLabels: s.Spec.Selector})
		if !slices.ContainsFunc(s.Spec.Ports, func(p corev1.ServicePort) bool { return targets(p.TargetPort, port, portName) }) {
			k.add("service %s: no port targets the bot's %d", s.Name, port)
		}
	}
}

// budgets checks that a PodDisruptionBudget selects the pods and leaves a
// replica to evict.
func (k *checker) budgets() {
	if len(k.m.PDBs) == 0 {
		k.add("kustomization: no PodDisruptionBudget")
	}
	replicas := k.m.Deployment.Spec.Replicas
	for _, p := range k.m.PDBs {
		k.matches("poddisruptionbudget "+p.Name, p.Spec.Selector)
		switch {
		case p.Spec.MinAvailable == nil:
			k.add("poddisruptionbudget %s: no minAvailable", p.Name)
		case replicas != nil && p.Spec.MinAvailable.Type == intstr.Int &&
			(p.Spec.MinAvailable.IntVal < 1 || p.Spec.MinAvailable.IntVal >= *replicas):
			k.add("poddisruptionbudget %s: minAvailable %d, want 1..%d (keep one, allow an eviction)", p.Name, p.Spec.MinAvailable.IntVal, *replicas-1)
		}
	}
}

// targets reports whether a probe or Service port means the bot's port.
func targets(p intstr.IntOrString, port int, name string) bool {
	if p.Type == intstr.String {
		return name != "" && p.StrVal == name
	}
	return int(p.IntVal) == port
}

// sameAddr is cmd/server's rule: one listener only when host and port are
// spelled the same.
func sameAddr(a, b string) bool {
	ha, pa, err1 := net.SplitHostPort(a)
	hb, pb, err2 := net.SplitHostPort(b)
	return err1 == nil && err2 == nil && ha == hb && pa == pb
}
