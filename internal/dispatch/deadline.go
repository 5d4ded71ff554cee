package dispatch

import "time"

// WorkDeadline is when a handler must finish: the reply deadline (received +
// timeout) less a tenth kept for sending, but never less than half the
// timeout from now. An update that waited in the queue past its deadline
// still gets time to produce a real answer, which goes out late (and is
// counted so) instead of failing with an expired context.
func WorkDeadline(received time.Time, timeout time.Duration, now time.Time) time.Time {
	return later(received.Add(timeout-timeout/10), now.Add(timeout/2))
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
