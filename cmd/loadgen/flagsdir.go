package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/cryptobot-dev/cryptobot/flags"
)

// writeFlags copies every flags/*.yaml of src to dst with each flag forced
// to one variant for every chat: the targeting rule is dropped and the
// default variant becomes the one whose value is on (true) or off (false).
// A file that is not a flag file, or a flag without such a variant, is an
// error, so a measurement never runs with flags silently left as shipped.
func writeFlags(src, dst string, on bool) error {
	files, err := filepath.Glob(filepath.Join(src, "*.yaml"))
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("no flag files in %s", src)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		out, err := forceFlags(b, on)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		if err := os.WriteFile(filepath.Join(dst, filepath.Base(f)), out, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// forceFlags rewrites one flagd file; see writeFlags.
func forceFlags(in []byte, on bool) ([]byte, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(in, &doc); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	flags, ok := doc["flags"].(map[string]any)
	if !ok || len(flags) == 0 {
		return nil, errors.New("no flags map")
	}
	for key, v := range flags {
		flag, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("flag %q is not a map", key)
		}
		variants, _ := flag["variants"].(map[string]any)
		variant := ""
		for name, val := range variants {
			if b, isBool := val.(bool); isBool && b == on {
				variant = name
			}
		}
		if variant == "" {
			return nil, fmt.Errorf("flag %q has no boolean %t variant", key, on)
		}
		delete(flag, "targeting")
		flag["defaultVariant"] = variant
		flag["state"] = "ENABLED"
	}
	var buf bytes.Buffer
	buf.WriteString("# Written by cmd/loadgen: every flag forced to one variant.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// validateFlags checks dir as the bot's provider would, so a rewrite the bot
// would reject stops the run instead of measuring with flags off.
func validateFlags(dir string) error {
	probs, err := flags.Validate(dir)
	if err != nil {
		return err
	}
	var msgs []string
	for _, p := range probs {
		if !p.Warning {
			msgs = append(msgs, p.String())
		}
	}
	if len(msgs) > 0 {
		return fmt.Errorf("forced flag files rejected: %s", strings.Join(msgs, "; "))
	}
	return nil
}
