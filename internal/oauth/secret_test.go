package oauth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadSecret(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s1, src, err := LoadSecret("", dir)
	if err != nil || src != SecretGenerated || len(s1) < MinSecretBytes {
		t.Fatalf("first: %d bytes, %s, %v", len(s1), src, err)
	}
	fi, err := os.Stat(filepath.Join(dir, SecretFileName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file mode: %v %v", fi, err)
	}
	s2, src, err := LoadSecret("", dir)
	if err != nil || src != SecretFromStateDir || string(s2) != string(s1) {
		t.Fatalf("second load differs: %s %v", src, err)
	}
	// A given file wins; too short is refused without showing it.
	given := filepath.Join(t.TempDir(), "secret")
	_ = os.WriteFile(given, []byte("tooshort-secret\n"), 0o600)
	if _, _, err := LoadSecret(given, dir); err == nil || strings.Contains(err.Error(), "tooshort-secret") || !strings.Contains(err.Error(), "32") {
		t.Fatalf("short secret: %v", err)
	}
	_ = os.WriteFile(given, []byte(strings.Repeat("ab", 32)+"\n"), 0o600)
	s3, src, err := LoadSecret(given, dir)
	if err != nil || src != SecretFromFile || string(s3) != strings.Repeat("ab", 32) {
		t.Fatalf("given file: %s %v", src, err)
	}
	if _, src, _ := LoadSecret("", "memory"); src != SecretProcessMemory {
		t.Fatalf("memory: %s", src)
	}
}

func TestSealedKeysAreBoundToTheirGrant(t *testing.T) {
	t.Parallel()
	s, _ := newSealer([]byte(strings.Repeat("k", 32)))
	box := s.seal("bys_ak_secret", "grant-1")
	if strings.Contains(string(box), "bys_ak_secret") {
		t.Fatal("not encrypted")
	}
	if k, err := s.open(box, "grant-1"); err != nil || k != "bys_ak_secret" {
		t.Fatalf("open: %q %v", k, err)
	}
	if _, err := s.open(box, "grant-2"); err == nil {
		t.Fatal("opened under another grant")
	}
	other, _ := newSealer([]byte(strings.Repeat("x", 32)))
	if _, err := other.open(box, "grant-1"); err == nil {
		t.Fatal("opened with another secret")
	}
}
