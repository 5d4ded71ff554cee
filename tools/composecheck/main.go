// Command composecheck validates the deploy's compose files the way
// `docker compose config` does (compose-go, the loader Compose v2 is built
// on: schema, interpolation, !override merges) and then checks the rules a
// 1 GB host depends on:
//
//   - every service has a memory limit, and the limits add up to at most
//     -max-total (headroom for the kernel, dockerd and sshd is the rest);
//   - -limit caps single services (the bot: 128 MiB);
//   - every service restarts by itself and has a health check;
//   - the -bot services have a read-only root filesystem and their flag
//     directory (CRYPTOBOT_FLAGS__DIR) bind-mounted read-only;
//   - several -bot services (replicas) share one Postgres store.url
//     (CRYPTOBOT_STORE__URL), run in webhook mode, and each has its own
//     host name;
//   - only -public services publish ports on all interfaces (/metrics and
//     Grafana stay on 127.0.0.1);
//   - every referenced file exists: bind-mount sources, build contexts and
//     env files (a missing env file needs its committed FILE.example).
//
// Usage, from the repository root:
//
//	(cd tools && go run ./composecheck ../deploy/docker-compose.yml)
//	(cd tools && go run ./composecheck ../deploy/docker-compose.yml ../deploy/docker-compose.staging.yml)
//	(cd tools && go run ./composecheck -max-total 1152MiB -limit bot-1=128MiB,bot-2=128MiB -bot bot-1,bot-2 ../deploy/docker-compose.ha.yml)
//
// Every service of every profile is checked. Interpolation sees an empty
// environment, so the defaults written in the files are what is checked.
// It prints one line per problem and exits 1 on any, 2 on usage errors or
// files compose cannot load.
package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	units "github.com/docker/go-units"

	"github.com/cryptobot-dev/cryptobot/tools/internal/cmdline"
)

func main() { cmdline.Main(run) }

// policy is what a deploy must satisfy.
type policy struct {
	MaxTotal int64            // bytes, sum of every service's limit
	Limits   map[string]int64 // bytes, per service
	Bots     []string         // services that run the bot (replicas when several)
	Public   []string         // services allowed to publish on all interfaces
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cmdline.FlagSet("composecheck", "[flags] COMPOSE_FILE [OVERRIDE_FILE...]", stderr)
	maxTotal := fs.String("max-total", "768MiB", "ceiling for the sum of all services' memory limits")
	limits := fs.String("limit", "bot=128MiB", "per-service ceilings, comma-separated SERVICE=SIZE")
	bot := fs.String("bot", "bot", "comma-separated services that run the bot (read-only root, flags mounted read-only; several share one Postgres store)")
	public := fs.String("public", "caddy", "comma-separated services allowed to publish ports on all interfaces")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	pol, err := parsePolicy(*maxTotal, *limits, *bot, *public)
	if err != nil {
		fmt.Fprintln(stderr, "composecheck:", err)
		return 2
	}
	p, err := load(ctx, fs.Args())
	if err != nil {
		fmt.Fprintln(stderr, "composecheck:", err)
		return 2
	}
	if code := cmdline.Report(stdout, check(p, pol)); code != 0 {
		return code
	}
	fmt.Fprintf(stdout, "ok: %d services, memory limits %s of %s\n",
		len(p.AllServices()), units.BytesSize(float64(totalLimit(p))), units.BytesSize(float64(pol.MaxTotal)))
	return 0
}

func parsePolicy(maxTotal, limits, bot, public string) (policy, error) {
	pol := policy{Limits: map[string]int64{}}
	var err error
	if pol.MaxTotal, err = units.RAMInBytes(maxTotal); err != nil {
		return policy{}, fmt.Errorf("-max-total: %w", err)
	}
	for item := range strings.SplitSeq(limits, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		name, size, ok := strings.Cut(item, "=")
		if !ok || name == "" {
			return policy{}, fmt.Errorf("-limit %q: want SERVICE=SIZE", item)
		}
		b, err := units.RAMInBytes(size)
		if err != nil {
			return policy{}, fmt.Errorf("-limit %q: %w", item, err)
		}
		pol.Limits[name] = b
	}
	for s := range strings.SplitSeq(public, ",") {
		if s = strings.TrimSpace(s); s != "" {
			pol.Public = append(pol.Public, s)
		}
	}
	for s := range strings.SplitSeq(bot, ",") {
		if s = strings.TrimSpace(s); s != "" {
			pol.Bots = append(pol.Bots, s)
		}
	}
	if len(pol.Bots) == 0 {
		return policy{}, errors.New("-bot: name at least one service")
	}
	return pol, nil
}

// load reads the files like `docker compose -f A -f B config` with every
// profile enabled and env files left unread (they hold secrets and are not
// committed).
func load(ctx context.Context, files []string) (*types.Project, error) {
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			return nil, err
		}
	}
	opts, err := cli.NewProjectOptions(files,
		cli.WithWorkingDirectory(filepath.Dir(files[0])),
		cli.WithResolvedPaths(true),
		cli.WithProfiles([]string{"*"}),
		cli.WithoutEnvironmentResolution,
	)
	if err != nil {
		return nil, fmt.Errorf("compose options: %w", err)
	}
	p, err := opts.LoadProject(ctx)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", strings.Join(files, " + "), err)
	}
	return p, nil
}

// memLimit is the service's memory limit in bytes, from mem_limit or
// deploy.resources.limits.memory; 0 when unlimited.
func memLimit(s types.ServiceConfig) int64 {
	if s.MemLimit > 0 {
		return int64(s.MemLimit)
	}
	if s.Deploy != nil && s.Deploy.Resources.Limits != nil {
		return int64(s.Deploy.Resources.Limits.MemoryBytes)
	}
	return 0
}

func totalLimit(p *types.Project) int64 {
	var sum int64
	for _, s := range p.AllServices() {
		sum += memLimit(s)
	}
	return sum
}

// check returns the problems, sorted by service then rule.
func check(p *types.Project, pol policy) []string {
	var out []string
	add := func(service, format string, a ...any) {
		out = append(out, fmt.Sprintf("service %s: %s", service, fmt.Sprintf(format, a...)))
	}
	services := p.AllServices()
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range services {
			if !yield(n) {
				return
			}
		}
	})
	for _, name := range names {
		s := services[name]
		lim := memLimit(s)
		if lim == 0 {
			add(name, "no memory limit (set mem_limit)")
		}
		if ceiling, ok := pol.Limits[name]; ok && lim > ceiling {
			add(name, "memory limit %s is above %s", units.BytesSize(float64(lim)), units.BytesSize(float64(ceiling)))
		}
		switch s.Restart {
		case types.RestartPolicyAlways, types.RestartPolicyUnlessStopped, types.RestartPolicyOnFailure:
		default:
			add(name, "restart policy %q does not bring it back (want unless-stopped)", s.Restart)
		}
		if s.HealthCheck == nil || s.HealthCheck.Disable || len(s.HealthCheck.Test) == 0 {
			add(name, "no healthcheck")
		}
		if !slices.Contains(pol.Public, name) {
			for _, port := range s.Ports {
				if port.Published != "" && port.HostIP != "127.0.0.1" && port.HostIP != "::1" {
					add(name, "port %s published on all interfaces (bind it to 127.0.0.1)", port.Published)
				}
			}
		}
		out = append(out, checkFiles(name, s)...)
	}
	for _, bot := range pol.Bots {
		if _, ok := services[bot]; ok {
			out = append(out, checkBot(bot, services[bot])...)
		} else {
			out = append(out, fmt.Sprintf("service %s: missing (the bot)", bot))
		}
	}
	if len(pol.Bots) > 1 {
		out = append(out, checkReplicas(pol.Bots, services)...)
	}
	for name := range pol.Limits {
		if _, ok := services[name]; !ok {
			out = append(out, fmt.Sprintf("service %s: has a -limit but is not defined", name))
		}
	}
	if total := totalLimit(p); total > pol.MaxTotal {
		out = append(out, fmt.Sprintf("memory limits add up to %s, above %s",
			units.BytesSize(float64(total)), units.BytesSize(float64(pol.MaxTotal))))
	}
	slices.Sort(out)
	return out
}

// checkBot: the bot writes nothing, and reads its flags from a read-only
// bind mount of a directory holding flag files.
func checkBot(name string, s types.ServiceConfig) []string {
	var out []string
	add := func(format string, a ...any) {
		out = append(out, fmt.Sprintf("service %s: %s", name, fmt.Sprintf(format, a...)))
	}
	if !s.ReadOnly {
		add("root filesystem is writable (set read_only: true)")
	}
	dir := "/flags"
	if v, ok := s.Environment["CRYPTOBOT_FLAGS__DIR"]; ok && v != nil {
		dir = *v
	}
	i := slices.IndexFunc(s.Volumes, func(v types.ServiceVolumeConfig) bool { return v.Target == dir })
	if i < 0 {
		add("flag directory %s is not mounted", dir)
		return out
	}
	v := s.Volumes[i]
	if v.Type != types.VolumeTypeBind {
		add("flag directory %s is a %s, want a bind mount of the host's flags/", dir, v.Type)
	}
	if !v.ReadOnly {
		add("flag directory %s is mounted read-write", dir)
	}
	if v.Type == types.VolumeTypeBind {
		if yamls, _ := filepath.Glob(filepath.Join(v.Source, "*.yaml")); len(yamls) == 0 {
			add("flag directory source %s holds no *.yaml flag files", v.Source)
		}
	}
	return out
}

// checkReplicas: replicas are only replicas on one shared Postgres store
// (two SQLite files would be two bots answering the same token), they
// take webhooks behind the load balancer (two pollers would fight over
// getUpdates), and /status tells them apart by host name.
func checkReplicas(bots []string, services types.Services) []string {
	var out []string
	env := func(s types.ServiceConfig, key string) string {
		if v, ok := s.Environment[key]; ok && v != nil {
			return *v
		}
		return ""
	}
	urls := map[string][]string{}
	hosts := map[string][]string{}
	for _, name := range bots {
		s, ok := services[name]
		if !ok {
			continue
		}
		u := env(s, "CRYPTOBOT_STORE__URL")
		if !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") {
			out = append(out, fmt.Sprintf("service %s: replica store.url %q is not Postgres (CRYPTOBOT_STORE__URL=postgres://...)", name, u))
		}
		urls[u] = append(urls[u], name)
		if m := env(s, "CRYPTOBOT_TELEGRAM__MODE"); m != "webhook" {
			out = append(out, fmt.Sprintf("service %s: replica telegram.mode %q, want webhook (CRYPTOBOT_TELEGRAM__MODE)", name, m))
		}
		h := s.Hostname
		if h == "" {
			out = append(out, fmt.Sprintf("service %s: replica has no hostname (/status lists replicas by host)", name))
		} else {
			hosts[h] = append(hosts[h], name)
		}
	}
	if len(urls) > 1 {
		out = append(out, fmt.Sprintf("services %s: replicas on different store.url values, want one shared store", strings.Join(bots, ", ")))
	}
	for h, names := range hosts {
		if len(names) > 1 {
			out = append(out, fmt.Sprintf("services %s: replicas share hostname %s", strings.Join(names, ", "), h))
		}
	}
	return out
}

// checkFiles: every path the service refers to exists.
func checkFiles(name string, s types.ServiceConfig) []string {
	var out []string
	missing := func(what, path string) {
		out = append(out, fmt.Sprintf("service %s: %s %s does not exist", name, what, path))
	}
	for _, v := range s.Volumes {
		if v.Type == types.VolumeTypeBind && !exists(v.Source) {
			missing("bind mount source", v.Source)
		}
	}
	if s.Build != nil {
		if !exists(s.Build.Context) {
			missing("build context", s.Build.Context)
		} else if df := cmp.Or(s.Build.Dockerfile, "Dockerfile"); !exists(filepath.Join(s.Build.Context, df)) {
			missing("Dockerfile", filepath.Join(s.Build.Context, df))
		}
	}
	for _, f := range s.EnvFiles {
		if !exists(f.Path) && !exists(f.Path+".example") {
			missing("env_file (nor its .example template)", f.Path)
		}
	}
	return out
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, os.ErrNotExist)
}
