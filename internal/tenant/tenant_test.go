package tenant

import (
	"context"
	"testing"
)

func TestBearerKey(t *testing.T) {
	for _, tc := range []struct{ header, want string }{
		{"Bearer bys_ak_abc", "bys_ak_abc"},
		{"bearer bys_ak_abc", "bys_ak_abc"},
		{"Bearer  bys_ak_abc ", "bys_ak_abc"},
		{"Bearer bys_ak_", ""},
		{"Bearer sometoken", ""},
		{"Basic bys_ak_abc", ""},
		{"bys_ak_abc", ""},
		{"", ""},
	} {
		if got := BearerKey(tc.header); got != tc.want {
			t.Errorf("BearerKey(%q) = %q, want %q", tc.header, got, tc.want)
		}
	}
}

func TestKeyTravelsOnTheContext(t *testing.T) {
	ctx := context.Background()
	if KeyFrom(ctx) != "" {
		t.Fatal("a bare context carries a key")
	}
	if got := KeyFrom(WithKey(ctx, "bys_ak_x")); got != "bys_ak_x" {
		t.Fatalf("KeyFrom = %q", got)
	}
}

func TestPersonTravelsOnTheContext(t *testing.T) {
	ctx := context.Background()
	if _, ok := PersonFrom(ctx); ok {
		t.Fatal("a bare context carries a person")
	}
	if _, ok := PersonFrom(WithPerson(ctx, Person{})); ok {
		t.Fatal("a person without an id counts")
	}
	p, ok := PersonFrom(WithPerson(ctx, Person{ID: "p1", Subject: "alice"}))
	if !ok || p.ID != "p1" || p.Subject != "alice" {
		t.Fatalf("PersonFrom = %+v, %v", p, ok)
	}
}

func TestCredentialJoinsKeyAndPerson(t *testing.T) {
	if got := Credential("bys_ak_x", ""); got != "bys_ak_x" {
		t.Fatalf("without a person the credential is the key, got %q", got)
	}
	a, b := Credential("bys_ak_x", "p1"), Credential("bys_ak_x", "p2")
	if a == b || a == "bys_ak_x" {
		t.Fatalf("credentials of two people: %q %q", a, b)
	}
	for _, tc := range []struct{ key, person string }{{"bys_ak_x", "p1"}, {"bys_ak_x", ""}, {"", "p1"}} {
		k, p := SplitCredential(Credential(tc.key, tc.person))
		if k != tc.key || p != tc.person {
			t.Errorf("SplitCredential(Credential(%q, %q)) = %q, %q", tc.key, tc.person, k, p)
		}
	}
}
