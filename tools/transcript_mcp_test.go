package tools_test

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/byourside/bys-mcp/internal/testkit"
)

// TestTranscriptWindowsThroughTheSandbox reads a completed call's transcript
// through get_call and wait_for_call in parts, over MCP, and checks that the
// parts join to the whole transcript that get_call returns without a window.
func TestTranscriptWindowsThroughTheSandbox(t *testing.T) {
	t.Parallel()
	c := connect(t, newApp(t, nil))
	id := wantOK(t, c.call("place_call", placeArgs(map[string]any{
		"context": "Prefer a window seat. — Merci, à bientôt.",
		"fields":  []any{map[string]any{"name": "confirmed_time", "type": "string"}},
	})))["callId"].(string)
	c.waitEnded(id)
	whole := wantOK(t, c.call("get_call", map[string]any{"callId": id}))
	full, _ := whole["transcript"].(string)
	total := utf8.RuneCountInString(full)
	if total < 100 {
		t.Fatalf("the sandbox's transcript is too short for this test (%d characters): %q", total, full)
	}
	if _, ok := whole["transcriptTotalChars"]; ok {
		t.Errorf("a record read without a window says transcriptTotalChars: %v", whole)
	}

	for _, tool := range []string{"get_call", "wait_for_call"} {
		t.Run(tool+" reads the transcript in parts", func(t *testing.T) {
			var joined strings.Builder
			offset, parts := 0, 0
			for {
				args := map[string]any{"callId": id, "transcriptMaxChars": 40, "transcriptOffset": offset}
				res := c.call(tool, args)
				rec := wantOK(t, res)
				part, _ := rec["transcript"].(string)
				if n := utf8.RuneCountInString(part); n > 40 {
					t.Fatalf("part of %d characters, asked 40", n)
				}
				joined.WriteString(part)
				parts++
				if rec["transcriptTotalChars"] != float64(total) {
					t.Fatalf("transcriptTotalChars = %v, want %d", rec["transcriptTotalChars"], total)
				}
				if rec["status"] != "completed" || rec["summary"] == nil {
					t.Errorf("the rest of the record is not kept: %v", rec)
				}
				if !strings.Contains(testkit.TextOf(res), "of "+strconv.Itoa(total)) {
					t.Errorf("the text does not say which part it shows:\n%s", testkit.TextOf(res))
				}
				next, present := rec["transcriptNextOffset"]
				if !present {
					t.Fatalf("a cut transcript lacks transcriptNextOffset: %v", rec)
				}
				if next == nil {
					break
				}
				if !strings.Contains(testkit.TextOf(res), "transcriptOffset "+strconv.Itoa(int(next.(float64)))) {
					t.Errorf("the text does not say where to read on:\n%s", testkit.TextOf(res))
				}
				offset = int(next.(float64))
				if parts > total {
					t.Fatal("the parts never end")
				}
			}
			if joined.String() != full {
				t.Errorf("the parts join to\n%q\nwant\n%q", joined.String(), full)
			}
			if want := (total + 39) / 40; parts != want {
				t.Errorf("%d parts, want %d", parts, want)
			}
		})
		t.Run(tool+" with transcriptMaxChars 0 leaves the transcript out", func(t *testing.T) {
			res := c.call(tool, map[string]any{"callId": id, "transcriptMaxChars": 0})
			rec := wantOK(t, res)
			if _, ok := rec["transcript"]; ok {
				t.Errorf("transcript present: %v", rec["transcript"])
			}
			if rec["transcriptTotalChars"] != float64(total) || rec["transcriptNextOffset"] != float64(0) {
				t.Errorf("totals = %v, %v; want %d, 0", rec["transcriptTotalChars"], rec["transcriptNextOffset"], total)
			}
			if strings.Contains(testkit.TextOf(res), full[:30]) || !strings.Contains(testkit.TextOf(res), "left out") {
				t.Errorf("the text shows the transcript or does not say it was left out:\n%s", testkit.TextOf(res))
			}
		})
	}
	t.Run("negative values are invalid arguments naming the argument", func(t *testing.T) {
		for _, tool := range []string{"get_call", "wait_for_call"} {
			for _, arg := range []string{"transcriptMaxChars", "transcriptOffset"} {
				m := wantToolError(t, c.call(tool, map[string]any{"callId": id, arg: -1}), "invalid_argument")
				if h, _ := m["hint"].(string); !strings.Contains(h, arg) {
					t.Errorf("%s %s -1: hint %q does not name it", tool, arg, h)
				}
			}
		}
	})
}
