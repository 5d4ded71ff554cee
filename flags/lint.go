package flags

import (
	"fmt"
	"slices"
)

// Lint runs Validate and then the repository's own checks: every key in
// catalog has a flag file, every flag in the files is in catalog, and a
// fractional rule lists "on" first (a warning: raising the first bucket's
// weight keeps the chats already in). Catalog checks need a valid set, so
// they run only when validation found nothing. lim caps the set as the
// provider's Options.Limits does.
func Lint(dir string, catalog map[string]string, lim Limits) ([]Problem, error) {
	set, probs, err := loadSet(dir, lim)
	if err != nil {
		return nil, fmt.Errorf("flags: lint: %w", err)
	}
	if len(probs) > 0 {
		return probs, nil
	}
	for _, key := range sortedKeys(catalog) {
		if _, ok := set.flags[key]; !ok {
			probs = append(probs, Problem{File: dir, Reason: fmt.Sprintf("flag %q is in flags.Catalog but in no flag file", key)})
		}
	}
	for _, key := range set.keys {
		f := set.flags[key]
		if _, ok := catalog[key]; !ok {
			probs = append(probs, Problem{File: f.file, Line: f.line,
				Reason: fmt.Sprintf("flag %q is not in flags.Catalog (flags/flagkey)", key)})
		}
		for _, fr := range f.fracs {
			if slices.Contains(fr.names, "on") && fr.names[0] != "on" {
				probs = append(probs, Problem{File: f.file, Line: fr.line, Warning: true,
					Reason: fmt.Sprintf("flag %q: list \"on\" first in fractional so raising its weight keeps chats already in", key)})
			}
		}
	}
	return probs, nil
}
