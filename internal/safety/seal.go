package safety

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
)

// An API key that must be kept so that another process (or the same one
// later) can act with it (a campaign's, a recording link's) is stored
// sealed: AES-256-GCM under a key derived from the state store's shared
// secret and a label naming the use, bound to what it serves (a campaign
// id, a link), so that a record read on its own (a dump, a log) does not
// reveal the key and a sealed key does not open for anything else.

// ErrSealedKey is returned when a sealed key is malformed or does not open
// with this secret, label and binding.
var ErrSealedKey = errors.New("sealed key does not open with this store's secret")

// SealKey seals apiKey under secret for label, bound to binding.
func SealKey(secret []byte, label, binding, apiKey string) (string, error) {
	aead, err := sealAEAD(secret, label)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := aead.Seal(nonce, nonce, []byte(apiKey), []byte(binding))
	return base64.RawURLEncoding.EncodeToString(out), nil
}

// OpenKey opens a key sealed by SealKey with the same secret, label and
// binding; ErrSealedKey otherwise.
func OpenKey(secret []byte, label, binding, sealed string) (string, error) {
	aead, err := sealAEAD(secret, label)
	if err != nil {
		return "", err
	}
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || len(raw) < aead.NonceSize() {
		return "", ErrSealedKey
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(binding))
	if err != nil {
		return "", ErrSealedKey
	}
	return string(plain), nil
}

func sealAEAD(secret []byte, label string) (cipher.AEAD, error) {
	k := sha256.Sum256(append([]byte(label+"\x00"), secret...))
	block, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
