package resources_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/config"
	"github.com/byourside/bys-mcp/internal/app"
	"github.com/byourside/bys-mcp/internal/resources"
	"github.com/byourside/bys-mcp/internal/sandbox"
	"github.com/byourside/bys-mcp/internal/testkit"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// Over Streamable HTTP with the official Go SDK client (2025-11-25):
// templates, a read of a real call, resources/list and completion.
func TestResourcesOverStreamableHTTPWithTheOfficialSDK(t *testing.T) {
	a := testkit.SandboxApp(t, func(cfg *config.Config) { cfg.Transport = "http" }, testkit.QuietLogger(),
		app.Options{SandboxOptions: sandbox.Options{TimeScale: 20}, Poll: testkit.FastPoll()})
	ctx, s := testkit.SDKSession(t, a, "resources-sdk-test", 20*time.Second)

	tpls, err := s.ListResourceTemplates(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, tpl := range tpls.ResourceTemplates {
		got[tpl.URITemplate] = tpl.MIMEType
	}
	if got[resources.RecordTemplate] != "application/json" || got[resources.TranscriptTemplate] != "text/plain" ||
		got[resources.CampaignTemplate] != "application/json" || got[resources.CampaignResultsTemplate] != "text/csv" || len(got) != 5 {
		t.Errorf("templates = %v", got)
	}

	placed, err := s.CallTool(ctx, &sdk.CallToolParams{Name: "place_call", Arguments: map[string]any{"to": numCompletes, "objective": "Ask about opening hours."}})
	if err != nil || placed.IsError {
		t.Fatalf("place_call: %v %v", err, placed)
	}
	raw, _ := json.Marshal(placed.StructuredContent)
	var out struct{ CallID string }
	_ = json.Unmarshal(raw, &out)
	if out.CallID == "" {
		t.Fatalf("no callId: %s", raw)
	}
	if _, err := s.CallTool(ctx, &sdk.CallToolParams{Name: "wait_for_call", Arguments: map[string]any{"callId": out.CallID, "timeoutSec": 10}}); err != nil {
		t.Fatal(err)
	}

	rr, err := s.ReadResource(ctx, &sdk.ReadResourceParams{URI: resources.Prefix + out.CallID})
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if len(rr.Contents) != 1 || rr.Contents[0].MIMEType != "application/json" || !strings.Contains(rr.Contents[0].Text, out.CallID) {
		t.Errorf("record contents = %+v", rr.Contents)
	}
	tx, err := s.ReadResource(ctx, &sdk.ReadResourceParams{URI: resources.Prefix + out.CallID + "/transcript"})
	if err != nil {
		t.Fatalf("read transcript: %v", err)
	}
	if len(tx.Contents) != 1 || tx.Contents[0].MIMEType != "text/plain" || strings.Contains(tx.Contents[0].Text, numCompletes) || !strings.Contains(tx.Contents[0].Text, "completed") {
		t.Errorf("transcript contents = %+v", tx.Contents)
	}
	// The recording, through the app's embedded sandbox: the SDK decodes
	// the base64 blob into bytes.
	audio, err := s.ReadResource(ctx, &sdk.ReadResourceParams{URI: resources.Prefix + out.CallID + "/recording"})
	if err != nil {
		t.Fatalf("read recording: %v", err)
	}
	if len(audio.Contents) != 1 || audio.Contents[0].MIMEType != sandbox.RecordingContentType || string(audio.Contents[0].Blob) != string(sandbox.Recording(out.CallID, false)) {
		t.Errorf("recording contents: %d, want the call's WAV", len(audio.Contents))
	}
	if _, err := s.ReadResource(ctx, &sdk.ReadResourceParams{URI: resources.Prefix + "call_doesnotexist"}); err == nil {
		t.Errorf("reading an unknown call succeeded")
	}

	list, err := s.ListResources(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Resources) != 1 || list.Resources[0].URI != resources.Prefix+out.CallID {
		t.Errorf("resources/list = %+v", list.Resources)
	}

	comp, err := s.Complete(ctx, &sdk.CompleteParams{
		Ref:      &sdk.CompleteReference{Type: "ref/resource", URI: resources.RecordTemplate},
		Argument: sdk.CompleteParamsArgument{Name: "callId", Value: out.CallID[:4]},
	})
	if err != nil {
		t.Fatalf("complete: %v", err)
	}
	if len(comp.Completion.Values) != 1 || comp.Completion.Values[0] != out.CallID {
		t.Errorf("completion = %+v, want [%s]", comp.Completion, out.CallID)
	}
}
