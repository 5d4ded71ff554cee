package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// healthcheck probes the running bot's /readyz (or -path) on http.listen and
// exits 0 when it answers 200: the container HEALTHCHECK, with no curl in the image.
func healthcheck(ctx context.Context, args, environ []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "YAML configuration file")
	path := fs.String("path", "/readyz", "endpoint to probe")
	timeout := fs.Duration("timeout", 3*time.Second, "probe timeout")
	if err := fs.Parse(args); err != nil {
		return exitConfig
	}
	cfg, err := loadConfig(*cfgPath, environ)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitConfig
	}
	host, port, err := net.SplitHostPort(cfg.HTTP.Listen)
	if err != nil {
		fmt.Fprintf(stderr, "config http.listen: %v\n", err)
		return exitConfig
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	url := "http://" + net.JoinHostPort(host, port) + *path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitFailed
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		fmt.Fprintf(stderr, "healthcheck %s: %v\n", url, err)
		return exitFailed
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "healthcheck %s: %d %s\n", url, resp.StatusCode, body)
		return exitFailed
	}
	return exitOK
}
