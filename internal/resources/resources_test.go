package resources_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/client"
	"github.com/byourside/bys-mcp/internal/inproc"
	"github.com/byourside/bys-mcp/internal/outcome"
	"github.com/byourside/bys-mcp/internal/resources"
	"github.com/byourside/bys-mcp/internal/sandbox"
	"github.com/byourside/bys-mcp/internal/tenant"
	"github.com/byourside/bys-mcp/internal/testkit"
	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

const (
	keyA         = "bys_ak_resources_alpha"
	keyB         = "bys_ak_resources_bravo"
	numCompletes = "+14155550123"
	numForever   = "+14155550007"
)

// singleCall picks the API requests about one call (the polling of
// subscriptions), not lists.
func singleCall(r *http.Request) bool {
	return strings.Count(strings.TrimPrefix(r.URL.Path, "/v1/agent/calls"), "/") == 1
}

// fixture is a bare MCP server with the resources only, on the sandbox.
type fixture struct {
	res *resources.Resources
	srv *server.MCPServer
	api *client.Client // the API as key A
	sb  *sandbox.Sandbox
	cnt *testkit.APIRecorder // counts the requests about one call
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureScale(t, 20)
}

// newFixtureScale runs the sandbox's clock scale times faster than real.
func newFixtureScale(t *testing.T, scale float64) *fixture {
	t.Helper()
	sb := sandbox.New(sandbox.Options{TimeScale: scale, RateLimitPerMinute: -1})
	cnt := &testkit.APIRecorder{Match: singleCall}
	// The sandbox answers in process, after the count (a request whose
	// context is over is neither served nor counted).
	transport := inproc.Transport{Handler: cnt.Handler(sb)}
	api, err := client.New(client.Options{BaseURL: "http://sandbox.invalid", APIKey: keyA, HTTPClient: &http.Client{Transport: transport}})
	if err != nil {
		t.Fatal(err)
	}
	res := resources.New(resources.Deps{Client: api, ServerKey: keyA, Log: testkit.QuietLogger(), Poll: testkit.FastPoll().Next})
	hooks := &server.Hooks{}
	opts := append(resources.ServerOptions(), server.WithHooks(hooks), server.WithResourceCompletionProvider(res))
	srv := server.NewMCPServer("resources-test", "1", opts...)
	res.Register(srv, hooks)
	return &fixture{res: res, srv: srv, api: api, sb: sb, cnt: cnt}
}

// place places a call for key through the API and returns its id.
func (f *fixture) place(t *testing.T, key, to, objective string) string {
	t.Helper()
	out, err := f.api.WithAPIKey(key).PlaceCall(context.Background(), &client.PlaceCallRequest{To: to, Objective: objective})
	if err != nil {
		t.Fatalf("place: %v", err)
	}
	return out.CallID
}

type conn struct {
	*mcpclient.Client
	t     *testing.T
	key   string
	notes testkit.Notifications
}

var (
	modernEra = []mcpclient.ClientOption(nil)
	legacyEra = []mcpclient.ClientOption{mcpclient.WithLegacyProtocolOnly()}
)

// connect starts an in-process client whose requests carry key as their
// tenant (as the HTTP guard would set it).
func (f *fixture) connect(t *testing.T, key string, opts []mcpclient.ClientOption) *conn {
	t.Helper()
	mc, err := mcpclient.NewInProcessClientWithOptions(f.srv, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := mc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mc.Close() })
	c := &conn{Client: mc, t: t, key: key}
	mc.OnNotification(c.notes.Add)
	init := mcp.InitializeRequest{}
	init.Params.ClientInfo = mcp.Implementation{Name: "resources-test", Version: "1"}
	if _, err := mc.Initialize(c.ctx(), init); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *conn) ctx() context.Context {
	if c.key == "" {
		return context.Background()
	}
	return tenant.WithKey(context.Background(), c.key)
}

func (c *conn) updates(uri string) int { return c.notes.Updates(uri) }

func (c *conn) read(uri string) (*mcp.ReadResourceResult, error) {
	req := mcp.ReadResourceRequest{}
	req.Params.URI = uri
	return c.ReadResource(c.ctx(), req)
}

func (c *conn) subscribe(uri string) {
	c.t.Helper()
	req := mcp.SubscribeRequest{}
	req.Params.URI = uri
	if err := c.Subscribe(c.ctx(), req); err != nil {
		c.t.Fatalf("resources/subscribe: %v", err)
	}
}

func (c *conn) unsubscribe(uri string) {
	c.t.Helper()
	req := mcp.UnsubscribeRequest{}
	req.Params.URI = uri
	if err := c.Unsubscribe(c.ctx(), req); err != nil {
		c.t.Fatalf("resources/unsubscribe: %v", err)
	}
}

func (c *conn) complete(ref any, name, value string) []string {
	c.t.Helper()
	req := mcp.CompleteRequest{}
	req.Params.Ref = ref
	req.Params.Argument.Name = name
	req.Params.Argument.Value = value
	res, err := c.Complete(c.ctx(), req)
	if err != nil {
		c.t.Fatalf("completion/complete %s=%q: %v", name, value, err)
	}
	return res.Completion.Values
}

func eventually(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

func TestTemplatesAreListedWithTheirMIMETypes(t *testing.T) {
	f := newFixture(t)
	for _, era := range testkit.Eras {
		t.Run(era.Name, func(t *testing.T) {
			c := f.connect(t, "", era.Opts)
			res, err := c.ListResourceTemplates(c.ctx(), mcp.ListResourceTemplatesRequest{})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, tpl := range res.ResourceTemplates {
				got[tpl.URITemplate.Raw()] = tpl.MIMEType
				if tpl.Description == "" || tpl.Name == "" {
					t.Errorf("template %s has no name or description", tpl.URITemplate.Raw())
				}
			}
			// The recording template has no mimeType: each recording has
			// the audio type the API gives it.
			want := map[string]string{resources.RecordTemplate: "application/json", resources.TranscriptTemplate: "text/plain", resources.RecordingTemplate: ""}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("templates = %v, want %v", got, want)
			}
		})
	}
}

func TestResourcesListShowsRecentCallsBoundedAndPerKey(t *testing.T) {
	f := newFixture(t)
	for i := range resources.ListLimit + 5 {
		f.place(t, keyA, numCompletes, fmt.Sprintf("Call number %d.", i))
	}
	idB := f.place(t, keyB, "+14155550999", "Key B's only call.")
	recent, err := f.api.ListCalls(context.Background(), &client.ListOptions{Limit: resources.ListLimit})
	if err != nil {
		t.Fatal(err)
	}
	for _, era := range testkit.Eras {
		t.Run(era.Name, func(t *testing.T) {
			a := f.connect(t, keyA, era.Opts)
			res, err := a.ListResources(a.ctx(), mcp.ListResourcesRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Resources) != resources.ListLimit {
				t.Fatalf("resources/list has %d entries, want the %d most recent", len(res.Resources), resources.ListLimit)
			}
			for i, r := range res.Resources {
				if want := resources.Prefix + recent[i].ID; r.URI != want {
					t.Errorf("entry %d = %s, want %s (most recent first)", i, r.URI, want)
				}
				if r.MIMEType != "application/json" {
					t.Errorf("entry %s mimeType %q", r.URI, r.MIMEType)
				}
				if strings.Contains(r.Name, numCompletes) {
					t.Errorf("entry name shows the full number: %q", r.Name)
				}
				if r.URI == resources.Prefix+idB {
					t.Errorf("key A's list shows key B's call")
				}
			}
			b := f.connect(t, keyB, era.Opts)
			res, err = b.ListResources(b.ctx(), mcp.ListResourcesRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Resources) != 1 || res.Resources[0].URI != resources.Prefix+idB {
				t.Errorf("key B's list = %v, want only its own call", res.Resources)
			}
		})
	}
}

func TestReadRecordAndTranscript(t *testing.T) {
	f := newFixture(t)
	id := f.place(t, keyA, numCompletes, "Ask about the opening hours.")
	c := f.connect(t, keyA, modernEra)
	// Wait for the end, so that the transcript exists.
	if !eventually(5*time.Second, func() bool {
		call, err := f.api.GetCall(context.Background(), id)
		return err == nil && client.IsTerminalStatus(call.Status)
	}) {
		t.Fatal("the call did not end")
	}
	call, err := f.api.GetCall(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.read(resources.Prefix + id)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Contents) != 1 {
		t.Fatalf("%d contents", len(res.Contents))
	}
	body, ok := mcp.AsTextResourceContents(res.Contents[0])
	if !ok || body.MIMEType != "application/json" || body.URI != resources.Prefix+id {
		t.Fatalf("record contents = %#v", res.Contents[0])
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(body.Text), &got); err != nil {
		t.Fatal(err)
	}
	fields, _ := outcome.Present(call).Fields()
	want := map[string]any{}
	raw, _ := json.Marshal(fields)
	_ = json.Unmarshal(raw, &want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("record = %v\nwant    %v", got, want)
	}

	res, err = c.read(resources.Prefix + id + "/transcript")
	if err != nil {
		t.Fatal(err)
	}
	tx, ok := mcp.AsTextResourceContents(res.Contents[0])
	if !ok || tx.MIMEType != "text/plain" {
		t.Fatalf("transcript contents = %#v", res.Contents[0])
	}
	if tx.Text != resources.TranscriptText(call) {
		t.Errorf("transcript = %q, want %q", tx.Text, resources.TranscriptText(call))
	}
	for _, want := range []string{"+*******0123", "Status: completed", "Summary: ", *call.Transcript} {
		if !strings.Contains(tx.Text, want) {
			t.Errorf("transcript lacks %q: %q", want, tx.Text)
		}
	}
	if strings.Contains(tx.Text, numCompletes) {
		t.Errorf("transcript shows the full destination")
	}

	for _, uri := range []string{
		resources.Prefix + "call_doesnotexist",
		resources.Prefix + id + "/transcript/extra",
		resources.Prefix,
		"bys://other/" + id,
	} {
		if _, err := c.read(uri); err == nil {
			t.Errorf("reading %s succeeded", uri)
		}
	}
	other := f.connect(t, keyB, modernEra)
	if _, err := other.read(resources.Prefix + id); err == nil {
		t.Errorf("key B read key A's call")
	}
	if _, err := other.read(resources.Prefix + id + "/transcript"); err == nil {
		t.Errorf("key B read key A's transcript")
	}
}

func TestTranscriptTextBeforeTheCallEnds(t *testing.T) {
	text := resources.TranscriptText(&client.Call{ID: "c1", To: "+447700900123", Status: "queued"})
	for _, want := range []string{"Call c1 to +********0123", "Status: queued", "(no transcript yet)"} {
		if !strings.Contains(text, want) {
			t.Errorf("transcript lacks %q: %q", want, text)
		}
	}
	if strings.Contains(text, "Duration") || strings.Contains(text, "Summary") {
		t.Errorf("empty fields rendered: %q", text)
	}
}

func TestParseURI(t *testing.T) {
	tests := []struct {
		uri        string
		id         string
		transcript bool
		ok         bool
	}{
		{"bys://calls/abc", "abc", false, true},
		{"bys://calls/abc/transcript", "abc", true, true},
		{"bys://calls/", "", false, false},
		{"bys://calls//transcript", "", false, false},
		{"bys://calls/a/b", "", false, false},
		{"bys://calls/a?x=1", "", false, false},
		{"bys://calls/a#f", "", false, false},
		{"https://calls/a", "", false, false},
	}
	for _, tt := range tests {
		id, tr, ok := resources.ParseURI(tt.uri)
		if id != tt.id || tr != tt.transcript || ok != tt.ok {
			t.Errorf("ParseURI(%q) = %q, %v, %v; want %q, %v, %v", tt.uri, id, tr, ok, tt.id, tt.transcript, tt.ok)
		}
	}
}

func TestCompletionOfCallIDFromRecentCalls(t *testing.T) {
	f := newFixture(t)
	var ids []string
	for i := range 3 {
		ids = append(ids, f.place(t, keyA, numCompletes, fmt.Sprintf("Call %d.", i)))
	}
	idB := f.place(t, keyB, numCompletes, "Key B.")
	for _, era := range testkit.Eras {
		t.Run(era.Name, func(t *testing.T) {
			c := f.connect(t, keyA, era.Opts)
			for _, tpl := range []string{resources.RecordTemplate, resources.TranscriptTemplate} {
				ref := mcp.ResourceReference{Type: "ref/resource", URI: tpl}
				got := c.complete(ref, "callId", "")
				if len(got) != 3 {
					t.Errorf("%s: callId completions = %v, want key A's 3 calls", tpl, got)
				}
				for _, v := range got {
					if v == idB {
						t.Errorf("key A is offered key B's call id")
					}
				}
				prefix := ids[1][:8]
				got = c.complete(ref, "callId", prefix)
				if len(got) == 0 || !contains(got, ids[1]) {
					t.Errorf("completions of %q = %v, want %s", prefix, got, ids[1])
				}
				for _, v := range got {
					if !strings.HasPrefix(v, prefix) {
						t.Errorf("completion %q does not start with %q", v, prefix)
					}
				}
				if got := c.complete(ref, "callId", "zzz-no-such"); len(got) != 0 {
					t.Errorf("completions of an unknown prefix = %v", got)
				}
				if got := c.complete(ref, "other", ""); len(got) != 0 {
					t.Errorf("completions of an unknown argument = %v", got)
				}
			}
		})
	}
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// countIs waits until the registry holds the given numbers.
func countIs(t *testing.T, f *fixture, watches, subs int) {
	t.Helper()
	if !eventually(3*time.Second, func() bool { w, s := f.res.Count(); return w == watches && s == subs }) {
		w, s := f.res.Count()
		t.Fatalf("Count() = %d watches, %d subscriptions; want %d, %d", w, s, watches, subs)
	}
}

// pollingStopped checks that no API GET of a call happens for a while.
func pollingStopped(t *testing.T, f *fixture) {
	t.Helper()
	time.Sleep(100 * time.Millisecond) // a poll in flight may finish
	before := f.cnt.Gets()
	time.Sleep(250 * time.Millisecond)
	if after := f.cnt.Gets(); after != before {
		t.Errorf("the API was polled %d times after the watch ended", after-before)
	}
}

func TestLegacySubscriptionsNotifyAndStopWithTheLastSubscriber(t *testing.T) {
	// At TimeScale 2 the call is queued 500 ms, then dials 1 s: both
	// changes happen after the subscriptions are in place.
	f := newFixtureScale(t, 2)
	id := f.place(t, keyA, numForever, "A call that never ends.")
	uri := resources.Prefix + id
	one := f.connect(t, keyA, legacyEra)
	two := f.connect(t, keyA, legacyEra)
	bystander := f.connect(t, keyA, legacyEra)
	one.subscribe(uri)
	one.subscribe(uri) // twice: still one subscription
	two.subscribe(uri + "/transcript")
	countIs(t, f, 1, 2)
	if !eventually(5*time.Second, func() bool { return one.updates(uri) >= 2 && two.updates(uri+"/transcript") >= 2 }) {
		call, _ := f.api.GetCall(context.Background(), id)
		t.Fatalf("updates: %d and %d, want one per status change (queued, dialing, in_progress); call now %s", one.updates(uri), two.updates(uri+"/transcript"), call.Status)
	}
	if n := bystander.updates(uri) + bystander.updates(uri+"/transcript"); n != 0 {
		t.Errorf("a client that did not subscribe got %d updates", n)
	}
	if n := one.updates(uri + "/transcript"); n != 0 {
		t.Errorf("client one got %d updates for a URI it did not subscribe to", n)
	}
	one.unsubscribe(uri)
	countIs(t, f, 1, 1)
	two.unsubscribe(uri + "/transcript")
	countIs(t, f, 0, 0)
	pollingStopped(t, f)
}

func TestSubscriptionEndsWhenTheCallIsTerminal(t *testing.T) {
	f := newFixture(t)
	for _, era := range testkit.Eras {
		t.Run(era.Name, func(t *testing.T) {
			id := f.place(t, keyA, numCompletes, "A call that completes, "+era.Name)
			uri := resources.Prefix + id
			c := f.connect(t, keyA, era.Opts)
			if era.Opts == nil {
				stop, err := c.ListenAsync(c.ctx(), mcp.SubscriptionFilter{ResourceSubscriptions: []string{uri}}, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer stop()
			} else {
				c.subscribe(uri)
			}
			countIs(t, f, 1, 1)
			if !eventually(5*time.Second, func() bool { w, _ := f.res.Count(); return w == 0 }) {
				t.Fatal("the watch did not end with the call")
			}
			countIs(t, f, 0, 0)
			if n := c.updates(uri); n < 1 {
				t.Errorf("got %d updates, want one per status change up to completed", n)
			}
			pollingStopped(t, f)
		})
	}
}

func TestModernListenStreamEndingStopsPolling(t *testing.T) {
	f := newFixtureScale(t, 2)
	id := f.place(t, keyA, numForever, "A call that never ends.")
	uri := resources.Prefix + id
	c := f.connect(t, keyA, modernEra)
	stop, err := c.ListenAsync(c.ctx(), mcp.SubscriptionFilter{ResourceSubscriptions: []string{uri}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	countIs(t, f, 1, 1)
	if !eventually(5*time.Second, func() bool { return c.updates(uri) >= 2 }) {
		t.Fatalf("got %d updates on the listen stream", c.updates(uri))
	}
	stop()
	countIs(t, f, 0, 0)
	pollingStopped(t, f)
}

func TestSessionGoneEndsItsSubscriptions(t *testing.T) {
	f := newFixture(t)
	id := f.place(t, keyA, numForever, "A call that never ends.")
	c := f.connect(t, keyA, legacyEra)
	c.subscribe(resources.Prefix + id)
	countIs(t, f, 1, 1)
	_ = c.Close()
	countIs(t, f, 0, 0)
	pollingStopped(t, f)
}

// A key that subscribes to another key's call learns nothing and leaves
// nothing behind.
func TestSubscriptionToAnotherKeysCallSendsNothing(t *testing.T) {
	f := newFixture(t)
	id := f.place(t, keyA, numForever, "Key A's call.")
	uri := resources.Prefix + id
	b := f.connect(t, keyB, legacyEra)
	b.subscribe(uri)
	countIs(t, f, 0, 0)
	time.Sleep(200 * time.Millisecond)
	if n := b.updates(uri); n != 0 {
		t.Errorf("key B got %d updates about key A's call", n)
	}
}

// Completion answers only for this server's templates.
func TestCompletionOnlyForOurTemplates(t *testing.T) {
	f := newFixture(t)
	f.place(t, keyA, numCompletes, "A call.")
	c := f.connect(t, keyA, modernEra)
	if got := c.complete(mcp.ResourceReference{Type: "ref/resource", URI: "file:///{callId}"}, "callId", ""); len(got) != 0 {
		t.Errorf("completion for another template offers %v", got)
	}
}
