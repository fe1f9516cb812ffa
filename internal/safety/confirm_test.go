package safety

import (
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

func TestNewNonce(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{32}$`)
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		n := NewNonce()
		if !re.MatchString(n) {
			t.Fatalf("nonce %q is not 128-bit hex", n)
		}
		if seen[n] {
			t.Fatalf("nonce %q repeated", n)
		}
		seen[n] = true
	}
}

func TestConfirmStateRoundTrip(t *testing.T) {
	now := time.Date(2026, 8, 1, 12, 0, 0, 500, time.UTC)
	intent := baseIntent().Fingerprint()
	s := ConfirmState{IntentFingerprint: intent, Nonce: NewNonce(), IssuedAt: now}
	tok := SealConfirmState(testSecret, s)
	if strings.Count(tok, ".") != 1 || strings.ContainsAny(tok, "+/=") {
		t.Fatalf("token %q is not base64url.base64url", tok)
	}
	got, err := OpenConfirmState(testSecret, tok, intent, 5*time.Minute, now.Add(time.Minute))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	if got.IntentFingerprint != intent || got.Nonce != s.Nonce || got.IssuedAt.Unix() != now.Unix() {
		t.Fatalf("round trip mismatch: %+v vs %+v", got, s)
	}
	// payload is the documented JSON
	p, _, _ := strings.Cut(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"v":1`) || !strings.Contains(string(raw), `"t":`) {
		t.Errorf("payload %s", raw)
	}
}

func TestOpenConfirmStateErrors(t *testing.T) {
	now := time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)
	intent := baseIntent().Fingerprint()
	other := baseIntent()
	other.KeyFingerprint = KeyFingerprint("bys_ak_other")
	s := ConfirmState{IntentFingerprint: intent, Nonce: NewNonce(), IssuedAt: now}
	tok := SealConfirmState(testSecret, s)
	p64, m64, _ := strings.Cut(tok, ".")

	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	forgedPayload := base64.RawURLEncoding.EncodeToString([]byte(
		strings.Replace(mustDecode(t, p64), intent, other.Fingerprint(), 1)))

	tests := []struct {
		name   string
		secret []byte
		token  string
		want   string
		maxAge time.Duration
		now    time.Time
		err    error
	}{
		{"valid", testSecret, tok, intent, time.Minute, now, nil},
		{"valid at exactly maxAge", testSecret, tok, intent, time.Minute, now.Add(time.Minute), nil},
		{"expired", testSecret, tok, intent, time.Minute, now.Add(time.Minute + time.Second), ErrStateExpired},
		{"slightly in the future", testSecret, tok, intent, time.Minute, now.Add(-30 * time.Second), nil},
		{"far in the future", testSecret, tok, intent, time.Minute, now.Add(-2 * time.Minute), ErrStateInvalid},
		{"other intent", testSecret, tok, other.Fingerprint(), time.Minute, now, ErrStateMismatch},
		{"empty intent wanted", testSecret, tok, "", time.Minute, now, ErrStateMismatch},
		{"wrong secret", []byte("another secret, same length....."), tok, intent, time.Minute, now, ErrStateInvalid},
		{"empty secret", nil, SealConfirmState(nil, s), intent, time.Minute, now, ErrStateInvalid},
		{"tampered payload", testSecret, flip(p64, 5) + "." + m64, intent, time.Minute, now, ErrStateInvalid},
		{"forged payload, old MAC", testSecret, forgedPayload + "." + m64, other.Fingerprint(), time.Minute, now, ErrStateInvalid},
		{"tampered MAC", testSecret, p64 + "." + flip(m64, 3), intent, time.Minute, now, ErrStateInvalid},
		{"truncated MAC", testSecret, p64 + "." + m64[:len(m64)-2], intent, time.Minute, now, ErrStateInvalid},
		{"missing MAC", testSecret, p64, intent, time.Minute, now, ErrStateInvalid},
		{"empty MAC", testSecret, p64 + ".", intent, time.Minute, now, ErrStateInvalid},
		{"extra part", testSecret, tok + ".x", intent, time.Minute, now, ErrStateInvalid},
		{"padded base64", testSecret, p64 + "=." + m64, intent, time.Minute, now, ErrStateInvalid},
		{"empty", testSecret, "", intent, time.Minute, now, ErrStateInvalid},
		{"huge", testSecret, strings.Repeat("A", 100000) + "." + m64, intent, time.Minute, now, ErrStateInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := OpenConfirmState(tc.secret, tc.token, tc.want, tc.maxAge, tc.now)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err != nil && got != (ConfirmState{}) {
				t.Errorf("non-zero state returned with error: %+v", got)
			}
		})
	}
}

// A validly signed payload that is not a well-formed state is invalid.
func TestOpenConfirmStateBadSignedPayloads(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	sign := func(payload string) string {
		return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." +
			base64.RawURLEncoding.EncodeToString(stateMAC(testSecret, []byte(payload)))
	}
	for _, p := range []string{
		``, `null`, `[]`, `{}`, `{"v":2,"i":"x","n":"y","t":1800000000}`,
		`{"v":1,"i":"","n":"y","t":1800000000}`, `{"v":1,"i":"x","n":"","t":1800000000}`,
		`{"v":1,"i":"x","n":"y","t":0}`, `{"v":1,"i":"x","n":"y","t":-5}`,
		`{"v":1,"i":"x","n":"y","t":"1800000000"}`, `{"v":1,"i":"x","n":"y","t":1e400}`,
		`{"v":1,"i":"x","n":"y","t":1800000000} trailing`,
		`{"v":1,"i":"x","n":"y","t":9223372036854775807}`,
	} {
		if _, err := OpenConfirmState(testSecret, sign(p), "x", time.Hour, now); !errors.Is(err, ErrStateInvalid) {
			t.Errorf("payload %s: err = %v, want ErrStateInvalid", p, err)
		}
	}
	if _, err := OpenConfirmState(testSecret, sign(`{"v":1,"i":"x","n":"y","t":1800000000}`), "x", time.Hour, now); err != nil {
		t.Errorf("hand-made valid payload rejected: %v", err)
	}
}

func TestOpenConfirmStateGarbage(t *testing.T) {
	now := time.Now()
	for _, g := range []string{
		".", "..", "a.b", "====.====", "\x00\xff.\x00", "eyJ2IjoxfQ.", "🙂.🙂",
		strings.Repeat(".", 5000), "eyJ2IjoxLCJpIjoieCIsIm4iOiJ5IiwidCI6MX0.AAAA",
	} {
		if _, err := OpenConfirmState(testSecret, g, "x", time.Minute, now); !errors.Is(err, ErrStateInvalid) {
			t.Errorf("garbage %q: err = %v", g, err)
		}
	}
}

func FuzzOpenConfirmState(f *testing.F) {
	now := time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)
	tok := SealConfirmState(testSecret, ConfirmState{IntentFingerprint: "abc", Nonce: NewNonce(), IssuedAt: now})
	f.Add(tok)
	f.Add("")
	f.Add(".")
	f.Add("a.b.c")
	f.Add(tok[:len(tok)-1])
	f.Add(strings.Replace(tok, ".", "..", 1))
	f.Add("eyJ2IjoxfQ.AAAA")
	f.Fuzz(func(t *testing.T, token string) {
		st, err := OpenConfirmState(testSecret, token, "abc", time.Minute, now)
		if err == nil {
			// Only a token carrying our MAC may open, and only for the wanted intent.
			if st.IntentFingerprint != "abc" {
				t.Fatalf("opened state for another intent: %+v", st)
			}
			return
		}
		if !errors.Is(err, ErrStateInvalid) && !errors.Is(err, ErrStateExpired) && !errors.Is(err, ErrStateMismatch) {
			t.Fatalf("unexpected error %v", err)
		}
	})
}

func mustDecode(t *testing.T, s string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
