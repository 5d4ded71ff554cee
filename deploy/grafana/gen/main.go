// Command gen writes the bot's Grafana dashboards (package
// deploy/grafana) to JSON files. Run it from the module root after changing a
// dashboard:
//
//	go run ./deploy/grafana/gen
//
// It rewrites every generated file and removes *.json files in the directory
// that are no longer generated, so renamed dashboards leave nothing behind.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/cryptobot-dev/cryptobot/deploy/grafana"
)

func main() {
	dir := flag.String("dir", filepath.Join("deploy", "grafana", "dashboards"), "directory the dashboard JSON files are written to (must exist)")
	flag.Parse()
	if err := write(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func write(dir string) error {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("output directory %q not found: run from the module root or pass -dir", dir)
	}
	files, err := grafana.Files()
	if err != nil {
		return err
	}
	keep := map[string]bool{}
	for _, f := range files {
		keep[f.Name] = true
		if err := os.WriteFile(filepath.Join(dir, f.Name), f.JSON, 0o644); err != nil {
			return fmt.Errorf("write dashboard: %w", err)
		}
	}
	stale, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return fmt.Errorf("list dashboards: %w", err)
	}
	for _, p := range stale {
		if keep[filepath.Base(p)] {
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove stale dashboard: %w", err)
		}
	}
	return nil
}
