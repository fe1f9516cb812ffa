package demo

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestDemoNarratesTheWholeFlow(t *testing.T) {
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := Run(ctx, &out, Options{TimeScale: 20, NoPause: true}); err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out.String())
	}
	for _, want := range []string{"place_call", "wait_for_call", "progress: call status: dialing", "status completed", "booked", "destination_blocked", "Transcript", "invalid_number", "+14155550123", "outside_calling_hours", "rings in US (America/Los_Angeles)",
		"place_calls", "progress: 3 of 3 calls ended", "| # | call | outcome | price | available | summary |", "Ace Plumbing (+14155550123) | completed", "Bay Pipes (+14155550001) | no_answer",
		"place_call with notBefore", "scheduled true", "nothing dialled yet", "Later call to +14155550124", "+14155550124 | completed",
		"retry_campaign", "will be dialled again (those that ended no_answer)", "Bay Pipes dialled twice"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}
