package testkit_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/byourside/bys-mcp/internal/inproc"
	"github.com/byourside/bys-mcp/internal/testkit"
)

// echo answers every request with its method and body.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	_, _ = io.WriteString(w, r.Method+" "+string(body))
})

func send(t *testing.T, c *http.Client, method, url, body string) string {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	return string(got)
}

func TestAPIRecorderCountsKeepsAndPassesBodiesOn(t *testing.T) {
	for _, tc := range []struct {
		name string
		wrap func(*testkit.APIRecorder) *http.Client
	}{
		{"transport", func(r *testkit.APIRecorder) *http.Client {
			return &http.Client{Transport: r.Transport(inproc.Transport{Handler: echo})}
		}},
		{"handler", func(r *testkit.APIRecorder) *http.Client {
			return &http.Client{Transport: inproc.Transport{Handler: r.Handler(echo)}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &testkit.APIRecorder{Keep: true}
			c := tc.wrap(rec)
			if got := send(t, c, http.MethodPost, "http://api.invalid/v1/agent/calls", `{"to":"+1","n":1}`); got != `POST {"to":"+1","n":1}` {
				t.Errorf("the API got %q: the body was not passed on", got)
			}
			send(t, c, http.MethodGet, "http://api.invalid/v1/agent/calls/c1?x=1", "")
			send(t, c, http.MethodPost, "http://api.invalid/v1/agent/calls", `{"to":"+2"}`)
			send(t, c, http.MethodPut, "http://api.invalid/other", "")
			if rec.Posts() != 2 || rec.Gets() != 1 || rec.Total() != 4 {
				t.Errorf("counted %d POSTs, %d GETs, %d in all; want 2, 1, 4", rec.Posts(), rec.Gets(), rec.Total())
			}
			want := "POST /v1/agent/calls, GET /v1/agent/calls/c1?x=1, POST /v1/agent/calls, PUT /other"
			if got := rec.Log(); got != want {
				t.Errorf("Log() = %q, want %q", got, want)
			}
			if got := testkit.LastPost[map[string]any](t, rec); len(got) != 1 || got["to"] != "+2" {
				t.Errorf("LastPost = %v, want the second POST's body alone", got)
			}
			rec.Reset()
			if rec.Posts()+rec.Gets()+rec.Total() != 0 || len(rec.Requests()) != 0 {
				t.Errorf("after Reset: %d, %d, %d, %v", rec.Posts(), rec.Gets(), rec.Total(), rec.Requests())
			}
		})
	}
}

func TestAPIRecorderRecordsWhatMatchesOnly(t *testing.T) {
	rec := &testkit.APIRecorder{Match: func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/v1/") }}
	c := &http.Client{Transport: rec.Transport(inproc.Transport{Handler: echo})}
	send(t, c, http.MethodGet, "http://api.invalid/v1/agent/calls/c1", "")
	if got := send(t, c, http.MethodGet, "http://api.invalid/healthz", ""); got != "GET " {
		t.Errorf("an unmatched request was answered %q", got)
	}
	if rec.Gets() != 1 || rec.Total() != 1 {
		t.Errorf("counted %d GETs, %d in all; want 1, 1", rec.Gets(), rec.Total())
	}
	if n := len(rec.Requests()); n != 0 {
		t.Errorf("kept %d requests without Keep", n)
	}
}
