package people

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/byourside/bys-mcp/client"
	"github.com/byourside/bys-mcp/internal/state"
	"github.com/byourside/bys-mcp/internal/tenant"
)

func TestOwnersAreKeptInTheStore(t *testing.T) {
	ctx := context.Background()
	store := state.NewMemory()
	a, b := New(store, nil), New(store, nil) // two replicas on one store
	if err := a.Record(ctx, "call-1", "alice"); err != nil {
		t.Fatal(err)
	}
	owner, ok, err := b.Owner(ctx, "call-1")
	if err != nil || !ok || owner != "alice" {
		t.Fatalf("Owner on the other replica = %q, %v, %v", owner, ok, err)
	}
	if _, ok, _ := b.Owner(ctx, "call-2"); ok {
		t.Fatal("a call nobody placed has an owner")
	}
	if err := a.Record(ctx, "", "alice"); err == nil {
		t.Fatal("Record without a call id succeeded")
	}
	alice, bob := b.Scope("alice"), b.Scope("bob")
	if ok, _ := alice.Holds(ctx, "call-1"); !ok {
		t.Error("alice's scope does not hold her call")
	}
	if ok, _ := bob.Holds(ctx, "call-1"); ok {
		t.Error("bob's scope holds alice's call")
	}
	bob.Placed(ctx, "call-3")
	if ok, _ := a.Scope("bob").Holds(ctx, "call-3"); !ok {
		t.Error("a call bob placed is not his on the other replica")
	}
}

func TestClientFailsClosed(t *testing.T) {
	var gets atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gets.Add(1)
		w.Write([]byte(`{"id":"call-1","status":"completed"}`))
	}))
	defer srv.Close()
	c, err := client.New(client.Options{BaseURL: srv.URL, APIKey: "bys_ak_server"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	book := New(state.NewMemory(), nil)
	_ = book.Record(ctx, "call-1", "alice")

	if _, err := Client(c, nil, tenant.Credential("bys_ak_server", "alice")); !errors.Is(err, ErrNoPerson) {
		t.Errorf("a person without a book: %v, want ErrNoPerson", err)
	}
	if _, err := Client(c, book, "bys_ak_server"); !errors.Is(err, ErrNoPerson) {
		t.Errorf("a book without a person: %v, want ErrNoPerson", err)
	}
	plain, err := Client(c, nil, "bys_ak_server")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.GetCall(ctx, "call-1"); err != nil {
		t.Errorf("no people: GetCall = %v", err)
	}
	bob, _ := Client(c, book, tenant.Credential("bys_ak_server", "bob"))
	before := gets.Load()
	if _, err := bob.GetCall(ctx, "call-1"); !client.IsNotFound(err) {
		t.Errorf("bob reads alice's call: %v, want not found", err)
	}
	if gets.Load() != before {
		t.Error("the API was asked for a call that is not bob's")
	}
	alice, _ := Client(c, book, tenant.Credential("bys_ak_server", "alice"))
	if _, err := alice.GetCall(ctx, "call-1"); err != nil {
		t.Errorf("alice reads her call: %v", err)
	}
}
