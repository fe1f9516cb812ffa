package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// setScope is a Scope over a set of call ids.
type setScope struct {
	mu    sync.Mutex
	ids   map[string]bool
	err   error
	asked atomic.Int32
}

func (s *setScope) Holds(_ context.Context, id string) (bool, error) {
	s.asked.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ids[id], s.err
}

func (s *setScope) Placed(_ context.Context, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ids[id] = true
}

func TestScopeNarrowsTheKeysCalls(t *testing.T) {
	c, mux := setup(t, Options{})
	var gets atomic.Int32
	var listQuery atomic.Value
	mux.HandleFunc("GET /v1/agent/calls/{id}", func(w http.ResponseWriter, r *http.Request) {
		gets.Add(1)
		fmt.Fprintf(w, `{"id":%q,"status":"completed","to":"+14155550123"}`, r.PathValue("id"))
	})
	mux.HandleFunc("GET /v1/agent/calls", func(w http.ResponseWriter, r *http.Request) {
		listQuery.Store(r.URL.RawQuery)
		var b strings.Builder
		b.WriteString(`{"calls":[`)
		for i := 1; i <= 30; i++ {
			if i > 1 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"id":"c%d","status":"completed"}`, i)
		}
		b.WriteString(`]}`)
		w.Write([]byte(b.String()))
	})
	mux.HandleFunc("POST /v1/agent/calls", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"callId":"new1","status":"queued"}`))
	})
	mine := &setScope{ids: map[string]bool{"c2": true, "c5": true, "c9": true, "c30": true}}
	sc := c.WithScope(mine)
	ctx := context.Background()

	t.Run("a call outside the scope is not found, and the API is not asked", func(t *testing.T) {
		_, err := sc.GetCall(ctx, "c3")
		var apiErr *APIError
		if !IsNotFound(err) || !errors.As(err, &apiErr) || apiErr.Token != "not_found" || apiErr.Route != RouteGetCall {
			t.Fatalf("GetCall(c3) = %v, want the API's 404 not_found", err)
		}
		if gets.Load() != 0 {
			t.Fatalf("the API was asked %d times", gets.Load())
		}
		if _, err := sc.GetRecording(ctx, "c3", nil); !IsNotFound(err) {
			t.Fatalf("GetRecording(c3) = %v, want not found", err)
		}
	})
	t.Run("a call in the scope is read", func(t *testing.T) {
		call, err := sc.GetCall(ctx, "c5")
		if err != nil || call.ID != "c5" {
			t.Fatalf("GetCall(c5) = %+v, %v", call, err)
		}
	})
	t.Run("the list keeps the scope's calls among the API's longest list, up to the limit", func(t *testing.T) {
		calls, err := sc.ListCalls(ctx, &ListOptions{Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		if q := listQuery.Load(); q != "limit=100" {
			t.Errorf("query = %v, want limit=100", q)
		}
		var ids []string
		for _, c := range calls {
			ids = append(ids, c.ID)
		}
		if strings.Join(ids, ",") != "c2,c5,c9" {
			t.Errorf("ListCalls = %v, want c2,c5,c9", ids)
		}
		calls, _ = sc.ListCalls(ctx, nil)
		if len(calls) != 4 {
			t.Errorf("ListCalls(nil) kept %d calls, want 4", len(calls))
		}
	})
	t.Run("the unscoped client sees every call", func(t *testing.T) {
		calls, err := c.ListCalls(ctx, &ListOptions{Limit: 3})
		if err != nil || listQuery.Load() != "limit=3" {
			t.Fatalf("ListCalls = %d calls, %v, query %v", len(calls), err, listQuery.Load())
		}
		if _, err := c.GetCall(ctx, "c3"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a placed call joins the scope", func(t *testing.T) {
		resp, err := sc.PlaceCall(ctx, &PlaceCallRequest{To: "+14155550123", Objective: "x"})
		if err != nil {
			t.Fatal(err)
		}
		if ok, _ := mine.Holds(ctx, resp.CallID); !ok {
			t.Fatal("the placed call is not in the scope")
		}
	})
	t.Run("the scope's failure is returned as it is", func(t *testing.T) {
		boom := errors.New("store down")
		broken := &setScope{ids: map[string]bool{}, err: boom}
		if _, err := c.WithScope(broken).GetCall(ctx, "c5"); !errors.Is(err, boom) {
			t.Fatalf("GetCall = %v, want the scope's error", err)
		}
		if _, err := c.WithScope(broken).ListCalls(ctx, nil); !errors.Is(err, boom) {
			t.Fatalf("ListCalls = %v, want the scope's error", err)
		}
	})
}
