package replicas_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/internal/state/redistest"
	"github.com/byourside/bys-mcp/internal/testkit"
)

// 20 identical place_calls arriving at three replicas at once place exactly
// one call; every answer carries its id, all but one deduplicated.
func TestIdenticalCallsAcrossReplicasPlaceOne(t *testing.T) {
	t.Parallel()
	rs, reps := startOnRedis(t, 3)
	key := tenantKey(t)

	const n, rounds = 20, 3
	clients := connectSpread(t, reps, key, n, func(i int) bool { return i%2 == 1 })
	for round := range rounds {
		objective := fmt.Sprintf("Book a table for two at 7pm (round %d)", round)
		results := make([]toolResult, n)
		errs := make([]error, n)
		testkit.AllAtOnce(n, func(i int) {
			ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
			defer cancel()
			results[i], errs[i] = clients[i].call(ctx, "place_call", placeArgs("+14155550123", objective))
		})

		ids := map[string]int{}
		fresh := 0
		for i, r := range results {
			if errs[i] != nil {
				t.Errorf("round %d client %d (replica %d, legacy=%v): %v", round, i, i%3, clients[i].legacy, errs[i])
				continue
			}
			if r.IsError || r.str("callId") == "" {
				t.Errorf("round %d client %d (replica %d, legacy=%v): %s", round, i, i%3, clients[i].legacy, r)
				continue
			}
			ids[r.str("callId")]++
			if d, _ := r.Structured["deduplicated"].(bool); !d {
				fresh++
			}
			if !strings.Contains(r.Text, r.str("callId")) {
				t.Errorf("round %d client %d: text does not carry the callId: %q", round, i, r.Text)
			}
		}
		if len(ids) != 1 {
			t.Errorf("round %d: answers carry %d different callIds: %v", round, len(ids), ids)
		}
		if fresh != 1 {
			t.Errorf("round %d: %d answers without deduplicated:true, want exactly 1", round, fresh)
		}
		if calls := sandboxCalls(t, key); len(calls) != round+1 {
			t.Errorf("after round %d the sandbox holds %d calls for the key, want %d", round, len(calls), round+1)
		}
	}
	// list_calls through any replica agrees, and so do the replicas' metrics.
	lc := connect(t, reps[2], key, false).mustCall(t, "list_calls", map[string]any{"limit": 100})
	if got, _ := lc.Structured["calls"].([]any); len(got) != rounds {
		t.Errorf("list_calls through replica 2: %d calls, want %d", len(got), rounds)
	}
	if got := placedTotal(t, reps); got != rounds {
		t.Errorf("bys_mcp_calls_placed_total summed over the replicas = %v, want %d", got, rounds)
	}
	checkRedisHygiene(t, rs.Addr, key)
}

// --max-calls-per-hour counts across replicas: 10 distinct calls at once
// place exactly 2.
func TestBudgetAcrossReplicas(t *testing.T) {
	t.Parallel()
	rs, reps := startOnRedis(t, 3, "--max-calls-per-hour", "2")
	key := tenantKey(t)

	const n = 10
	clients := connectSpread(t, reps, key, n, func(i int) bool { return i%2 == 0 })
	results := make([]toolResult, n)
	errs := make([]error, n)
	testkit.AllAtOnce(n, func(i int) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		results[i], errs[i] = clients[i].call(ctx, "place_call", placeArgs("+14155550123", fmt.Sprintf("Ask for a quote, request %d", i)))
	})
	placed, refused := 0, 0
	for i, r := range results {
		switch {
		case errs[i] != nil:
			t.Errorf("client %d: %v", i, errs[i])
		case !r.IsError && r.str("callId") != "":
			placed++
		case r.IsError && r.str("error") == "call_budget_exceeded" && strings.Contains(r.Text, "call_budget_exceeded"):
			refused++
		default:
			t.Errorf("client %d: unexpected result %s", i, r)
		}
	}
	if placed != 2 || refused != 8 {
		t.Errorf("placed %d, refused %d; want 2 and 8", placed, refused)
	}
	if calls := sandboxCalls(t, key); len(calls) != 2 {
		t.Errorf("the sandbox holds %d calls, want 2", len(calls))
	}
	checkRedisHygiene(t, rs.Addr, key)
}

// After --dedupe-window an identical call is placed again, with a new id;
// within it, another replica deduplicates.
func TestDedupeWindowExpiresAcrossReplicas(t *testing.T) {
	t.Parallel()
	_, reps := startOnRedis(t, 3, "--dedupe-window", "2s")
	key := tenantKey(t)
	args := placeArgs("+14155550123", "Confirm the delivery slot")

	first := connect(t, reps[0], key, false).mustCall(t, "place_call", args)
	if first.IsError || first.str("callId") == "" {
		t.Fatalf("first call: %s", first)
	}
	again := connect(t, reps[1], key, true).mustCall(t, "place_call", args)
	if again.str("callId") != first.str("callId") || again.Structured["deduplicated"] != true {
		t.Fatalf("within the window, replica 1 answered %s; want callId %s deduplicated", again, first.str("callId"))
	}
	time.Sleep(2500 * time.Millisecond)
	after := connect(t, reps[2], key, false).mustCall(t, "place_call", args)
	if after.IsError || after.str("callId") == "" || after.str("callId") == first.str("callId") {
		t.Fatalf("after the window: %s; want a new call (first was %s)", after, first.str("callId"))
	}
	if d, _ := after.Structured["deduplicated"].(bool); d {
		t.Errorf("after the window the call is still deduplicated: %s", after)
	}
	if calls := sandboxCalls(t, key); len(calls) != 2 {
		t.Errorf("the sandbox holds %d calls, want 2", len(calls))
	}
}

// Redis stopped (or hung) mid-run: place_call fails closed within 5 s, the
// read tools keep working, /readyz says 503 and /healthz 200; once Redis is
// back, placement works again within 10 s without restarting the replicas.
func TestRedisDownFailsClosedAndRecovers(t *testing.T) {
	t.Parallel()
	rs, reps := startOnRedis(t, 3)
	key := tenantKey(t)
	modern := make([]*client, 3)
	legacy := make([]*client, 3)
	for i, p := range reps {
		modern[i] = connect(t, p, key, false)
		legacy[i] = connect(t, p, key, true)
		if s := httpStatus(t, p.url+"/readyz"); s != 200 {
			t.Fatalf("%s /readyz = %d before the outage, want 200", p.name, s)
		}
	}
	first := modern[0].mustCall(t, "place_call", placeArgs("+14155550123", "Before the outage"))
	if first.IsError {
		t.Fatalf("place_call before the outage: %s", first)
	}
	callID := first.str("callId")

	refusedWithin := func(c *client, what string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		began := time.Now()
		r, err := c.call(ctx, "place_call", placeArgs("+14155550123", "During the outage "+what))
		took := time.Since(began)
		if err != nil {
			t.Fatalf("%s: place_call: %v (after %s)", what, err, took)
		}
		if !r.IsError || r.str("error") != "state_unavailable" || !strings.Contains(r.Text, "state_unavailable") {
			t.Errorf("%s: place_call = %s; want state_unavailable", what, r)
		}
		if took > 5*time.Second {
			t.Errorf("%s: refusal took %s, want within 5 s", what, took.Round(time.Millisecond))
		}
		t.Logf("%s: refused in %s", what, took.Round(time.Millisecond))
	}

	rs.Stop()
	for i := range reps {
		refusedWithin(modern[i], fmt.Sprintf("stopped, replica %d modern", i))
		refusedWithin(legacy[i], fmt.Sprintf("stopped, replica %d legacy", i))
	}
	for i, p := range reps {
		for _, c := range []*client{modern[i], legacy[i]} {
			g := c.mustCall(t, "get_call", map[string]any{"callId": callID})
			if g.IsError || g.str("id") != callID {
				t.Errorf("%s get_call while Redis is down (legacy=%v): %s", p.name, c.legacy, g)
			}
		}
		if l := modern[i].mustCall(t, "list_calls", map[string]any{}); l.IsError {
			t.Errorf("%s list_calls while Redis is down: %s", p.name, l)
		}
		if s := httpStatus(t, p.url+"/readyz"); s != 503 {
			t.Errorf("%s /readyz = %d while Redis is down, want 503", p.name, s)
		}
		if s := httpStatus(t, p.url+"/healthz"); s != 200 {
			t.Errorf("%s /healthz = %d while Redis is down, want 200", p.name, s)
		}
	}
	if calls := sandboxCalls(t, key); len(calls) != 1 {
		t.Errorf("the sandbox holds %d calls after the outage attempts, want 1", len(calls))
	}
	// A replica also starts while Redis is down: alive, not ready, refusing.
	late := startReplica(t, "replica-late", replicaOpts{stateURL: rs.URL})
	if s := httpStatus(t, late.url+"/readyz"); s != 503 {
		t.Errorf("a replica started while Redis is down: /readyz = %d, want 503", s)
	}
	refusedWithin(connect(t, late, key, false), "replica started while Redis is down")
	reps = append(reps, late)
	modern = append(modern, connect(t, late, key, false))
	legacy = append(legacy, connect(t, late, key, true))

	rs.Start() // same port, empty
	back := time.Now()
	placed := false
	for attempt := 0; attempt < 100 && time.Since(back) < 12*time.Second; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		r, err := modern[attempt%len(modern)].call(ctx, "place_call", placeArgs("+14155550123", "After the outage"))
		cancel()
		if err == nil && !r.IsError && r.str("callId") != "" {
			placed = true
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	took := time.Since(back)
	if !placed || took > 10*time.Second {
		t.Fatalf("placement after Redis came back: placed=%v after %s; want within 10 s", placed, took.Round(time.Millisecond))
	}
	t.Logf("placement works again %s after Redis came back", took.Round(time.Millisecond))
	for _, p := range reps {
		if err := waitHTTP(p, "/readyz", 10*time.Second, 200); err != nil {
			t.Errorf("%s: %v", p.name, err)
		}
	}
	// The same call through the other replicas is deduplicated now.
	for i := 1; i < len(reps); i++ {
		r := legacy[i].mustCall(t, "place_call", placeArgs("+14155550123", "After the outage"))
		if r.Structured["deduplicated"] != true {
			t.Errorf("replica %d after recovery: %s; want deduplicated", i, r)
		}
	}

	// A hung Redis (SIGSTOP: connections open, nothing answered) fails closed
	// within 5 s too.
	rs.Pause()
	refusedWithin(modern[1], "hung Redis, modern")
	refusedWithin(legacy[2], "hung Redis, legacy")
	if s := httpStatus(t, reps[0].url+"/readyz"); s != 503 {
		t.Errorf("/readyz = %d while Redis hangs, want 503", s)
	}
	rs.Resume()
	if calls := sandboxCalls(t, key); len(calls) != 2 {
		t.Errorf("the sandbox holds %d calls at the end, want 2", len(calls))
	}
}

// A replica killed while a client waits: the client reconnects to another
// replica, retries its intent (deduplicated onto the same call), waits on the
// same call id and gets the final record; no duplicate call.
func TestReplicaKilledWhileWaiting(t *testing.T) {
	t.Parallel()
	_, reps := startOnRedis(t, 3)

	var wg sync.WaitGroup
	for i, legacy := range []bool{true, false} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := tenantKey(t) + strconv.Itoa(i)
			victim, survivor := reps[i], reps[2]
			args := placeArgs("+14155550006", fmt.Sprintf("A long call, era legacy=%v", legacy))
			c, err := dial(victim, key, legacy)
			if err != nil {
				t.Errorf("dial %s: %v", victim.name, err)
				return
			}
			defer c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			placed, err := c.call(ctx, "place_call", args)
			if err != nil || placed.IsError {
				t.Errorf("legacy=%v place_call: %v %s", legacy, err, placed)
				return
			}
			id := placed.str("callId")
			waitErr := make(chan error, 1)
			go func() {
				_, err := c.call(ctx, "wait_for_call", map[string]any{"callId": id, "timeoutSec": 60})
				waitErr <- err
			}()
			time.Sleep(700 * time.Millisecond)
			victim.kill()
			select {
			case err := <-waitErr:
				if err == nil {
					t.Errorf("legacy=%v: wait_for_call on the killed replica returned no error", legacy)
				}
			case <-time.After(10 * time.Second):
				t.Errorf("legacy=%v: the client did not notice the replica's death within 10 s", legacy)
				return
			}
			// Reconnect anywhere else (a new session for 2025-11-25 clients).
			c2, err := dial(survivor, key, legacy)
			if err != nil {
				t.Errorf("legacy=%v: reconnect: %v", legacy, err)
				return
			}
			defer c2.Close()
			retry, err := c2.call(ctx, "place_call", args)
			if err != nil || retry.str("callId") != id || retry.Structured["deduplicated"] != true {
				t.Errorf("legacy=%v: the retried intent on %s: %v %s; want callId %s deduplicated", legacy, survivor.name, err, retry, id)
			}
			rec, err := c2.call(ctx, "wait_for_call", map[string]any{"callId": id, "timeoutSec": 60})
			if err != nil || rec.IsError {
				t.Errorf("legacy=%v: wait_for_call on %s: %v %s", legacy, survivor.name, err, rec)
				return
			}
			if rec.str("id") != id || rec.str("status") != "completed" || rec.Structured["timedOut"] == true {
				t.Errorf("legacy=%v: final record %s; want id %s completed", legacy, rec, id)
			}
			if calls := sandboxCalls(t, key); len(calls) != 1 {
				t.Errorf("legacy=%v: the sandbox holds %d calls, want 1", legacy, len(calls))
			}
		}()
	}
	wg.Wait()
}

// The state URL's password is in no log line (at debug) and no tool result,
// with the right password and with a wrong one.
func TestRedisPasswordNeverLeaks(t *testing.T) {
	t.Parallel()
	if redistest.Binary() == "" {
		t.Skip("redis-server not found")
	}
	const pw, wrong = "s3cretpw", "wr0ngPassw0rd"
	addr := startPasswordRedis(t, pw)
	good := startReplica(t, "replica-good-pw", replicaOpts{
		stateURL: "redis://:" + pw + "@" + addr, extra: []string{"--log-level", "debug"}})
	bad := startReplica(t, "replica-wrong-pw", replicaOpts{
		stateURL: "redis://:" + wrong + "@" + addr, extra: []string{"--log-level", "debug"}})
	// Also a user:password URL, and a wrong one passed through the environment.
	goodUser := startReplica(t, "replica-user-pw", replicaOpts{
		stateURL: "redis://default:" + pw + "@" + addr + "/0", extra: []string{"--log-level", "trace"}})
	badEnv := startReplica(t, "replica-env-wrong-pw", replicaOpts{
		env: []string{"BYS_STATE_URL=redis://default:" + wrong + "@" + addr}, extra: []string{"--log-level", "debug"}})
	key := tenantKey(t)

	var results []string
	if err := waitHTTP(good, "/readyz", 5*time.Second, 200); err != nil {
		t.Errorf("right password: %v", err)
	}
	if err := waitHTTP(goodUser, "/readyz", 5*time.Second, 200); err != nil {
		t.Errorf("right user:password: %v", err)
	}
	for _, p := range []*proc{bad, badEnv} {
		if s := httpStatus(t, p.url+"/readyz"); s != 503 {
			t.Errorf("%s: /readyz = %d with a wrong password, want 503", p.name, s)
		}
	}
	var clients []*client
	open := func(p *proc, legacy bool) *client {
		c := connect(t, p, key, legacy)
		clients = append(clients, c)
		return c
	}
	for _, p := range []*proc{good, goodUser} {
		for _, legacy := range []bool{false, true} {
			r := open(p, legacy).mustCall(t, "place_call", placeArgs("+14155550123", "Password check on "+p.name))
			if r.IsError {
				t.Errorf("%s (legacy=%v): place_call = %s", p.name, legacy, r)
			}
			results = append(results, r.String())
		}
	}
	for _, p := range []*proc{bad, badEnv} {
		for _, legacy := range []bool{false, true} {
			r := open(p, legacy).mustCall(t, "place_call", placeArgs("+14155550123", "Wrong password on "+p.name))
			if r.str("error") != "state_unavailable" {
				t.Errorf("%s (legacy=%v): place_call = %s; want state_unavailable", p.name, legacy, r)
			}
			results = append(results, r.String())
		}
	}
	for _, p := range []*proc{good, goodUser, bad, badEnv} {
		results = append(results, getBody(t, p.url+"/readyz"), getBody(t, p.url+"/metrics"))
	}
	// Let a failing replica retry and log for a moment, then stop everything
	// gracefully (SIGTERM) so the shutdown path logs too.
	time.Sleep(500 * time.Millisecond)
	for _, c := range clients {
		_ = c.Close()
	}
	for _, p := range []*proc{good, goodUser, bad, badEnv} {
		_ = p.cmd.Process.Signal(syscallSIGTERM)
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			t.Errorf("%s did not stop on SIGTERM", p.name)
		}
	}
	for _, p := range []*proc{good, goodUser, bad, badEnv} {
		log := p.stderr.String()
		if log == "" {
			t.Errorf("%s wrote nothing on stderr at debug level (the check would be vacuous)", p.name)
		}
		for _, secret := range []string{pw, wrong} {
			if strings.Contains(log, secret) {
				t.Errorf("%s's stderr contains the Redis password %q:\n%s", p.name, secret, log)
			}
		}
	}
	for _, r := range results {
		for _, secret := range []string{pw, wrong} {
			if strings.Contains(r, secret) {
				t.Errorf("a result contains the Redis password %q: %s", secret, r)
			}
		}
	}
}

// startPasswordRedis runs a redis-server with requirepass on a free port of
// 127.0.0.1 (redistest starts them without a password).
func startPasswordRedis(t *testing.T, pw string) string {
	t.Helper()
	for range 3 {
		addr, err := testkit.FreeAddr()
		if err != nil {
			t.Fatal(err)
		}
		_, port, _ := net.SplitHostPort(addr)
		cmd := exec.Command(redistest.Binary(), "--port", port, "--bind", "127.0.0.1", "--save", "",
			"--appendonly", "no", "--daemonize", "no", "--loglevel", "warning", "--requirepass", pw)
		cmd.Dir = t.TempDir()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		stop := func() { _ = cmd.Process.Kill(); <-done }
		for i := 0; i < 100; i++ {
			if redisAnswers(addr, pw) {
				t.Cleanup(stop)
				return addr
			}
			select {
			case <-done:
				i = 100
			case <-time.After(30 * time.Millisecond):
			}
		}
		stop()
	}
	t.Fatal("could not start a redis-server with requirepass")
	return ""
}

func redisAnswers(addr, pw string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := fmt.Fprintf(c, "AUTH %s\r\nPING\r\n", pw); err != nil {
		return false
	}
	br := bufio.NewReader(c)
	a, _ := br.ReadString('\n')
	b, _ := br.ReadString('\n')
	return a == "+OK\r\n" && b == "+PONG\r\n"
}
