package main

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the test must not depend on the machine's zone database
)

func TestWarnWithoutZones(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	if !warnWithoutZones(log, time.LoadLocation) || buf.Len() != 0 {
		t.Errorf("with a zone database: warned %q", buf.String())
	}
	missing := func(string) (*time.Location, error) { return nil, errors.New("unknown time zone Europe/Berlin") }
	if warnWithoutZones(log, missing) {
		t.Error("without a zone database: reported one")
	}
	if out := buf.String(); !strings.Contains(out, "level=WARN") || !strings.Contains(out, "ZONEINFO") || !strings.Contains(out, "tzdata") {
		t.Errorf("warning %q, want a WARN that names tzdata and ZONEINFO", out)
	}
}
