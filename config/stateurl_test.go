package config

import (
	"strings"
	"testing"
)

func TestStateURLWithALoneUserNameIsRefused(t *testing.T) {
	c := Defaults()
	c.Sandbox = true
	c.StateURL = "redis://s3cretpw@127.0.0.1:6379/0"
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "no password") {
		t.Fatalf("Validate() = %v, want a refusal saying the URL has no password", err)
	}
	if strings.Contains(err.Error(), "s3cretpw") {
		t.Fatalf("the refusal shows the secret: %v", err)
	}
	c.StateURL = "redis://:s3cretpw@127.0.0.1:6379/0"
	if err := c.Validate(); err != nil {
		t.Fatalf("a password-only URL is refused: %v", err)
	}
}
