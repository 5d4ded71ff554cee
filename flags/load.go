package flags

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Default caps on what one reload reads and compiles. A flag file is edited
// by hand and holds a few flags; anything near these sizes is a mistake or an
// attack, and parsing it would cost tens of times its size in memory.
const (
	DefaultMaxFileBytes = 1 << 20 // 1 MiB per file
	DefaultMaxFlags     = 1000    // flags in the whole set
)

// Limits caps a flag set before it is parsed. A set over a cap is rejected
// as a whole, like any broken set. Zero fields take the defaults.
type Limits struct {
	MaxFileBytes int64 // bytes read from one file; the directory as a whole may hold 4× this
	MaxFlags     int   // flags in all files together
}

func (l Limits) withDefaults() Limits {
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = DefaultMaxFileBytes
	}
	if l.MaxFlags <= 0 {
		l.MaxFlags = DefaultMaxFlags
	}
	return l
}

// maxDirBytes bounds the whole directory, so many files just under the
// per-file cap cannot add up to the same bomb.
func (l Limits) maxDirBytes() int64 { return 4 * l.MaxFileBytes }

// errTooLarge marks a read stopped by a cap; the set is rejected, not retried differently.
var errTooLarge = errors.New("too large")

// readSources reads every *.yaml and *.yml file in dir, sorted by name,
// following symlinks (Kubernetes ConfigMaps link each file through ..data).
// Hidden names are skipped: editor swap files and the ConfigMap's ..data
// entries are not flag files. Each file is read through a LimitReader, so a
// huge file costs at most MaxFileBytes+1 bytes however big it is on disk; a
// capped file is returned as a Problem, not an error, so the reload is
// rejected like any broken set.
func readSources(dir string, lim Limits) ([]source, []Problem, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("read flag directory: %w", err)
	}
	var out []source
	var total int64
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		if ext := filepath.Ext(name); ext != ".yaml" && ext != ".yml" {
			continue
		}
		path := filepath.Join(dir, name)
		data, err := readCapped(path, min(lim.MaxFileBytes, lim.maxDirBytes()-total))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			// Removed since the listing (its removal triggers another reload) or a dangling link.
			continue
		case errors.Is(err, errTooLarge) && total+lim.MaxFileBytes > lim.maxDirBytes():
			return nil, []Problem{{File: dir, Reason: fmt.Sprintf("flag files exceed %d bytes in total (flags.max_file_bytes × 4)", lim.maxDirBytes())}}, nil
		case errors.Is(err, errTooLarge):
			return nil, []Problem{{File: path, Reason: fmt.Sprintf("file exceeds %d bytes (flags.max_file_bytes)", lim.MaxFileBytes)}}, nil
		case err != nil:
			return nil, nil, fmt.Errorf("read flag file: %w", err)
		}
		total += int64(len(data))
		out = append(out, source{path: path, data: data})
	}
	return out, nil, nil
}

// readCapped reads at most limit bytes of path; one byte more is errTooLarge.
// The stat is only a shortcut: the LimitReader is the guard, since a file
// can grow between the two and a FIFO or /proc file reports no size.
func readCapped(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil && info.Mode().IsRegular() && info.Size() > limit {
		return nil, errTooLarge
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, errTooLarge
	}
	return data, nil
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

// readDir reads dir under lim and fingerprints the result: the sources, or
// the cap a file broke, or the error of a directory that cannot be read.
func readDir(dir string, lim Limits) ([]source, []Problem, [sha256.Size]byte, error) {
	srcs, probs, err := readSources(dir, lim)
	switch {
	case err != nil:
		return nil, nil, sha256.Sum256([]byte("error\x00" + err.Error())), err
	case len(probs) > 0:
		return nil, probs, sha256.Sum256([]byte("problem\x00" + probs[0].String())), nil
	}
	return srcs, nil, hashSources(srcs), nil
}

// loadSet reads and compiles dir under lim, for Validate and Lint.
func loadSet(dir string, lim Limits) (*flagSet, []Problem, error) {
	lim = lim.withDefaults()
	srcs, probs, _, err := readDir(dir, lim)
	if err != nil || len(probs) > 0 {
		return nil, probs, err
	}
	set, probs := compileSet(dir, srcs, lim.MaxFlags)
	return set, probs, nil
}

// Validate checks every flag file in dir exactly as a provider with the
// default Limits does before it swaps in a new set. It returns the problems
// found (none means the directory would load); the error is for a directory
// that cannot be read.
func Validate(dir string) ([]Problem, error) {
	_, probs, err := loadSet(dir, Limits{})
	if err != nil {
		return nil, fmt.Errorf("flags: validate: %w", err)
	}
	return probs, nil
}
