// Command flaglint checks the flag files: flagd schema subset, quoted chat
// ids, known operators, flags.Catalog coverage, "on" first in fractional
// rules, and the provider's caps on file size and flag count.
//
//	go run ./flags/cmd/flaglint [-max-file-bytes N] [-max-flags N] flags/
//
// It prints "file:line: reason" per problem and exits 1 on any problem
// (warnings alone exit 0), 2 on usage or I/O errors. The caps default to the
// provider's (flags.max_file_bytes, flags.max_flags); pass the deploy's
// values when it sets others.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/cryptobot-dev/cryptobot/flags"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("flaglint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var lim flags.Limits
	fs.Int64Var(&lim.MaxFileBytes, "max-file-bytes", flags.DefaultMaxFileBytes, "largest flag file accepted, in bytes")
	fs.IntVar(&lim.MaxFlags, "max-flags", flags.DefaultMaxFlags, "most flags accepted in the whole set")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: flaglint [-max-file-bytes N] [-max-flags N] DIR")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 || lim.MaxFileBytes <= 0 || lim.MaxFlags <= 0 {
		if err == nil {
			fs.Usage()
		}
		return 2
	}
	probs, err := flags.Lint(fs.Arg(0), flags.Catalog, lim)
	if err != nil {
		fmt.Fprintln(stderr, "flaglint:", err)
		return 2
	}
	code := 0
	for _, p := range probs {
		fmt.Fprintln(stdout, p)
		if !p.Warning {
			code = 1
		}
	}
	return code
}
