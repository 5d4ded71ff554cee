package main

import (
	"log/slog"
	"time"
)

// zoneProbe is a zone every time zone database has.
const zoneProbe = "Europe/Berlin"

// warnWithoutZones logs once at start when the host has no time zone
// database, and reports whether it has one. The binary does not embed one
// (time/tzdata would add 414 KB to the binary and to every process's
// resident pages): the image ships Go's zoneinfo.zip under ZONEINFO, and
// hosts have /usr/share/zoneinfo (Debian's tzdata package). Without either,
// chats' time zones fall back to UTC and /settings refuses every zone.
func warnWithoutZones(log *slog.Logger, load func(string) (*time.Location, error)) bool {
	if _, err := load(zoneProbe); err != nil {
		log.Warn("no time zone database: chats' time zones fall back to UTC; install tzdata or set ZONEINFO to a zoneinfo.zip", "err", err)
		return false
	}
	return true
}
