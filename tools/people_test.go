package tools_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/internal/campaign"
	"github.com/byourside/bys-mcp/internal/dnc"
	"github.com/byourside/bys-mcp/internal/people"
	"github.com/byourside/bys-mcp/internal/safety"
	"github.com/byourside/bys-mcp/internal/state"
	"github.com/byourside/bys-mcp/internal/tenant"
	"github.com/byourside/bys-mcp/internal/testkit"
	"github.com/byourside/bys-mcp/tools"
)

// peopleDeps is directDeps for --oauth-issuer: the server's key serves
// everyone, and People keeps their calls apart.
func peopleDeps(t *testing.T) (*tools.Deps, context.Context, context.Context) {
	t.Helper()
	deps, _ := directDeps(t)
	deps.People = people.New(deps.Store.(state.Records), deps.Log)
	alice := tenant.WithPerson(context.Background(), tenant.Person{ID: "p-alice", Subject: "alice@example.com"})
	bob := tenant.WithPerson(context.Background(), tenant.Person{ID: "p-bob", Subject: "bob@example.com"})
	return deps, alice, bob
}

func TestPeopleSeeOnlyTheCallsTheyPlaced(t *testing.T) {
	deps, alice, bob := peopleDeps(t)
	_, place := tools.PlaceCall(deps)
	_, get := tools.GetCall(deps)
	_, wait := tools.WaitForCall(deps)
	_, list := tools.ListCalls(deps)

	id := wantOK(t, callDirect(t, alice, place, placeArgs(nil)))["callId"].(string)
	wantOK(t, callDirect(t, alice, get, map[string]any{"callId": id}))
	wantOK(t, callDirect(t, alice, wait, map[string]any{"callId": id, "timeoutSec": 1}))
	if calls := wantOK(t, callDirect(t, alice, list, nil))["calls"].([]any); len(calls) != 1 {
		t.Errorf("alice lists %d calls, want her one", len(calls))
	}

	// Bob shares the key but not the call: not found, exactly as another
	// key's call.
	other := callDirect(t, bob, get, map[string]any{"callId": id})
	wantToolError(t, other, "not_found")
	deps2, _ := directDeps(t)
	_, get2 := tools.GetCall(deps2)
	anotherKey := callDirect(t, tenant.WithKey(context.Background(), "bys_ak_other"), get2, map[string]any{"callId": "no-such-call"})
	if a, b := structured(t, other), structured(t, anotherKey); a["hint"] != b["hint"] || a["httpStatus"] != b["httpStatus"] {
		t.Errorf("another person's call: %v\nanother key's: %v", a, b)
	}
	wantToolError(t, callDirect(t, bob, wait, map[string]any{"callId": id, "timeoutSec": 1}), "not_found")
	if calls := wantOK(t, callDirect(t, bob, list, nil))["calls"].([]any); len(calls) != 0 {
		t.Errorf("bob lists %d calls, want none", len(calls))
	}
	// Without a person nothing is served (fail closed).
	wantToolError(t, callDirect(t, context.Background(), get, map[string]any{"callId": id}), "no_person")
	wantToolError(t, callDirect(t, context.Background(), place, placeArgs(nil)), "no_person")
}

func TestPeopleHaveTheirOwnDedupeBudgetAndAuditLines(t *testing.T) {
	deps, alice, bob := peopleDeps(t)
	deps.MaxCallsPerHour = 1
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	audit, err := safety.NewAudit(deps.Log, path)
	if err != nil {
		t.Fatal(err)
	}
	deps.Audit = audit
	_, place := tools.PlaceCall(deps)

	first := wantOK(t, callDirect(t, alice, place, placeArgs(nil)))
	again := wantOK(t, callDirect(t, alice, place, placeArgs(nil)))
	if again["deduplicated"] != true || again["callId"] != first["callId"] {
		t.Fatalf("alice's identical call: %v, want her first deduplicated", again)
	}
	// The same request from bob is his own call, within his own budget.
	bobs := wantOK(t, callDirect(t, bob, place, placeArgs(nil)))
	if bobs["deduplicated"] != false || bobs["callId"] == first["callId"] {
		t.Fatalf("bob's call: %v, want a new call", bobs)
	}
	wantToolError(t, callDirect(t, alice, place, placeArgs(map[string]any{"objective": "Another one."})), "call_budget_exceeded")
	wantToolError(t, callDirect(t, bob, place, placeArgs(map[string]any{"objective": "Another one."})), "call_budget_exceeded")

	_ = audit.Close()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fps := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var rec safety.AuditRecord
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Person != "alice@example.com" && rec.Person != "bob@example.com" {
			t.Errorf("audit line names person %q: %s", rec.Person, line)
		}
		if fp, seen := fps[rec.Person]; seen && fp != rec.KeyFingerprint {
			t.Errorf("%s has two fingerprints", rec.Person)
		}
		fps[rec.Person] = rec.KeyFingerprint
	}
	if len(fps) != 2 || fps["alice@example.com"] == fps["bob@example.com"] || fps["alice@example.com"] == safety.KeyFingerprint(deps.ServerKey) {
		t.Errorf("audit fingerprints %v: want one per person, not the key's", fps)
	}
}

func TestPeopleSeeOnlyTheirCampaigns(t *testing.T) {
	deps, alice, bob := peopleDeps(t)
	_, placeCalls := tools.PlaceCalls(deps)
	_, waitCampaign := tools.WaitForCampaign(deps)
	_, listCampaigns := tools.ListCampaigns(deps)
	_, cancel := tools.CancelCampaign(deps)
	_, get := tools.GetCall(deps)

	started := wantOK(t, callDirect(t, alice, placeCalls, map[string]any{"objective": "Ask about opening hours.", "calls": []any{map[string]any{"to": "+14155550123"}}}))
	id := started["campaignId"].(string)
	done := wantOK(t, callDirect(t, alice, waitCampaign, map[string]any{"campaignId": id, "timeoutSec": 30}))
	items := itemsOf(t, done)
	callID, _ := items[0]["callId"].(string)
	if done["status"] != "completed" || callID == "" {
		t.Fatalf("alice's campaign: %v", done)
	}
	// The campaign's call is alice's: she reads it, bob does not.
	wantOK(t, callDirect(t, alice, get, map[string]any{"callId": callID}))
	wantToolError(t, callDirect(t, bob, get, map[string]any{"callId": callID}), "not_found")

	wantToolError(t, callDirect(t, bob, waitCampaign, map[string]any{"campaignId": id, "timeoutSec": 0}), "not_found")
	wantToolError(t, callDirect(t, bob, cancel, map[string]any{"campaignId": id}), "not_found")
	if got := wantOK(t, callDirect(t, bob, listCampaigns, nil))["campaigns"].([]any); len(got) != 0 {
		t.Errorf("bob lists %d campaigns, want none", len(got))
	}
	if got := wantOK(t, callDirect(t, alice, listCampaigns, nil))["campaigns"].([]any); len(got) != 1 {
		t.Errorf("alice lists %d campaigns, want hers", len(got))
	}
}

// TestAPersonsCampaignRunsOnForThemAfterARestart: a campaign keeps its
// person (sealed with the key), so the calls a restarted process dials for
// it are still that person's.
func TestAPersonsCampaignRunsOnForThemAfterARestart(t *testing.T) {
	deps, alice, bob := peopleDeps(t)
	records := deps.Store.(state.Records)
	fast := campaign.Options{LeaseTTL: 300 * time.Millisecond, ScanEvery: 100 * time.Millisecond}
	deps.Campaigns = tools.NewCampaignManager(deps, records, fast)
	deps.Campaigns.Start()
	_, placeCalls := tools.PlaceCalls(deps)
	_, pause := tools.PauseCampaign(deps)
	started := wantOK(t, callDirect(t, alice, placeCalls, map[string]any{"objective": "Ask about opening hours.", "concurrency": 1,
		"calls": []any{map[string]any{"to": "+14155550123"}, map[string]any{"to": "+14155550124"}}}))
	id := started["campaignId"].(string)
	wantOK(t, callDirect(t, alice, pause, map[string]any{"campaignId": id}))
	deps.Campaigns.Close()

	// Another process on the same store.
	again := &tools.Deps{Client: deps.Client, ServerKey: deps.ServerKey, Log: deps.Log, Schemas: deps.Schemas, Limits: deps.Limits,
		Store: deps.Store, DedupeWindow: deps.DedupeWindow, ConfirmCalls: deps.ConfirmCalls, Poll: deps.Poll,
		People: people.New(records, deps.Log)}
	again.Campaigns = tools.NewCampaignManager(again, records, fast)
	again.Campaigns.Start()
	t.Cleanup(again.Campaigns.Close)
	_, resume := tools.ResumeCampaign(again)
	_, wait := tools.WaitForCampaign(again)
	_, get := tools.GetCall(again)
	wantToolError(t, callDirect(t, bob, resume, map[string]any{"campaignId": id}), "not_found")
	wantOK(t, callDirect(t, alice, resume, map[string]any{"campaignId": id}))
	done := wantOK(t, callDirect(t, alice, wait, map[string]any{"campaignId": id, "timeoutSec": 60}))
	if done["status"] != "completed" {
		t.Fatalf("after the restart: %v", done)
	}
	for _, it := range itemsOf(t, done) {
		callID, _ := it["callId"].(string)
		if callID == "" {
			t.Fatalf("item %v has no call", it)
		}
		wantOK(t, callDirect(t, alice, get, map[string]any{"callId": callID}))
		wantToolError(t, callDirect(t, bob, get, map[string]any{"callId": callID}), "not_found")
	}
}

// The person called is rung by the team, whoever asks: under
// --oauth-issuer a request not to be called again, learnt on alice's call,
// stops bob too, and the cap on calls per number counts everyone's calls.
func TestPeopleShareTheDoNotCallListAndTheCapPerNumber(t *testing.T) {
	deps, alice, bob := peopleDeps(t)
	deps.OutcomeFields = true
	deps.DoNotCall = dnc.New(deps.Store.(state.Records), nil, nil)
	deps.CallsPerNumber, deps.CallsPerNumberPeriod = 2, 24*time.Hour
	_, place := tools.PlaceCall(deps)
	_, get := tools.GetCall(deps)

	// The cap: one call each to one number, then a third from either is refused.
	wantOK(t, callDirect(t, alice, place, placeArgs(map[string]any{"objective": "Alice's question."})))
	wantOK(t, callDirect(t, bob, place, placeArgs(map[string]any{"objective": "Bob's question."})))
	wantToolError(t, callDirect(t, alice, place, placeArgs(map[string]any{"objective": "Alice again."})), "number_call_limit")

	// The list: alice's call to +14155550009 ends with a request not to be
	// called again; bob is refused without dialling.
	id := wantOK(t, callDirect(t, alice, place, placeArgs(map[string]any{"to": "+14155550009"})))["callId"].(string)
	deadline := time.Now().Add(10 * time.Second)
	for wantOK(t, callDirect(t, alice, get, map[string]any{"callId": id}))["status"] != "completed" {
		if time.Now().After(deadline) {
			t.Fatal("the sandbox call did not end")
		}
		time.Sleep(50 * time.Millisecond)
	}
	res := callDirect(t, bob, place, placeArgs(map[string]any{"to": "+14155550009", "objective": "Bob's own question."}))
	wantToolError(t, res, "do_not_call")
	if !strings.Contains(testkit.TextOf(res), id) {
		t.Errorf("bob's refusal does not name the call that listed the number: %s", testkit.TextOf(res))
	}
}
