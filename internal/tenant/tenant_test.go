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
