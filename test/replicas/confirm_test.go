package replicas_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

// roundRobin is a load balancer without affinity, as a RoundTripper: each
// HTTP request goes to the next replica in turn. 2026-07-28 requests carry no
// session, so any replica must serve any of them.
type roundRobin struct {
	hosts []string // host:port of each replica
	next  atomic.Int64
	mu    sync.Mutex
	log   []string // the host each request went to
}

func (rr *roundRobin) RoundTrip(r *http.Request) (*http.Response, error) {
	host := rr.hosts[int(rr.next.Add(1)-1)%len(rr.hosts)]
	rr.mu.Lock()
	rr.log = append(rr.log, host)
	rr.mu.Unlock()
	r = r.Clone(r.Context())
	r.URL.Host, r.Host = host, host
	return http.DefaultTransport.RoundTrip(r)
}

// acceptAll is the user saying yes to every confirmation.
type acceptAll struct{ asked atomic.Int64 }

func (a *acceptAll) Elicit(context.Context, mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	a.asked.Add(1)
	return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{
		Action: mcp.ElicitationResponseActionAccept, Content: map[string]any{"confirm": true}}}, nil
}

// balancedClient is a 2026-07-28 client behind a round-robin balancer over
// reps, that declares elicitation and accepts every confirmation.
func balancedClient(t *testing.T, key string, user *acceptAll, reps ...*proc) (*mcpclient.Client, *roundRobin) {
	t.Helper()
	rr := &roundRobin{}
	for _, p := range reps {
		rr.hosts = append(rr.hosts, p.addr)
	}
	tr, err := transport.NewStreamableHTTP("http://"+reps[0].addr+"/mcp",
		transport.WithHTTPBasicClient(&http.Client{Transport: rr, Timeout: 30 * time.Second}),
		transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + key}))
	if err != nil {
		t.Fatal(err)
	}
	c := mcpclient.NewClient(tr, mcpclient.WithElicitationHandler(user))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	init := mcp.InitializeRequest{}
	init.Params.ClientInfo = mcp.Implementation{Name: "replicas-balanced", Version: "1"}
	init.Params.Capabilities.Elicitation = &mcp.ElicitationCapability{}
	res, err := c.Initialize(ctx, init)
	if err != nil {
		t.Fatal(err)
	}
	if !mcp.IsModernProtocol(res.ProtocolVersion) {
		t.Fatalf("negotiated %s, want 2026-07-28", res.ProtocolVersion)
	}
	return c, rr
}

// With --confirm-calls always, a 2026-07-28 client's confirmation round trip
// (input_required from one replica, the accepting retry at another) places
// the call once: the state's signing secret is shared through Redis. It must
// keep working after Redis restarts empty, without restarting replicas.
func TestConfirmationAcrossReplicas(t *testing.T) {
	t.Parallel()
	rs, reps := startOnRedis(t, 3, "--confirm-calls", "always")

	// confirmOnce runs one confirmed placement over the balancer; it returns
	// a description of what went wrong, or "".
	confirmOnce := func(label string, on ...*proc) string {
		t.Helper()
		key := tenantKey(t) + label
		user := &acceptAll{}
		c, rr := balancedClient(t, key, user, on...)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		req := mcp.CallToolRequest{}
		req.Params.Name = "place_call"
		req.Params.Arguments = placeArgs("+14155550123", "Confirmed across replicas "+label)
		res, err := c.CallTool(ctx, req)
		rr.mu.Lock()
		route := append([]string(nil), rr.log...)
		rr.mu.Unlock()
		if err != nil {
			return fmt.Sprintf("%s: place_call: %v (requests went to %v)", label, err, route)
		}
		if calls := sandboxCalls(t, key); len(calls) != boolToInt(!res.IsError) {
			t.Errorf("%s: the sandbox holds %d calls (isError=%v)", label, len(calls), res.IsError)
		}
		if res.IsError || user.asked.Load() != 1 {
			return fmt.Sprintf("%s: place_call isError=%v after %d confirmations: %v (requests went to %v)", label, res.IsError, user.asked.Load(), res.Content, route)
		}
		return ""
	}

	for _, problem := range []string{
		confirmOnce("before-0-1", reps[0], reps[1]),
		confirmOnce("before-1-0", reps[1], reps[0]),
	} {
		if problem != "" {
			t.Error(problem)
		}
	}

	// Redis restarts empty (no persistence): replicas 0 and 1 have used the
	// shared secret, replica 2 has not.
	rs.Restart()
	for _, p := range reps {
		if err := waitHTTP(p, "/readyz", 10*time.Second, 200); err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
	}
	back := time.Now()
	var problem string
	for attempt := 0; attempt < 50; attempt++ {
		problem = confirmOnce(fmt.Sprintf("after-restart-2-0-try%d", attempt), reps[2], reps[0])
		if problem == "" {
			problem = confirmOnce(fmt.Sprintf("after-restart-1-2-try%d", attempt), reps[1], reps[2])
		}
		if problem == "" || time.Since(back) > 10*time.Second {
			break
		}
		time.Sleep(time.Second)
	}
	if problem != "" {
		t.Errorf("confirmed placement across replicas still fails %s after Redis came back: %s",
			time.Since(back).Round(time.Second), problem)
	}
}

func boolToInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// A 2025-11-25 session lives on the replica that created it: the same
// Mcp-Session-Id sent to another replica is unknown there (404, so the
// client starts a new session), which is why the load balancer must route
// by Mcp-Session-Id for such clients.
func TestLegacySessionIsPerReplica(t *testing.T) {
	t.Parallel()
	_, reps := startOnRedis(t, 2)
	key := tenantKey(t)
	c := connect(t, reps[0], key, true)
	sid := c.GetSessionId()
	if sid == "" {
		t.Fatal("the 2025-11-25 client has no Mcp-Session-Id")
	}
	post := func(p *proc) int {
		req, err := http.NewRequest(http.MethodPost, p.url+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":7,"method":"tools/list"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Mcp-Session-Id", sid)
		req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		if len(body) > 300 {
			body = body[:300]
		}
		t.Logf("%s answered %d: %s", p.name, resp.StatusCode, body)
		return resp.StatusCode
	}
	if s := post(reps[0]); s != http.StatusOK {
		t.Errorf("the session's own replica answered %d, want 200", s)
	}
	if s := post(reps[1]); s != http.StatusNotFound {
		t.Errorf("another replica answered %d to a session it does not hold, want 404", s)
	}
}

// pinAfterInit sends the initialize handshake to one replica and every later
// request to another: a load balancer that ignores Mcp-Session-Id.
type pinAfterInit struct {
	first, rest string
	n           atomic.Int64
}

func (p *pinAfterInit) RoundTrip(r *http.Request) (*http.Response, error) {
	host := p.rest
	if p.n.Add(1) <= 2 { // initialize and notifications/initialized
		host = p.first
	}
	r = r.Clone(r.Context())
	r.URL.Host, r.Host = host, host
	return http.DefaultTransport.RoundTrip(r)
}

// A 2025-11-25 client that declared elicitation, whose session was opened on
// replica 0, must never get a call placed without being asked (--confirm-calls
// auto) when a misconfigured balancer sends its tools/call to replica 1:
// either replica 1 refuses the unknown session (404, the client starts a new
// one) or the user is asked. A call placed unasked is a safety failure.
func TestMisroutedLegacySessionNeverSkipsConfirmation(t *testing.T) {
	t.Parallel()
	_, reps := startOnRedis(t, 2)
	key := tenantKey(t)
	user := &acceptAll{}
	tr, err := transport.NewStreamableHTTP(reps[0].url+"/mcp",
		transport.WithHTTPBasicClient(&http.Client{Transport: &pinAfterInit{first: reps[0].addr, rest: reps[1].addr}, Timeout: 20 * time.Second}),
		transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + key}))
	if err != nil {
		t.Fatal(err)
	}
	c := mcpclient.NewClient(tr, mcpclient.WithLegacyProtocolOnly(), mcpclient.WithElicitationHandler(user))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	init := mcp.InitializeRequest{}
	init.Params.ClientInfo = mcp.Implementation{Name: "replicas-misrouted", Version: "1"}
	init.Params.Capabilities.Elicitation = &mcp.ElicitationCapability{}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	req := mcp.CallToolRequest{}
	req.Params.Name = "place_call"
	req.Params.Arguments = placeArgs("+14155550123", "Misrouted session")
	res, err := c.CallTool(ctx, req)
	placed := len(sandboxCalls(t, key))
	t.Logf("tools/call on replica 1 with replica 0's session: err=%v result=%v; asked %d times; %d calls placed", err, res, user.asked.Load(), placed)
	if placed > 0 && user.asked.Load() == 0 {
		t.Errorf("a call was placed without asking the user, who declared elicitation at initialize: replica 1 served a session id it never issued (it should answer 404 so the client re-initializes)")
	}
}
