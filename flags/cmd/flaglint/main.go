// Command flaglint checks the flag files: flagd schema subset, quoted chat
// ids, known operators, flags.Catalog coverage, "on" first in fractional rules.
//
//	go run ./flags/cmd/flaglint flags/
//
// It prints "file:line: reason" per problem and exits 1 on any problem
// (warnings alone exit 0), 2 on usage or I/O errors.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/cryptobot-dev/cryptobot/flags"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stderr, "usage: flaglint DIR")
		return 2
	}
	probs, err := flags.Lint(args[0], flags.Catalog)
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
