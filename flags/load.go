package flags

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// readSources reads every *.yaml and *.yml file in dir, sorted by name,
// following symlinks (Kubernetes ConfigMaps link each file through ..data).
// Hidden names are skipped: editor swap files and the ConfigMap's ..data
// entries are not flag files.
func readSources(dir string) ([]source, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read flag directory: %w", err)
	}
	var out []source
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		if ext := filepath.Ext(name); ext != ".yaml" && ext != ".yml" {
			continue
		}
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			// Removed since the listing (its removal triggers another reload) or a dangling link.
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read flag file: %w", err)
		}
		out = append(out, source{path: path, data: data})
	}
	return out, nil
}

// hashSources fingerprints what was read, so an unchanged directory is not
// re-validated (and a rejected one is not re-reported) on every poll.
func hashSources(srcs []source) [sha256.Size]byte {
	h := sha256.New()
	for _, s := range srcs {
		fmt.Fprintf(h, "%s\x00%d\x00", s.path, len(s.data))
		h.Write(s.data)
	}
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

// Validate checks every flag file in dir exactly as the provider does before
// it swaps in a new set. It returns the problems found (none means the
// directory would load); the error is for a directory that cannot be read.
func Validate(dir string) ([]Problem, error) {
	srcs, err := readSources(dir)
	if err != nil {
		return nil, fmt.Errorf("flags: validate: %w", err)
	}
	_, probs := compileSet(dir, srcs)
	return probs, nil
}
