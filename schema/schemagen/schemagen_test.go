package schemagen

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/byourside/bys-mcp/schema"
)

// TestGeneratedCopyIsFresh fails when the Go types changed but
// schema/defaults_gen.go was not regenerated: run `go generate ./schema`.
func TestGeneratedCopyIsFresh(t *testing.T) {
	want, err := GoSource()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../defaults_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, got) {
		t.Fatal("schema/defaults_gen.go is stale: run `go generate ./schema` and commit it")
	}
}

func TestLoadEqualsGenerate(t *testing.T) {
	for _, l := range []schema.Limits{schema.DefaultLimits, {MaxWaitSec: 60, MaxListLimit: 10}, {MaxCampaignCalls: 7}, {}} {
		got, err := schema.Load(l)
		if err != nil {
			t.Fatal(err)
		}
		want, err := Generate(l)
		if err != nil {
			t.Fatal(err)
		}
		for name, pair := range map[string][2]schema.Tool{
			"place_call": {got.PlaceCall, want.PlaceCall}, "get_call": {got.GetCall, want.GetCall},
			"list_calls": {got.ListCalls, want.ListCalls}, "wait_for_call": {got.WaitForCall, want.WaitForCall},
			"place_calls": {got.PlaceCalls, want.PlaceCalls}, "wait_for_campaign": {got.WaitForCampaign, want.WaitForCampaign},
			"cancel_campaign": {got.CancelCampaign, want.CancelCampaign},
		} {
			for i, which := range []string{"input", "output"} {
				a, b := []json.RawMessage{pair[0].Input, pair[0].Output}[i], []json.RawMessage{pair[1].Input, pair[1].Output}[i]
				if !jsonEqual(t, a, b) {
					t.Errorf("%+v: %s %s schema from Load differs from Generate:\n%s\n%s", l, name, which, a, b)
				}
			}
		}
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return bytes.Equal(ja, jb)
}
