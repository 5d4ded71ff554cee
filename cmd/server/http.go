package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// httpServer is one listening echo server.
type httpServer struct {
	e  *echo.Echo
	ln net.Listener
}

func (s *httpServer) serve() error {
	err := s.e.Server.Serve(s.ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func (s *httpServer) shutdown(ctx context.Context) { _ = s.e.Shutdown(ctx) }

// listen binds http.listen (and metrics.listen when it differs) before
// anything is served, so a taken port fails the start at once.
func (a *app) listen() ([]*httpServer, error) {
	main := a.newEcho()
	main.GET("/healthz", a.healthz)
	main.GET("/health", a.healthz) // alias: the runbook of the bot this replaces checks /health
	main.GET("/readyz", a.readyz)
	if a.cfg.Telegram.Mode == "webhook" {
		main.POST(a.cfg.Telegram.Webhook.Path, a.webhook)
	}
	metricsHandler := echo.WrapHandler(promhttp.HandlerFor(a.metrics.Registry, promhttp.HandlerOpts{Registry: a.metrics.Registry}))
	servers := []*httpServer{{e: main}}
	if sameAddr(a.cfg.HTTP.Listen, a.cfg.Metrics.Listen) {
		main.GET("/metrics", metricsHandler)
	} else {
		m := a.newEcho()
		m.GET("/metrics", metricsHandler)
		servers = append(servers, &httpServer{e: m})
	}
	addrs := []string{a.cfg.HTTP.Listen, a.cfg.Metrics.Listen}
	for i, s := range servers {
		ln, err := a.bind(addrs[i])
		if err != nil {
			for _, prev := range servers[:i] {
				_ = prev.ln.Close()
			}
			return nil, fmt.Errorf("listen %s: %w", addrs[i], err)
		}
		s.ln = ln
		a.log.Info("http listening", "addr", ln.Addr().String())
	}
	return servers, nil
}

// startHTTP binds and serves the listeners; stopHTTP closes them.
func (a *app) startHTTP() error {
	servers, err := a.listen()
	if err != nil {
		return err
	}
	a.servers, a.httpDone = servers, make(chan error, len(servers))
	for _, s := range servers {
		go func() { a.httpDone <- s.serve() }()
	}
	return nil
}

func (a *app) stopHTTP() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range a.servers {
		s.shutdown(ctx)
	}
}

// webhook hands updates to the pipeline; until it exists (the store is
// still opening) Telegram is told to come back, so nothing is lost.
func (a *app) webhook(c echo.Context) error {
	if !a.wired.Load() {
		c.Response().Header().Set("Retry-After", "5")
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"error": "starting: store not open yet"})
	}
	a.webhookH.ServeHTTP(c.Response(), c.Request())
	return nil
}

// bind listens on addr, or takes the listener a test handed over for it.
func (a *app) bind(addr string) (net.Listener, error) {
	if ln, ok := a.opts.listeners[addr]; ok {
		return ln, nil
	}
	return net.Listen("tcp", addr)
}

func (a *app) newEcho() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Server.ReadHeaderTimeout = 5 * time.Second
	e.Server.ReadTimeout = 15 * time.Second
	e.Server.WriteTimeout = 30 * time.Second
	e.Server.IdleTimeout = 90 * time.Second
	e.Use(a.observe, middleware.Recover())
	return e
}

// observe counts every request by its route pattern (never the raw path, so
// scanners cannot grow the label set) and status code.
func (a *app) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err) // writes the response so the status below is final
		}
		route := c.Path()
		if route == "" || c.Response().Status == http.StatusNotFound && route == "/*" {
			route = "other"
		}
		a.metrics.HTTPRequests.WithLabelValues(route, strconv.Itoa(c.Response().Status)).Inc()
		a.metrics.HTTPDuration.WithLabelValues(route).Observe(time.Since(start).Seconds())
		return nil
	}
}

func (a *app) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "alive"})
}

// readiness is the /readyz body.
type readiness struct {
	Status string            `json:"status"` // ready, degraded (still serving) or not ready
	Checks map[string]string `json:"checks"`
}

// readyz reports whether the pipeline answers: identity fetched, webhook
// registered or poller running, queue moving. Invalid flag files
// or memory shedding degrade it but keep 200: core commands still answer.
func (a *app) readyz(c echo.Context) error {
	r := a.readiness()
	code := http.StatusOK
	if r.Status == "not ready" {
		code = http.StatusServiceUnavailable
	}
	body, _ := json.Marshal(r)
	return c.JSONBlob(code, body)
}

func (a *app) readiness() readiness {
	storeState, storeOK := a.storeHealth.get()
	if !a.wired.Load() {
		return readiness{Status: "not ready", Checks: map[string]string{"store": storeState, "telegram": "not started"}}
	}
	r := readiness{Status: "ready", Checks: map[string]string{"telegram": "ok", "flags": "ok", "memory": "ok", "store": storeState}}
	if !storeOK {
		r.Status = "not ready"
	}
	if err := a.tg.Ready(); err != nil {
		r.Status, r.Checks["telegram"] = "not ready", err.Error()
	}
	if st := a.flags.Status(); !st.Valid {
		r.Checks["flags"] = "invalid, keeping the last good set: " + st.LastError
		if r.Status == "ready" {
			r.Status = "degraded"
		}
	}
	if a.guard.Shedding() {
		r.Checks["memory"] = fmt.Sprintf("shedding enhanced work at %.0f%% of the budget", 100*a.guard.Pressure())
		if r.Status == "ready" {
			r.Status = "degraded"
		}
	}
	return r
}
