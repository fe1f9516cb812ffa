package e2e_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/internal/sandbox"
	"github.com/byourside/bys-mcp/internal/testkit"
)

// startCountingAPI serves the sandbox simulator over real HTTP behind a
// recorder of the requests that reach it (their method and path are kept
// for failures).
func startCountingAPI(t *testing.T) (*httptest.Server, *testkit.APIRecorder) {
	t.Helper()
	rec := &testkit.APIRecorder{Keep: true}
	return testkit.HandlerServer(t, rec.Handler(sandbox.New(sandbox.Options{TimeScale: 20}))), rec
}

// closedWindow is a calling window that is closed now in Los Angeles
// whatever the hour: it opens two hours from now, for two hours.
func closedWindow(now time.Time) (window, opens string) {
	la, _ := time.LoadLocation("America/Los_Angeles")
	start := now.In(la).Add(2 * time.Hour)
	end := start.Add(2 * time.Hour)
	return fmt.Sprintf("%02d:%02d-%02d:%02d", start.Hour(), start.Minute(), end.Hour(), end.Minute()), fmt.Sprintf("%02d:%02d", start.Hour(), start.Minute())
}

// Through the binary, on stdio and Streamable HTTP in both eras: an invalid
// number reaches no API, a call outside calling hours is refused with its
// fields, and a placed call shows its destination. The window is chosen
// relative to now, so the test holds at any hour.
func TestDestinationsThroughTheBinary(t *testing.T) {
	t.Parallel()
	window, opens := closedWindow(time.Now())
	for _, k := range transports {
		if k.Transport == "sse" {
			continue
		}
		t.Run(k.Name, func(t *testing.T) {
			t.Parallel()
			api, rec := startCountingAPI(t)
			key := "bys_ak_destinations_" + strings.ReplaceAll(k.Name, "-", "_")
			env := []string{"BYS_BASE_URL=" + api.URL, "BYS_API_KEY=" + key}
			// Hours on for Sydney's daytime only would be hour-dependent:
			// use the window closed in Los Angeles, and a toll-free number
			// (exempt) to place a call.
			args := []string{"--calling-hours", window}
			var srv *httpServer
			if k.Transport != "stdio" {
				srv = startHTTP(t, k.Transport, env, args...)
			}
			c := connectWith(t, k, srv, "", env, args...)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()

			res := c.callTool(t, ctx, "place_call", map[string]any{"to": "+1415555", "objective": "Ask for the opening hours."})
			m := structured(t, res)
			if !res.IsError || m["error"] != "invalid_number" || !strings.Contains(resultText(res), "10 digits after +1") {
				t.Errorf("+1415555: %v %s", m, resultText(res))
			}
			res = c.callTool(t, ctx, "place_call", map[string]any{"to": "(415) 555-0123", "objective": "Ask for the opening hours."})
			if m := structured(t, res); !res.IsError || m["error"] != "invalid_number" || m["suggestion"] != "+14155550123" {
				t.Errorf("(415) 555-0123: %v", m)
			}
			// Nothing was placed (no POST); the server may read the API
			// for its own reasons, never about these numbers.
			if n := rec.Posts(); n != 0 {
				t.Errorf("invalid numbers reached the API: %d POSTs (%s)", n, rec.Log())
			}
			if rec.Total() != 0 {
				t.Logf("API requests before any call was placed: %s", rec.Log())
			}
			if strings.Contains(rec.Log(), "1415555") {
				t.Errorf("the API was asked about an invalid number: %s", rec.Log())
			}

			res = c.callTool(t, ctx, "place_call", map[string]any{"to": "+14155550123", "objective": "Ask for the opening hours."})
			m = structured(t, res)
			if !res.IsError || m["error"] != "outside_calling_hours" || m["timeZone"] != "America/Los_Angeles" {
				t.Fatalf("outside hours: %v %s", m, resultText(res))
			}
			local, err1 := time.Parse(time.RFC3339, fmt.Sprint(m["localTime"]))
			at, err2 := time.Parse(time.RFC3339, fmt.Sprint(m["opensAt"]))
			if err1 != nil || err2 != nil || !at.After(local) || at.Format("15:04") != opens || time.Since(local).Abs() > time.Minute {
				t.Errorf("localTime %v, opensAt %v: want now and %s", m["localTime"], m["opensAt"], opens)
			}
			if n := rec.Posts(); n != 0 {
				t.Errorf("a call outside calling hours reached the API (%s)", rec.Log())
			}

			res = c.callTool(t, ctx, "place_call", map[string]any{"to": "+18002752273", "objective": "Ask about the order."})
			m = structured(t, res)
			dest, _ := m["destination"].(map[string]any)
			if res.IsError || dest["region"] != "US" || dest["numberType"] != "toll_free" {
				t.Errorf("toll-free call: %v %s", m, resultText(res))
			}
			if rec.Posts() != 1 {
				t.Errorf("%d POSTs, want 1", rec.Posts())
			}
		})
	}
}

// A call placed inside the window shows its destination, local time
// included, in the structured result and the text.
func TestPlacedCallDestinationThroughTheBinary(t *testing.T) {
	t.Parallel()
	k := transportKind{Name: "stdio-2026", Transport: "stdio"}
	c := connectWith(t, k, nil, "", nil, "--sandbox", "--calling-hours", "off")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res := c.callTool(t, ctx, "place_call", map[string]any{"to": "+442071838750", "objective": "Ask for the opening hours."})
	m := structured(t, res)
	dest, _ := m["destination"].(map[string]any)
	if res.IsError || dest["region"] != "GB" || dest["timeZone"] != "Europe/London" || dest["numberType"] != "fixed_line" {
		t.Fatalf("destination %v (%s)", dest, resultText(res))
	}
	local, err := time.Parse(time.RFC3339, fmt.Sprint(dest["localTime"]))
	if err != nil || time.Since(local).Abs() > time.Minute {
		t.Errorf("localTime %v is not now", dest["localTime"])
	}
	if !strings.Contains(resultText(res), "London") {
		t.Errorf("text does not say where it rings: %s", resultText(res))
	}
}
