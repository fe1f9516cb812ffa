package views_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/byourside/bys-mcp/internal/views"
	"github.com/byourside/bys-mcp/internal/views/internal/gen"
)

// TestDocumentsAreGenerated makes the documents again from assets/src and
// compares them with the embedded ones, so that an edit of a source is not
// served until the documents are made again.
func TestDocumentsAreGenerated(t *testing.T) {
	docs, err := gen.Build(os.DirFS("assets/src"))
	if err != nil {
		t.Fatal(err)
	}
	uris := map[string]string{"call.html": views.CallURI, "campaign.html": views.CampaignURI}
	if len(docs) != len(uris) {
		t.Errorf("assets/src makes %d documents, want %d (call.html and campaign.html)", len(docs), len(uris))
	}
	for name, uri := range uris {
		want, ok := docs[name]
		if !ok {
			t.Errorf("assets/src has no page %s", name)
			continue
		}
		got, _ := views.Document(uri)
		if got != string(want) {
			t.Errorf("the embedded %s (assets/%s, %d bytes) is not what assets/src makes (%d bytes): run `go generate ./internal/views` and commit assets/%s", uri, name, len(got), len(want), name)
		}
	}
}

// TestNoSizeBeforeHandshake holds each document's bridge to the order of
// the ext-apps App class: ui/initialize first, then the initialized
// notification, and only then ui/notifications/size-changed. A view
// renders (and so asks to report its size) before it connects; the bridge
// must send nothing for that. Structural, as no JavaScript runs here: every
// message goes through the one postMessage, size-changed is sent only by
// reportSize, reportSize returns at once until initialized is set, and
// initialized is set only once the host answered ui/initialize and the
// initialized notification is sent. test/views/views.mjs checks the order
// of the messages in chromium.
func TestNoSizeBeforeHandshake(t *testing.T) {
	reportSize := regexp.MustCompile(`function reportSize\(\) \{\s*if \(!initialized\) return;`)
	assign := regexp.MustCompile(`\binitialized\s*=[^=]`)
	for _, uri := range []string{views.CallURI, views.CampaignURI} {
		doc, _ := views.Document(uri)
		if n := strings.Count(doc, "postMessage("); n != 1 {
			t.Errorf("%s calls postMessage %d times; want once, in the bridge's post", uri, n)
		}
		if n := strings.Count(doc, `"ui/notifications/size-changed"`); n != 1 {
			t.Errorf("%s names size-changed %d times; want once, in reportSize", uri, n)
		}
		fn := reportSize.FindStringIndex(doc)
		if fn == nil {
			t.Errorf("%s: reportSize does not start with `if (!initialized) return;`", uri)
			continue
		}
		if body := doc[fn[1]:]; strings.Index(body, `notify("ui/notifications/size-changed"`) > strings.Index(body, "\n  }\n") {
			t.Errorf("%s: size-changed is not sent from within reportSize", uri)
		}
		sets := assign.FindAllStringIndex(doc, -1)
		if len(sets) != 2 || !strings.HasPrefix(doc[sets[0][0]:], "initialized = false") || !strings.HasPrefix(doc[sets[1][0]:], "initialized = true;") {
			t.Errorf("%s: initialized should be declared false and set true once, not %d times", uri, len(sets))
			continue
		}
		order := []string{`request("ui/initialize"`, ".then(function (r) {", `notify("ui/notifications/initialized"`, "initialized = true;", "reportSize();\n          return r;"}
		at := 0
		for i, s := range order {
			j := strings.Index(doc[at:], s)
			if j < 0 {
				t.Errorf("%s: connect does not do %q after %q", uri, s, order[max(i-1, 0)])
				break
			}
			at += j + len(s)
			if s == "initialized = true;" && at-len(s) != sets[1][0] {
				t.Errorf("%s: initialized is set elsewhere than after the handshake", uri)
			}
		}
	}
}
