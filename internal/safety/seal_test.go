package safety_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/byourside/bys-mcp/internal/safety"
)

func TestSealKey(t *testing.T) {
	secret := bytes.Repeat([]byte{7}, 32)
	const key = "bys_ak_sealed_0123456789"
	sealed, err := safety.SealKey(secret, "label v1", "cmp_1", key)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, key) || strings.Contains(sealed, "sealed_0123") {
		t.Fatalf("the sealed form shows the key: %s", sealed)
	}
	again, _ := safety.SealKey(secret, "label v1", "cmp_1", key)
	if again == sealed {
		t.Error("two seals of one key are the same (no fresh nonce)")
	}
	if got, err := safety.OpenKey(secret, "label v1", "cmp_1", sealed); err != nil || got != key {
		t.Fatalf("OpenKey = %q, %v", got, err)
	}
	for name, open := range map[string]func() (string, error){
		"another binding": func() (string, error) { return safety.OpenKey(secret, "label v1", "cmp_2", sealed) },
		"another label":   func() (string, error) { return safety.OpenKey(secret, "label v2", "cmp_1", sealed) },
		"another secret": func() (string, error) {
			return safety.OpenKey(bytes.Repeat([]byte{8}, 32), "label v1", "cmp_1", sealed)
		},
		"malformed": func() (string, error) { return safety.OpenKey(secret, "label v1", "cmp_1", "!!") },
		"cut short": func() (string, error) { return safety.OpenKey(secret, "label v1", "cmp_1", sealed[:10]) },
	} {
		if got, err := open(); !errors.Is(err, safety.ErrSealedKey) || got != "" {
			t.Errorf("%s: %q, %v; want ErrSealedKey", name, got, err)
		}
	}
}

// The campaigns' sealed keys, written before SealKey existed, still open:
// the key is SHA-256(label, 0, secret), the nonce first, the binding as
// additional data.
func TestSealKeyFormat(t *testing.T) {
	secret := bytes.Repeat([]byte{3}, 32)
	k := sha256.Sum256(append([]byte("bys-mcp campaign key v1\x00"), secret...))
	block, _ := aes.NewCipher(k[:])
	aead, _ := cipher.NewGCM(block)
	nonce := bytes.Repeat([]byte{1}, aead.NonceSize())
	old := base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, []byte("bys_ak_old"), []byte("cmp_9")))
	if got, err := safety.OpenKey(secret, "bys-mcp campaign key v1", "cmp_9", old); err != nil || got != "bys_ak_old" {
		t.Fatalf("OpenKey of the earlier format = %q, %v", got, err)
	}
}
