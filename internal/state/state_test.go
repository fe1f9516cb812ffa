package state

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/byourside/bys-mcp/internal/state/redistest"
)

type factory func(t *testing.T) Store

func memoryFactory(t *testing.T) Store {
	s := NewMemory()
	t.Cleanup(func() { s.Close() })
	return s
}

// redisFactory returns stores on one shared server, each under its own
// prefix; after each test every key under that prefix must carry a TTL
// (except the secret).
func redisFactory(t *testing.T) factory {
	srv := redistest.Start(t)
	raw := redis.NewClient(&redis.Options{Addr: srv.Addr})
	t.Cleanup(func() { raw.Close() })
	var n atomic.Int64
	return func(t *testing.T) Store {
		prefix := fmt.Sprintf("test%d-%s:", n.Add(1), randomID()[:8])
		s, err := NewRedis(context.Background(), srv.URL, RedisOptions{Prefix: prefix, PollInterval: 10 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			defer s.Close()
			checkTTLs(t, raw, prefix)
		})
		return s
	}
}

func checkTTLs(t *testing.T, raw *redis.Client, prefix string) {
	t.Helper()
	ctx := context.Background()
	keys, err := raw.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Errorf("KEYS: %v", err)
		return
	}
	for _, k := range keys {
		if k == prefix+"secret" {
			continue
		}
		pttl, err := raw.PTTL(ctx, k).Result()
		if err != nil {
			t.Errorf("PTTL %s: %v", k, err)
			continue
		}
		if pttl == -2*time.Nanosecond || pttl == -2*time.Millisecond {
			continue // expired meanwhile
		}
		if pttl <= 0 {
			t.Errorf("key %s has no TTL (PTTL=%v)", k, pttl)
		}
	}
}

func TestContractMemory(t *testing.T) {
	t.Parallel()
	runContract(t, memoryFactory)
}

func fileFactory(t *testing.T) Store {
	return NewFile(t.TempDir(), FileOptions{PollInterval: 10 * time.Millisecond})
}

func TestContractFile(t *testing.T) {
	t.Parallel()
	runContract(t, fileFactory)
}

func TestContractRedis(t *testing.T) {
	t.Parallel()
	runContract(t, redisFactory(t))
}

func runContract(t *testing.T, newStore factory) {
	ctx := context.Background()
	tests := []struct {
		name string
		fn   func(t *testing.T, s Store)
	}{
		{"ClaimFinishDedupe", func(t *testing.T, s Store) {
			c, err := s.ClaimPlacement(ctx, "fp1", 5*time.Second)
			if err != nil || !c.Claimed || c.LeaseID == "" || c.ExistingCallID != "" {
				t.Fatalf("first claim = %+v, %v", c, err)
			}
			if err := s.FinishPlacement(ctx, "fp1", c.LeaseID, "call-1", time.Minute); err != nil {
				t.Fatal(err)
			}
			c2, err := s.ClaimPlacement(ctx, "fp1", 5*time.Second)
			if err != nil || c2.Claimed || c2.ExistingCallID != "call-1" {
				t.Fatalf("second claim = %+v, %v", c2, err)
			}
			// Finishing again with the same call is idempotent; another lease is refused.
			if err := s.FinishPlacement(ctx, "fp1", c.LeaseID, "call-1", time.Minute); err != nil {
				t.Fatalf("idempotent finish: %v", err)
			}
			if err := s.FinishPlacement(ctx, "fp1", "other", "call-2", time.Minute); !errors.Is(err, ErrLeaseLost) {
				t.Fatalf("finish by non-holder = %v, want ErrLeaseLost", err)
			}
			// Another fingerprint is independent.
			c3, err := s.ClaimPlacement(ctx, "fp2", 5*time.Second)
			if err != nil || !c3.Claimed {
				t.Fatalf("other fp claim = %+v, %v", c3, err)
			}
		}},
		{"ConcurrentClaimsSingleFlight", func(t *testing.T, s Store) {
			const n = 50
			var claimed atomic.Int32
			results := make([]Claim, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
					defer cancel()
					c, err := s.ClaimPlacement(cctx, "fp", 5*time.Second)
					results[i], errs[i] = c, err
					if err == nil && c.Claimed {
						claimed.Add(1)
						time.Sleep(150 * time.Millisecond) // "placing the call"
						if err := s.FinishPlacement(ctx, "fp", c.LeaseID, "call-42", time.Minute); err != nil {
							errs[i] = err
						}
					}
				}()
			}
			close(start)
			wg.Wait()
			if got := claimed.Load(); got != 1 {
				t.Fatalf("%d goroutines claimed, want exactly 1", got)
			}
			for i := range n {
				if errs[i] != nil {
					t.Fatalf("goroutine %d: %v", i, errs[i])
				}
				if !results[i].Claimed && results[i].ExistingCallID != "call-42" {
					t.Fatalf("goroutine %d got %+v, want ExistingCallID call-42", i, results[i])
				}
			}
		}},
		{"AbandonLetsWaiterClaim", func(t *testing.T, s Store) {
			a, err := s.ClaimPlacement(ctx, "fp", 10*time.Second)
			if err != nil || !a.Claimed {
				t.Fatalf("claim = %+v, %v", a, err)
			}
			got := make(chan Claim, 1)
			go func() {
				c, err := s.ClaimPlacement(ctx, "fp", 10*time.Second)
				if err != nil {
					t.Error(err)
				}
				got <- c
			}()
			select {
			case c := <-got:
				t.Fatalf("waiter returned %+v while claim in flight", c)
			case <-time.After(150 * time.Millisecond):
			}
			// Abandoning with a wrong lease does nothing.
			if err := s.AbandonPlacement(ctx, "fp", "not-mine"); err != nil {
				t.Fatal(err)
			}
			select {
			case c := <-got:
				t.Fatalf("waiter returned %+v after foreign abandon", c)
			case <-time.After(100 * time.Millisecond):
			}
			if err := s.AbandonPlacement(ctx, "fp", a.LeaseID); err != nil {
				t.Fatal(err)
			}
			select {
			case c := <-got:
				if !c.Claimed || c.LeaseID == a.LeaseID {
					t.Fatalf("waiter got %+v, want a fresh claim", c)
				}
			case <-time.After(3 * time.Second):
				t.Fatal("waiter did not claim after abandon")
			}
		}},
		{"WaiterHonoursContext", func(t *testing.T, s Store) {
			if c, err := s.ClaimPlacement(ctx, "fp", 10*time.Second); err != nil || !c.Claimed {
				t.Fatalf("claim = %+v, %v", c, err)
			}
			cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err := s.ClaimPlacement(cctx, "fp", 10*time.Second)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want DeadlineExceeded", err)
			}
			if el := time.Since(start); el > 2*time.Second {
				t.Fatalf("took %v", el)
			}
		}},
		{"LeaseExpiryLetsAnotherClaim", func(t *testing.T, s Store) {
			a, err := s.ClaimPlacement(ctx, "fp", 250*time.Millisecond)
			if err != nil || !a.Claimed {
				t.Fatalf("claim = %+v, %v", a, err)
			}
			start := time.Now()
			b, err := s.ClaimPlacement(ctx, "fp", 5*time.Second)
			if err != nil || !b.Claimed {
				t.Fatalf("second claim = %+v, %v", b, err)
			}
			if el := time.Since(start); el < 150*time.Millisecond || el > 3*time.Second {
				t.Fatalf("second claim after %v, want about the lease", el)
			}
			if err := s.FinishPlacement(ctx, "fp", a.LeaseID, "call-a", time.Minute); !errors.Is(err, ErrLeaseLost) {
				t.Fatalf("expired holder finish = %v, want ErrLeaseLost", err)
			}
			if err := s.FinishPlacement(ctx, "fp", b.LeaseID, "call-b", time.Minute); err != nil {
				t.Fatal(err)
			}
			c, _ := s.ClaimPlacement(ctx, "fp", time.Second)
			if c.ExistingCallID != "call-b" {
				t.Fatalf("got %+v, want call-b", c)
			}
		}},
		{"FinishAfterLeaseExpiredStillRecords", func(t *testing.T, s Store) {
			a, _ := s.ClaimPlacement(ctx, "fp", 100*time.Millisecond)
			time.Sleep(200 * time.Millisecond)
			if err := s.FinishPlacement(ctx, "fp", a.LeaseID, "call-late", time.Minute); err != nil {
				t.Fatal(err)
			}
			c, _ := s.ClaimPlacement(ctx, "fp", time.Second)
			if c.ExistingCallID != "call-late" {
				t.Fatalf("got %+v", c)
			}
		}},
		{"ForgetOnlyMatchingCall", func(t *testing.T, s Store) {
			a, _ := s.ClaimPlacement(ctx, "fp", 5*time.Second)
			// Forget does not touch an in-flight claim.
			if ok, err := s.ForgetPlacement(ctx, "fp", ""); err != nil || ok {
				t.Fatalf("forget pending = %v, %v", ok, err)
			}
			if err := s.FinishPlacement(ctx, "fp", a.LeaseID, "call-1", time.Minute); err != nil {
				t.Fatal(err)
			}
			if ok, err := s.ForgetPlacement(ctx, "fp", "call-2"); err != nil || ok {
				t.Fatalf("forget other call = %v, %v", ok, err)
			}
			if c, _ := s.ClaimPlacement(ctx, "fp", time.Second); c.ExistingCallID != "call-1" {
				t.Fatalf("entry gone after wrong forget: %+v", c)
			}
			if ok, err := s.ForgetPlacement(ctx, "fp", "call-1"); err != nil || !ok {
				t.Fatalf("forget = %v, %v", ok, err)
			}
			if ok, _ := s.ForgetPlacement(ctx, "fp", "call-1"); ok {
				t.Fatal("second forget removed something")
			}
			if c, err := s.ClaimPlacement(ctx, "fp", time.Second); err != nil || !c.Claimed {
				t.Fatalf("claim after forget = %+v, %v", c, err)
			}
		}},
		{"WindowExpiry", func(t *testing.T, s Store) {
			a, _ := s.ClaimPlacement(ctx, "fp", 5*time.Second)
			if err := s.FinishPlacement(ctx, "fp", a.LeaseID, "call-1", 200*time.Millisecond); err != nil {
				t.Fatal(err)
			}
			if c, _ := s.ClaimPlacement(ctx, "fp", time.Second); c.ExistingCallID != "call-1" {
				t.Fatalf("within window: %+v", c)
			}
			time.Sleep(300 * time.Millisecond)
			if c, err := s.ClaimPlacement(ctx, "fp", time.Second); err != nil || !c.Claimed {
				t.Fatalf("after window: %+v, %v", c, err)
			}
		}},
		{"BudgetConcurrentLimit", func(t *testing.T, s Store) {
			var ok atomic.Int32
			var wg sync.WaitGroup
			for range 10 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, good, retry, err := s.ReserveBudget(ctx, "key-a", 2, time.Hour)
					if err != nil {
						t.Error(err)
						return
					}
					if good {
						ok.Add(1)
					} else if retry <= 0 || retry > time.Hour {
						t.Errorf("retryIn = %v", retry)
					}
				}()
			}
			wg.Wait()
			if got := ok.Load(); got != 2 {
				t.Fatalf("%d reservations ok, want 2", got)
			}
			// Other keys have their own budget.
			if _, good, _, err := s.ReserveBudget(ctx, "key-b", 2, time.Hour); err != nil || !good {
				t.Fatalf("key-b: %v %v", good, err)
			}
			// limit 0 means no limit.
			if _, good, _, err := s.ReserveBudget(ctx, "key-a", 0, time.Hour); err != nil || !good {
				t.Fatalf("unlimited: %v %v", good, err)
			}
		}},
		{"BudgetRefund", func(t *testing.T, s Store) {
			r1, ok1, _, _ := s.ReserveBudget(ctx, "k", 2, time.Hour)
			_, ok2, _, _ := s.ReserveBudget(ctx, "k", 2, time.Hour)
			if !ok1 || !ok2 || r1 == "" {
				t.Fatal("first two reservations refused")
			}
			if _, ok, _, _ := s.ReserveBudget(ctx, "k", 2, time.Hour); ok {
				t.Fatal("third reservation accepted")
			}
			if err := s.RefundBudget(ctx, "k", r1); err != nil {
				t.Fatal(err)
			}
			if _, ok, _, _ := s.ReserveBudget(ctx, "k", 2, time.Hour); !ok {
				t.Fatal("reservation after refund refused")
			}
			if _, ok, _, _ := s.ReserveBudget(ctx, "k", 2, time.Hour); ok {
				t.Fatal("budget exceeded after refund")
			}
			if err := s.RefundBudget(ctx, "k", "unknown"); err != nil {
				t.Fatal(err)
			}
		}},
		{"BudgetRollingWindow", func(t *testing.T, s Store) {
			per := 300 * time.Millisecond
			if _, ok, _, _ := s.ReserveBudget(ctx, "k", 1, per); !ok {
				t.Fatal("first refused")
			}
			_, ok, retry, err := s.ReserveBudget(ctx, "k", 1, per)
			if err != nil || ok {
				t.Fatalf("second = %v, %v", ok, err)
			}
			if retry <= 0 || retry > per {
				t.Fatalf("retryIn = %v, want in (0, %v]", retry, per)
			}
			time.Sleep(retry + 50*time.Millisecond)
			if _, ok, _, err := s.ReserveBudget(ctx, "k", 1, per); err != nil || !ok {
				t.Fatalf("after window = %v, %v", ok, err)
			}
		}},
		{"UseOnce", func(t *testing.T, s Store) {
			if ok, err := s.UseOnce(ctx, "tok", time.Minute); err != nil || !ok {
				t.Fatalf("first = %v, %v", ok, err)
			}
			if ok, err := s.UseOnce(ctx, "tok", time.Minute); err != nil || ok {
				t.Fatalf("replay = %v, %v", ok, err)
			}
			if ok, _ := s.UseOnce(ctx, "tok2", 200*time.Millisecond); !ok {
				t.Fatal("other id refused")
			}
			time.Sleep(300 * time.Millisecond)
			if ok, _ := s.UseOnce(ctx, "tok2", time.Minute); !ok {
				t.Fatal("id refused after its ttl")
			}
			var wins atomic.Int32
			var wg sync.WaitGroup
			for range 20 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if ok, _ := s.UseOnce(ctx, "race", time.Minute); ok {
						wins.Add(1)
					}
				}()
			}
			wg.Wait()
			if wins.Load() != 1 {
				t.Fatalf("%d concurrent UseOnce won", wins.Load())
			}
		}},
		{"Secret", func(t *testing.T, s Store) {
			a, err := s.Secret(ctx)
			if err != nil || len(a) != 32 {
				t.Fatalf("secret = %d bytes, %v", len(a), err)
			}
			b, _ := s.Secret(ctx)
			if !bytes.Equal(a, b) {
				t.Fatal("secret changed")
			}
			if bytes.Equal(a, make([]byte, 32)) {
				t.Fatal("secret is all zero")
			}
			if err := s.Ping(ctx); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

func TestRedisSecretShared(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	ctx := context.Background()
	a, err := NewRedis(ctx, srv.URL, RedisOptions{Prefix: "shared:"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := NewRedis(ctx, srv.URL, RedisOptions{Prefix: "shared:"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var wg sync.WaitGroup
	var sa, sb []byte
	var ea, eb error
	wg.Add(2)
	go func() { defer wg.Done(); sa, ea = a.Secret(ctx) }()
	go func() { defer wg.Done(); sb, eb = b.Secret(ctx) }()
	wg.Wait()
	if ea != nil || eb != nil {
		t.Fatal(ea, eb)
	}
	if len(sa) != 32 || !bytes.Equal(sa, sb) {
		t.Fatalf("secrets differ or wrong size: %x vs %x", sa, sb)
	}
	// A different namespace has its own secret.
	c, _ := NewRedis(ctx, srv.URL, RedisOptions{Prefix: "other:"})
	defer c.Close()
	if sc, _ := c.Secret(ctx); bytes.Equal(sc, sa) {
		t.Fatal("different prefix shares the secret")
	}
	// Redis loses its data (restart without persistence): the remembered
	// secret is written back so replicas keep agreeing.
	srv.Restart()
	d, _ := NewRedis(ctx, srv.URL, RedisOptions{Prefix: "shared:"})
	defer d.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s2, err := a.Secret(ctx)
		if err == nil {
			if !bytes.Equal(s2, sa) {
				t.Fatal("secret changed after restart")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if sd, err := d.Secret(ctx); err != nil || !bytes.Equal(sd, sa) {
		t.Fatalf("new replica after restart: %x, %v", sd, err)
	}
}

// allOps runs one of each operation and returns their errors.
func allOps(ctx context.Context, s Store) map[string]error {
	errs := map[string]error{}
	_, errs["claim"] = s.ClaimPlacement(ctx, "fp", time.Second)
	errs["finish"] = s.FinishPlacement(ctx, "fp", "lease", "call", time.Minute)
	errs["abandon"] = s.AbandonPlacement(ctx, "fp", "lease")
	_, errs["forget"] = s.ForgetPlacement(ctx, "fp", "call")
	_, _, _, errs["reserve"] = s.ReserveBudget(ctx, "k", 5, time.Hour)
	errs["refund"] = s.RefundBudget(ctx, "k", "res")
	_, errs["useonce"] = s.UseOnce(ctx, "id", time.Minute)
	errs["ping"] = s.Ping(ctx)
	return errs
}

func TestRedisUnavailableAndRecovery(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	ctx := context.Background()
	s, err := NewRedis(ctx, srv.URL, RedisOptions{Prefix: "avail:"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := s.ClaimPlacement(ctx, "held", time.Minute)
	if err != nil || !c.Claimed {
		t.Fatal(c, err)
	}

	check := func(what string) {
		t.Helper()
		// A waiter on an in-flight claim must also give up.
		start := time.Now()
		_, err := s.ClaimPlacement(ctx, "held", time.Minute)
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s: waiting claim err = %v, want ErrUnavailable", what, err)
		}
		if el := time.Since(start); el >= 5*time.Second {
			t.Errorf("%s: waiting claim took %v", what, el)
		}
		if what == "stopped" { // every operation (each takes ~1 s when Redis hangs)
			for op, err := range allOps(ctx, s) {
				if !errors.Is(err, ErrUnavailable) {
					t.Errorf("%s: %s err = %v, want ErrUnavailable", what, op, err)
				}
			}
		}
		for _, op := range []string{"claim", "reserve", "useonce", "ping"} {
			start := time.Now()
			var err error
			switch op {
			case "claim":
				_, err = s.ClaimPlacement(ctx, "fresh", time.Second)
			case "reserve":
				_, _, _, err = s.ReserveBudget(ctx, "k", 5, time.Hour)
			case "useonce":
				_, err = s.UseOnce(ctx, "x", time.Minute)
			case "ping":
				err = s.Ping(ctx)
			}
			el := time.Since(start)
			if !errors.Is(err, ErrUnavailable) {
				t.Errorf("%s: %s err = %v", what, op, err)
			}
			if el >= 5*time.Second {
				t.Errorf("%s: %s took %v, want < 5s", what, op, el)
			}
			t.Logf("%s: %s failed after %v: %v", what, op, el.Round(time.Millisecond), err)
		}
	}

	recover := func(what string) {
		t.Helper()
		start := time.Now()
		for {
			c, err := s.ClaimPlacement(ctx, "after-"+what, time.Second)
			if err == nil && c.Claimed {
				break
			}
			if time.Since(start) > 10*time.Second {
				t.Fatalf("%s: store did not recover within 10s: %v", what, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Logf("%s: recovered after %v", what, time.Since(start).Round(time.Millisecond))
	}

	// Redis hangs (does not answer at all).
	srv.Pause()
	check("paused")
	srv.Resume()
	recover("resumed")

	// Redis goes away, then comes back on the same port.
	srv.Stop()
	check("stopped")
	srv.Start()
	recover("restarted")
}

func TestRedisDownAtStart(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	srv.Stop()
	ctx := context.Background()
	s, err := NewRedis(ctx, srv.URL, RedisOptions{})
	if err != nil {
		t.Fatalf("NewRedis must not fail while Redis is down: %v", err)
	}
	defer s.Close()
	if err := s.Ping(ctx); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("ping = %v", err)
	}
	srv.Start()
	deadline := time.Now().Add(10 * time.Second)
	for s.Ping(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatal("no recovery")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestRedisPasswordNeverInErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const pw = "s3cretpw"
	check := func(where string, err error) {
		t.Helper()
		if err != nil && strings.Contains(err.Error(), pw) {
			t.Errorf("%s: password in error: %v", where, err)
		}
	}
	for _, u := range []string{
		"redis://:s3cretpw@127.0.0.1:1/0",
		"redis://user:s3cretpw@127.0.0.1:1/0",
		"rediss://:s3cretpw@127.0.0.1:1/0",
	} {
		s, err := NewRedis(ctx, u, RedisOptions{OpTimeout: 300 * time.Millisecond})
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if strings.Contains(s.String(), pw) {
			t.Errorf("String() = %s", s)
		}
		for op, err := range allOps(ctx, s) {
			if !errors.Is(err, ErrUnavailable) {
				t.Errorf("%s %s: err = %v, want ErrUnavailable", u, op, err)
			}
			check(op, err)
		}
		_, err = s.Secret(ctx)
		check("secret", err)
		s.Close()
	}
	for _, u := range []string{
		"redis://:s3cretpw@127.0.0.1:notaport/0",
		"redis://:s3cretpw@127.0.0.1:1/notadb",
		"http://:s3cretpw@127.0.0.1:1/0",
		"redis://:s3cretpw@[::1/0",
		"redis://127.0.0.1:1/0?password=s3cretpw&bogus%zz",
	} {
		_, err := NewRedis(ctx, u, RedisOptions{})
		if err == nil {
			t.Errorf("%s: no error", u)
		}
		check(u, err)
		t.Logf("%v", err)
	}
	// A real server requiring another password: the AUTH error.
	srv := redistest.Start(t)
	raw := redis.NewClient(&redis.Options{Addr: srv.Addr})
	if err := raw.ConfigSet(ctx, "requirepass", "rightpw").Err(); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	u := strings.Replace(srv.URL, "redis://", "redis://:"+pw+"@", 1)
	s, err := NewRedis(ctx, u, RedisOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Ping(ctx)
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("wrong password: err = %v", err)
	}
	check("auth", err)
	t.Logf("auth error: %v", err)
	good, _ := NewRedis(ctx, strings.Replace(srv.URL, "redis://", "redis://:rightpw@", 1), RedisOptions{})
	defer good.Close()
	if err := good.Ping(ctx); err != nil {
		t.Errorf("right password: %v", err)
	}
}

func TestRedisClaimPlacementWaitersAcrossStores(t *testing.T) {
	// Two "replicas" sharing one Redis: one call, same callId for both.
	t.Parallel()
	srv := redistest.Start(t)
	ctx := context.Background()
	var stores []*Redis
	for range 3 {
		s, err := NewRedis(ctx, srv.URL, RedisOptions{Prefix: "multi:"})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores = append(stores, s)
	}
	claimed, ids := claimFromMany(t, stores, 30, "same", 5*time.Second)
	if claimed != 1 {
		t.Fatalf("claimed %d times", claimed)
	}
	for _, id := range ids {
		if id != "call-x" {
			t.Fatalf("got %q", id)
		}
	}
}

// claimFromMany has n goroutines claim the placement of fp with lease at
// the same time, goroutine i on stores[i%len(stores)], each within 30 s;
// the one that claims it places call-x (for 100 ms). It returns how many
// claimed, and the call id each goroutine got ("" after an error, which
// fails the test).
func claimFromMany[S Store](t *testing.T, stores []S, n int, fp string, lease time.Duration) (int32, []string) {
	t.Helper()
	ctx := context.Background()
	var claimed atomic.Int32
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := stores[i%len(stores)]
			cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			c, err := s.ClaimPlacement(cctx, fp, lease)
			if err != nil {
				t.Error(err)
				return
			}
			if c.Claimed {
				claimed.Add(1)
				time.Sleep(100 * time.Millisecond)
				if err := s.FinishPlacement(ctx, fp, c.LeaseID, "call-x", time.Minute); err != nil {
					t.Error(err)
				}
				ids[i] = "call-x"
				return
			}
			ids[i] = c.ExistingCallID
		}()
	}
	wg.Wait()
	return claimed.Load(), ids
}

func TestMemoryBounded(t *testing.T) {
	m := NewMemory()
	defer m.Close()
	m.dedupe.max, m.budgets.max, m.once.max = 3, 3, 3
	ctx := context.Background()
	clock := time.Now()
	m.now = func() time.Time { return clock }

	// Fill with finished entries; one expires soon.
	for i, w := range []time.Duration{time.Second, time.Hour, time.Hour} {
		c, _ := m.ClaimPlacement(ctx, fmt.Sprint("fp", i), time.Minute)
		_ = m.FinishPlacement(ctx, fmt.Sprint("fp", i), c.LeaseID, fmt.Sprint("call", i), w)
	}
	clock = clock.Add(2 * time.Second)
	// fp0 expired: inserting fp3 drops it, not the oldest live one.
	c, _ := m.ClaimPlacement(ctx, "fp3", time.Minute)
	if !c.Claimed || m.dedupe.len() != 3 {
		t.Fatalf("claim = %+v, len %d", c, m.dedupe.len())
	}
	if c, _ := m.ClaimPlacement(ctx, "fp1", time.Minute); c.ExistingCallID != "call1" {
		t.Fatalf("fp1 evicted too early: %+v", c)
	}
	// Nothing expired now: the oldest (fp1) goes.
	clock = clock.Add(500 * time.Millisecond)
	_, _ = m.ClaimPlacement(ctx, "fp4", time.Minute)
	if m.dedupe.len() != 3 {
		t.Fatalf("len %d", m.dedupe.len())
	}
	if c, _ := m.ClaimPlacement(ctx, "fp2", time.Minute); c.ExistingCallID != "call2" {
		t.Fatalf("fp2 should survive: %+v", c)
	}
	if _, ok := m.dedupe.m["fp1"]; ok {
		t.Fatal("fp1 should have been evicted")
	}

	for i := range 10 {
		_, _, _, _ = m.ReserveBudget(ctx, fmt.Sprint("k", i), 1, time.Hour)
		_, _ = m.UseOnce(ctx, fmt.Sprint("id", i), time.Hour)
	}
	if m.budgets.len() != 3 || m.once.len() != 3 {
		t.Fatalf("budgets %d once %d", m.budgets.len(), m.once.len())
	}
}

func TestMemoryEvictionReleasesWaiters(t *testing.T) {
	m := NewMemory()
	defer m.Close()
	m.dedupe.max = 1
	ctx := context.Background()
	if c, _ := m.ClaimPlacement(ctx, "a", time.Hour); !c.Claimed {
		t.Fatal("claim a")
	}
	got := make(chan Claim, 1)
	go func() {
		c, _ := m.ClaimPlacement(ctx, "a", time.Hour)
		got <- c
	}()
	time.Sleep(50 * time.Millisecond)
	_, _ = m.UseOnce(ctx, "unrelated", time.Hour) // different table: no effect
	select {
	case <-got:
		t.Fatal("waiter released early")
	case <-time.After(50 * time.Millisecond):
	}
	_, _ = m.ClaimPlacement(ctx, "b", time.Hour) // evicts a
	select {
	case <-got:
	case <-time.After(2 * time.Second):
		t.Fatal("waiter not released by eviction")
	}
}
