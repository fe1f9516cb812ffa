package oauth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// MinSecretBytes is the shortest server secret accepted.
const MinSecretBytes = 32

// SecretFileName is the file, in the state directory, that holds the secret
// generated when --oauth-secret-file is not given.
const SecretFileName = "oauth-secret"

// Secret sources, as LoadSecret reports them.
const (
	SecretFromFile      = "file"
	SecretGenerated     = "generated"
	SecretFromStateDir  = "state directory"
	SecretProcessMemory = "process"
)

// LoadSecret returns the server secret: the contents of path when it is
// given (at least MinSecretBytes after trimming surrounding white space);
// else the one kept in stateDir/oauth-secret, generated there once with mode
// 0600 when missing; else, when stateDir is "" or "memory" (nothing is kept
// anyway), a random secret for this process. source says which. Errors never
// contain the secret.
func LoadSecret(path, stateDir string) (secret []byte, source string, err error) {
	if path != "" {
		b, err := readSecretFile(path)
		if err != nil {
			return nil, "", err
		}
		return b, SecretFromFile, nil
	}
	if stateDir == "" || stateDir == "memory" {
		return randomBytes(MinSecretBytes), SecretProcessMemory, nil
	}
	p := filepath.Join(stateDir, SecretFileName)
	if b, err := readSecretFile(p); err == nil {
		return b, SecretFromStateDir, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, "", err
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, "", fmt.Errorf("creating the state directory for the OAuth secret: %w", err)
	}
	// Written to a temporary file and linked into place, so that two
	// processes starting together agree on one secret and none reads a
	// half-written one.
	tmp, err := os.CreateTemp(stateDir, ".oauth-secret-*")
	if err != nil {
		return nil, "", fmt.Errorf("writing the OAuth secret: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, "", fmt.Errorf("writing the OAuth secret: %w", err)
	}
	_, werr := tmp.WriteString(hex.EncodeToString(randomBytes(MinSecretBytes)) + "\n")
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, "", fmt.Errorf("writing the OAuth secret: %w", werr)
	}
	source = SecretGenerated
	if err := os.Link(tmp.Name(), p); err != nil {
		if !errors.Is(err, fs.ErrExist) {
			return nil, "", fmt.Errorf("writing the OAuth secret: %w", err)
		}
		source = SecretFromStateDir // another process was first
	}
	b, err := readSecretFile(p)
	if err != nil {
		return nil, "", err
	}
	return b, source, nil
}

func readSecretFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("reading the OAuth secret %s: %w", path, pe.Err)
		}
		return nil, fmt.Errorf("reading the OAuth secret %s: %w", path, err)
	}
	b = []byte(strings.TrimSpace(string(b)))
	if len(b) < MinSecretBytes {
		return nil, fmt.Errorf("the OAuth secret %s holds %d bytes: it needs at least %d random bytes (openssl rand -hex 32 > %s)", path, len(b), MinSecretBytes, path)
	}
	return b, nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("oauth: crypto/rand failed: " + err.Error())
	}
	return b
}

// randomToken is prefix followed by 256 random bits, base64url.
func randomToken(prefix string) string {
	return prefix + base64.RawURLEncoding.EncodeToString(randomBytes(32))
}

// randomID is 128 random bits in hex.
func randomID() string { return hex.EncodeToString(randomBytes(16)) }

// hashToken is how a token, code or client secret is stored: the hex
// SHA-256 of it.
func hashToken(t string) string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}

// derive is a key for one purpose, from the server secret.
func derive(secret []byte, label string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// sealer encrypts agent keys with AES-256-GCM; the additional data binds
// each ciphertext to its grant.
type sealer struct{ aead cipher.AEAD }

func newSealer(secret []byte) (sealer, error) {
	block, err := aes.NewCipher(derive(secret, "bys-mcp oauth key encryption v1"))
	if err != nil {
		return sealer{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return sealer{}, err
	}
	return sealer{aead: aead}, nil
}

func (s sealer) seal(plain, aad string) []byte {
	nonce := randomBytes(s.aead.NonceSize())
	return s.aead.Seal(nonce, nonce, []byte(plain), []byte(aad))
}

func (s sealer) open(sealed []byte, aad string) (string, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return "", errors.New("sealed key too short")
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(aad))
	if err != nil {
		// A different server secret, or a damaged record.
		return "", errors.New("the grant's key cannot be decrypted with this server secret")
	}
	return string(plain), nil
}
