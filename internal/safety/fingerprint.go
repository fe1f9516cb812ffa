package safety

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
)

// keyFingerprintLabel is the fixed domain label used as the HMAC key for key
// fingerprints. Changing it changes every fingerprint (and so every state key).
const keyFingerprintLabel = "bys-mcp key fingerprint v1"

// intentLabel separates intent fingerprints from any other SHA-256 use.
const intentLabel = "bys-mcp intent v1"

// KeyFingerprint returns a short, non-reversible fingerprint of an API key for
// logs and state keys: the first 16 hex characters of
// HMAC-SHA256(keyFingerprintLabel, apiKey). An empty key gives "none".
func KeyFingerprint(apiKey string) string {
	if apiKey == "" {
		return "none"
	}
	m := hmac.New(sha256.New, []byte(keyFingerprintLabel))
	m.Write([]byte(apiKey))
	return hex.EncodeToString(m.Sum(nil))[:16]
}

// IntentField is one requested output field of a place_call request.
type IntentField struct {
	Name, Type, Description string
}

// Intent is what makes two place_call requests "identical": the same key
// (by fingerprint), to, objective, context, fields and callerId.
type Intent struct {
	KeyFingerprint string
	To, Objective  string
	Context        string
	CallerID       string
	Fields         []IntentField
}

// Fingerprint returns the hex SHA-256 of an unambiguous, length-prefixed
// encoding of every Intent field. Field order matters (fields are not sorted);
// an empty field Type is treated as "string". A nil and an empty Fields slice
// are the same intent.
func (i Intent) Fingerprint() string {
	h := sha256.New()
	writeStr(h, intentLabel)
	writeStr(h, i.KeyFingerprint)
	writeStr(h, i.To)
	writeStr(h, i.Objective)
	writeStr(h, i.Context)
	writeStr(h, i.CallerID)
	writeLen(h, len(i.Fields))
	for _, f := range i.Fields {
		typ := f.Type
		if typ == "" {
			typ = "string"
		}
		writeStr(h, f.Name)
		writeStr(h, typ)
		writeStr(h, f.Description)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func writeLen(h hash.Hash, n int) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(n))
	h.Write(b[:])
}

func writeStr(h hash.Hash, s string) {
	writeLen(h, len(s))
	h.Write([]byte(s))
}
