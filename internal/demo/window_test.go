package demo

import (
	"testing"
	"time"

	"github.com/byourside/bys-mcp/internal/callhours"
)

// The demo's calling window is open in Los Angeles and closed in Sydney at
// every hour of the year, so that the demo works whenever it runs.
func TestDemoWindowWorksAtAnyHour(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 7, 0, 0, time.UTC)
	for h := 0; h < 365*24; h += 5 {
		now := start.Add(time.Duration(h) * time.Hour)
		w, err := callhours.Parse(demoWindow(now), "")
		if err != nil {
			t.Fatalf("%v: %v", now, err)
		}
		if v, err := w.Check([]string{"America/Los_Angeles"}, now); err != nil || !v.Open {
			t.Fatalf("%v: window %s closed in Los Angeles (%v)", now, w, err)
		}
		if v, err := w.Check([]string{"Australia/Sydney"}, now); err != nil || v.Open {
			t.Fatalf("%v: window %s open in Sydney (%v)", now, w, err)
		}
	}
}
