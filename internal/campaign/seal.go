package campaign

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
)

// The API key a campaign dials with is kept in its record so that another
// process can continue the campaign, sealed (AES-256-GCM) with a key derived
// from the store's shared secret, bound to the campaign id: a record read on
// its own (a dump of the records, a log) does not reveal it.

func sealKey(secret []byte, campaignID, apiKey string) (string, error) {
	aead, err := keyAEAD(secret)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := aead.Seal(nonce, nonce, []byte(apiKey), []byte(campaignID))
	return base64.RawURLEncoding.EncodeToString(out), nil
}

func openKey(secret []byte, campaignID, sealed string) (string, error) {
	aead, err := keyAEAD(secret)
	if err != nil {
		return "", err
	}
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || len(raw) < aead.NonceSize() {
		return "", errors.New("campaign: sealed key is malformed")
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(campaignID))
	if err != nil {
		return "", errors.New("campaign: sealed key does not open with this store's secret")
	}
	return string(plain), nil
}

func keyAEAD(secret []byte) (cipher.AEAD, error) {
	k := sha256.Sum256(append([]byte("bys-mcp campaign key v1\x00"), secret...))
	block, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
