// Command dockerlint checks Dockerfiles with BuildKit's own linter, the rules
// `docker build --check` runs (StageNameCasing, JSONArgsRecommended,
// LegacyKeyValueFormat, WorkdirRelativePath, ...), without a Docker engine
// and without a network: base images are never resolved.
//
//	go run ./dockerlint ../Dockerfile
//
// It prints "file:line: Rule: detail" per finding and exits 1 when there is
// any finding or the file does not parse, 2 on usage or I/O errors.
package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	digest "github.com/opencontainers/go-digest"

	"github.com/cryptobot-dev/cryptobot/tools/internal/cmdline"
)

func main() { cmdline.Main(run) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || slices.Contains(args, "-h") || slices.Contains(args, "--help") {
		fmt.Fprintln(stderr, "usage: dockerlint DOCKERFILE...")
		return 2
	}
	code := 0
	for _, path := range args {
		dt, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintln(stderr, "dockerlint:", err)
			return 2
		}
		findings, err := lint(ctx, path, dt)
		if err != nil {
			fmt.Fprintf(stderr, "dockerlint: %s: %v\n", path, err)
			return 2
		}
		for _, f := range findings {
			fmt.Fprintln(stdout, f)
			code = 1
		}
	}
	return code
}

// Finding is one lint warning, or the parse error that stopped the lint.
type Finding struct {
	File   string
	Line   int // 0 when BuildKit gives no location
	Rule   string
	Detail string
}

func (f Finding) String() string {
	return fmt.Sprintf("%s:%d: %s: %s", f.File, f.Line, f.Rule, f.Detail)
}

// lint runs BuildKit's Dockerfile linter over dt. A Dockerfile that does not
// parse is reported as a finding with Rule "BuildError", not as an error.
func lint(ctx context.Context, name string, dt []byte) ([]Finding, error) {
	sm := llb.NewSourceMap(nil, name, "Dockerfile", dt)
	// DockerfileLint serialises the source map's definition; nil would panic.
	sm.Definition = &llb.Definition{}
	res, err := dockerfile2llb.DockerfileLint(ctx, dt, dockerfile2llb.ConvertOpt{
		SourceMap:    sm,
		MetaResolver: offline{},
	})
	if err != nil {
		return nil, fmt.Errorf("lint: %w", err)
	}
	var out []Finding
	for _, w := range res.Warnings {
		f := Finding{File: name, Rule: w.RuleName, Detail: w.Detail}
		if w.Location != nil && len(w.Location.Ranges) > 0 {
			f.Line = int(w.Location.Ranges[0].Start.Line)
		}
		out = append(out, f)
	}
	if res.Error != nil {
		f := Finding{File: name, Rule: "BuildError", Detail: res.Error.Message}
		if len(res.Error.Location.Ranges) > 0 {
			f.Line = int(res.Error.Location.Ranges[0].Start.Line)
		}
		out = append(out, f)
	}
	slices.SortStableFunc(out, func(a, b Finding) int { return cmp.Compare(a.Line, b.Line) })
	return out, nil
}

// offline answers every base-image lookup with an empty linux/amd64 config,
// so the lint never reaches a registry. Rules that need the real base image
// (InvalidBaseImagePlatform) are therefore not checked.
type offline struct{}

var emptyImageConfig = []byte(`{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[]}}`)

func (offline) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	return ref, digest.FromBytes(emptyImageConfig), emptyImageConfig, nil
}
