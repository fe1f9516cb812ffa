package resources_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/byourside/bys-mcp/client"
	"github.com/byourside/bys-mcp/internal/inproc"
	"github.com/byourside/bys-mcp/internal/people"
	"github.com/byourside/bys-mcp/internal/resources"
	"github.com/byourside/bys-mcp/internal/sandbox"
	"github.com/byourside/bys-mcp/internal/state"
	"github.com/byourside/bys-mcp/internal/tenant"
	"github.com/byourside/bys-mcp/internal/testkit"
	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// TestPeopleReadOnlyTheirCalls: under --oauth-issuer one key serves
// everyone, and the resources show each person only the calls they placed.
func TestPeopleReadOnlyTheirCalls(t *testing.T) {
	sb := sandbox.New(sandbox.Options{TimeScale: 50, RateLimitPerMinute: -1})
	api, err := client.New(client.Options{BaseURL: "http://sandbox.invalid", APIKey: keyA, HTTPClient: &http.Client{Transport: inproc.Transport{Handler: sb}}})
	if err != nil {
		t.Fatal(err)
	}
	book := people.New(state.NewMemory(), nil)
	res := resources.New(resources.Deps{Client: api, ServerKey: keyA, People: book, Log: testkit.QuietLogger(), Poll: testkit.FastPoll().Next})
	hooks := &server.Hooks{}
	srv := server.NewMCPServer("people-test", "1", append(resources.ServerOptions(), server.WithHooks(hooks), server.WithResourceCompletionProvider(res))...)
	res.Register(srv, hooks)

	alice := tenant.WithPerson(context.Background(), tenant.Person{ID: "p-alice", Subject: "alice"})
	bob := tenant.WithPerson(context.Background(), tenant.Person{ID: "p-bob", Subject: "bob"})
	placeAs := func(ctx context.Context, objective string) string {
		p, _ := tenant.PersonFrom(ctx)
		c, err := people.Client(api, book, tenant.Credential(keyA, p.ID))
		if err != nil {
			t.Fatal(err)
		}
		out, err := c.PlaceCall(ctx, &client.PlaceCallRequest{To: numCompletes, Objective: objective})
		if err != nil {
			t.Fatal(err)
		}
		return out.CallID
	}
	aliceCall := placeAs(alice, "Alice's call.")
	bobCall := placeAs(bob, "Bob's call.")

	mc, err := mcpclient.NewInProcessClientWithOptions(srv)
	if err != nil {
		t.Fatal(err)
	}
	if err := mc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mc.Close() })
	init := mcp.InitializeRequest{}
	init.Params.ClientInfo = mcp.Implementation{Name: "people-test", Version: "1"}
	if _, err := mc.Initialize(alice, init); err != nil {
		t.Fatal(err)
	}
	read := func(ctx context.Context, uri string) error {
		req := mcp.ReadResourceRequest{}
		req.Params.URI = uri
		_, err := mc.ReadResource(ctx, req)
		return err
	}
	for _, uri := range []string{resources.Prefix + aliceCall, resources.Prefix + aliceCall + "/transcript"} {
		if err := read(alice, uri); err != nil {
			t.Errorf("alice reads %s: %v", uri, err)
		}
		if err := read(bob, uri); err == nil {
			t.Errorf("bob reads alice's %s", uri)
		}
		if err := read(context.Background(), uri); err == nil {
			t.Errorf("a request without a person reads %s", uri)
		}
	}
	if err := read(bob, resources.Prefix+aliceCall+"/recording"); err == nil {
		t.Error("bob reads alice's recording")
	}
	list := func(ctx context.Context) []string {
		res, err := mc.ListResources(ctx, mcp.ListResourcesRequest{})
		if err != nil {
			t.Fatal(err)
		}
		var uris []string
		for _, r := range res.Resources {
			uris = append(uris, r.URI)
		}
		return uris
	}
	if got := list(alice); len(got) != 1 || got[0] != resources.Prefix+aliceCall {
		t.Errorf("alice's recent calls = %v, want hers only", got)
	}
	if got := list(bob); len(got) != 1 || got[0] != resources.Prefix+bobCall {
		t.Errorf("bob's recent calls = %v, want his only", got)
	}
	req := mcp.CompleteRequest{}
	req.Params.Ref = mcp.ResourceReference{Type: "ref/resource", URI: resources.RecordTemplate}
	req.Params.Argument.Name = "callId"
	out, err := mc.Complete(bob, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Completion.Values) != 1 || out.Completion.Values[0] != bobCall {
		t.Errorf("bob's completions = %v, want his call only", out.Completion.Values)
	}
}
