package views_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/byourside/bys-mcp/internal/views"
)

// Structural tests of what the call card and the campaign board do with a
// record's outcome and recording and a campaign's controls (no JavaScript
// runs here; test/views/views.mjs runs them in chromium).

func mustContain(t *testing.T, uri, doc string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(doc, w) {
			t.Errorf("%s has no %s", uri, w)
		}
	}
}

// The views ask the host for nothing but the handshake, tool calls and
// resource reads.
func TestViewsAskTheHostForLittle(t *testing.T) {
	re := regexp.MustCompile(`request\("([^"]+)"`)
	for _, uri := range []string{views.CallURI, views.CampaignURI} {
		doc, _ := views.Document(uri)
		var methods []string
		for _, m := range re.FindAllStringSubmatch(doc, -1) {
			methods = append(methods, m[1])
		}
		if got := strings.Join(methods, ","); got != "tools/call,resources/read,ui/initialize" {
			t.Errorf("%s sends requests %s; want ui/initialize, tools/call and resources/read only", uri, got)
		}
	}
}

// The call card shows who answered, a callback asked for and a request not
// to be called again, from the record's outcome, each only when obtained.
func TestCallCardShowsTheOutcome(t *testing.T) {
	doc, _ := views.Document(views.CallURI)
	mustContain(t, views.CallURI, doc,
		`<section id="outcome" hidden`, `id="outcome-facts"`,
		`var o = r.outcome && typeof r.outcome === "object" ? r.outcome : {};`,
		`o.reached ? REACHED[o.reached]`, `"reached"]`,
		`o.callbackAt ? "Asked to be called back " + localWhen(o.callbackAt) : null, "callbackAt"]`,
		`o.doNotCall === true ?`, `"doNotCall"]`,
		`person: "A person", voicemail: "Voicemail", phone_menu: "A phone menu", wrong_number: "A wrong number", nobody: "Nobody"`,
	)
	// setFacts leaves out the rows without a value (null outcome fields).
	mustContain(t, views.CallURI, doc, `if (r[1] !== null && r[1] !== undefined && r[1] !== "")`)
	if strings.Contains(doc, "Kept by By Your Side") {
		t.Error("the call card still says the recording can only be opened from the account")
	}
}

// The call card plays the recording from bys://calls/{id}/recording, read
// through the host when the person asks for it, from a data: URL of the
// blob (the hosts' default policy allows media from data:; the key stays on
// the server), and only for an ended call with a recording.
func TestCallCardPlaysTheRecordingFromTheResource(t *testing.T) {
	doc, _ := views.Document(views.CallURI)
	mustContain(t, views.CallURI, doc,
		`readResource: function (uri) { return request("resources/read", { uri: uri }); }`,
		`bridge.readResource("bys://calls/" + id + "/recording")`,
		`!/^audio\/[a-z0-9.+-]+$/.test(type)`,
		`var audio = el("audio", { controls: "",`,
		`audio.src = "data:" + type + ";base64," + c.blob;`,
		`$("recording").hidden = !(TERMINAL[status] && r.recordingUrl)`,
		`<button type="button" id="recording-load">`,
	)
	if n := strings.Count(doc, "loadRecording"); n != 3 {
		t.Errorf("loadRecording appears %d times; want its definition, its comment and the button's click only (no automatic load)", n)
	}
	if n := len(srcSet.FindAllString(doc, -1)); n != 1 {
		t.Errorf("%d .src assignments; want the recording's data: URL only", n)
	}
}

// The campaign board shows paused campaigns and items, and offers pause,
// resume and retry through the host's tools/call with the campaign's id;
// retry, which dials again, asks for a confirmation first.
func TestCampaignBoardControls(t *testing.T) {
	doc, _ := views.Document(views.CampaignURI)
	mustContain(t, views.CampaignURI, doc,
		`paused: "Paused"`, `s === "paused") ? "warn"`,
		`if (it.state === "paused") return "waits until the campaign is resumed";`,
		`<button type="button" id="pause" data-tool="pause_campaign">`,
		`<button type="button" id="resume" data-tool="resume_campaign">`,
		`<button type="button" id="retry" data-tool="retry_campaign">`,
		`bridge.callTool(tool, { campaignId: c.campaignId })`,
		`$("pause").hidden = c.status !== "running";`,
		`$("resume").hidden = c.status !== "paused";`,
		`if (tool === "retry_campaign" && !state.confirm) { state.confirm = true;`,
		`var RETRIED = { no_answer: 1, voicemail: 1, failed: 1 };`,
		`c.status === "paused" && ringing(c)`,
		`draw.resume();`,
		`.toolbar[hidden] { display: none; }`,
	)
	// The board still follows the campaign through wait_for_campaign.
	mustContain(t, views.CampaignURI, doc, `tool: "wait_for_campaign"`)
}
