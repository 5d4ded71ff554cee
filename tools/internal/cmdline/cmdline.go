// Package cmdline is the command-line frame the repository's check tools share:
// an interruptible main, a flag set that prints its usage to stderr, and the
// "one line per problem, exit 1 on any" report.
package cmdline

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
)

// Run is a tool's body: it reads args and returns the exit code.
type Run func(ctx context.Context, args []string, stdout, stderr io.Writer) int

// Main runs run with the process's arguments and a context that ends on an
// interrupt, and exits with the code it returns.
func Main(run Run) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// FlagSet returns a flag set named name that reports errors instead of
// exiting and prints "usage: name synopsis" and the defaults to stderr.
func FlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s %s\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// Report prints the problems one a line to stdout and returns 1 when there
// is any, else 0.
func Report(stdout io.Writer, problems []string) int {
	for _, p := range problems {
		fmt.Fprintln(stdout, p)
	}
	if len(problems) > 0 {
		return 1
	}
	return 0
}
