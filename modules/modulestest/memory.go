package modulestest

import (
	"cmp"
	"runtime"
	"testing"

	"github.com/cryptobot-dev/cryptobot/modules"
)

// StackPerGoroutine is what a memory test charges one fetch goroutine for its
// stack: the heap figures cannot see stacks, and a venue call through
// net/http grows past the 2 KiB a goroutine starts with.
const StackPerGoroutine = 8 << 10

// Registered returns the module registered under id, or fails the test.
func Registered(t testing.TB, id string) modules.Info {
	t.Helper()
	for _, i := range modules.Registered() {
		if i.ID == id {
			return i
		}
	}
	t.Fatalf("%s is not registered", id)
	return modules.Info{}
}

// Handler returns the handler of m's command name, or fails the test.
func Handler(t testing.TB, m modules.Module, name string) modules.Handler {
	t.Helper()
	for _, c := range m.Commands() {
		if c.Name == name {
			return c.Handler
		}
	}
	t.Fatalf("module has no /%s command", name)
	return nil
}

// MemoryCost is one module's memory test; see CheckMemoryCost.
type MemoryCost struct {
	ID      string          // the registered module
	Deps    modules.Deps    // what its New gets
	Request modules.Request // its heaviest request; Command names the command
	Runs    int             // requests measured; 0 means 200
	// Warm, when set, runs on one built module after the resident average;
	// what the heap grows by counts as resident (buffers a loaded module
	// keeps warm between requests).
	Warm func(t *testing.T, m modules.Module)
	// Goroutines, when set, counts the fetch goroutines started so far; each
	// one a request starts is charged StackPerGoroutine.
	Goroutines func() int64
}

// CheckSourceMemoryCost is CheckMemoryCost for a market module reading src
// at Clock, whose fetch goroutines are one per call src answers; req is its
// heaviest request.
func CheckSourceMemoryCost(t *testing.T, id string, src *Source, req modules.Request) {
	CheckMemoryCost(t, MemoryCost{
		ID:         id,
		Deps:       modules.Deps{Market: src, Now: Clock},
		Request:    req,
		Goroutines: src.Calls,
	})
}

// CheckMemoryCost keeps a module's declared Cost honest: what a loaded module
// holds, and what one request allocates (which bounds what it holds at its
// peak), must each be within a factor of two of the declared figure.
func CheckMemoryCost(t *testing.T, c MemoryCost) {
	info := Registered(t, c.ID)
	t.Run("resident", func(t *testing.T) {
		// One module is a few words: build many and average, keeping what
		// the pipeline keeps (the module and its commands).
		const n = 10_000
		type loaded struct {
			m    modules.Module
			cmds []modules.Command
		}
		held := make([]loaded, n)
		before := HeapInUse()
		for i := range held {
			m, err := info.New(c.Deps)
			if err != nil {
				t.Fatal(err)
			}
			held[i] = loaded{m, m.Commands()}
		}
		measured := (HeapInUse() - before) / n
		if c.Warm != nil {
			before = HeapInUse()
			c.Warm(t, held[0].m)
			warm := max(HeapInUse(), before) - before
			t.Logf("resident: module %d B, kept warm %d B", measured, warm)
			measured += warm
		}
		runtime.KeepAlive(held)
		Within2x(t, "resident", measured, info.Cost.Resident)
	})
	t.Run("per request", func(t *testing.T) {
		m, err := info.New(c.Deps)
		if err != nil {
			t.Fatal(err)
		}
		h := Handler(t, m, c.Request.Command)
		handle := func() {
			if _, err := h.Handle(t.Context(), c.Request); err != nil {
				t.Fatal(err)
			}
		}
		handle() // first use fills what a module keeps warm
		runs := uint64(cmp.Or(c.Runs, 200))
		goroutines := func() uint64 { return 0 }
		if c.Goroutines != nil {
			goroutines = func() uint64 { return uint64(c.Goroutines()) }
		}
		var before, after runtime.MemStats
		runtime.GC()
		started := goroutines()
		runtime.ReadMemStats(&before)
		for range runs {
			handle()
		}
		runtime.ReadMemStats(&after)
		heap := (after.TotalAlloc - before.TotalAlloc) / runs
		g := (goroutines() - started) / runs
		t.Logf("per request: %d B heap, %d fetch goroutines", heap, g)
		Within2x(t, "per request", heap+g*StackPerGoroutine, info.Cost.PerRequest)
	})
}
