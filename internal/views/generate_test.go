package views_test

import (
	"os"
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
