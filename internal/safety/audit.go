package safety

import (
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/byourside/bys-mcp/internal/clock"
	"github.com/sirupsen/logrus"
)

// Audit outcomes.
const (
	OutcomePlaced       = "placed"
	OutcomeDeduplicated = "deduplicated"
	OutcomeRefused      = "refused"
	OutcomeDeclined     = "declined"
	OutcomeAPIError     = "api_error"
	OutcomeError        = "error"
)

// AuditRecord is one placement attempt and its outcome.
type AuditRecord struct {
	Time           time.Time `json:"time"`
	Outcome        string    `json:"outcome"`          // placed | deduplicated | refused | declined | api_error | error
	Reason         string    `json:"reason,omitempty"` // a token: destination_not_allowed, call_budget_exceeded, declined_by_user, confirmation_unavailable, state_unavailable, an API token...
	KeyFingerprint string    `json:"keyFingerprint"`   // KeyFingerprint(apiKey); anything else is fingerprinted by Record
	To             string    `json:"to"`               // always masked by Record
	CallID         string    `json:"callId,omitempty"`
	HTTPStatus     int       `json:"httpStatus,omitempty"`
	Transport      string    `json:"transport,omitempty"`
	// Client names the OAuth client that signed in with the key (--oauth),
	// as the consent page named it; empty otherwise.
	Client string `json:"client,omitempty"`
	// Person is the signed-in person's subject at the team's identity
	// provider (--oauth-issuer); empty otherwise.
	Person string `json:"person,omitempty"`
}

// Audit is the audit trail: every record is logged at info as one structured
// line and, when a file is configured, appended to it as one JSON line. It is
// safe for concurrent use; a nil *Audit discards records.
type Audit struct {
	log logrus.FieldLogger
	// Clock stamps records that come without a time (default the wall
	// clock); set it before the first Record.
	Clock clock.Clock

	mu   sync.Mutex
	file *os.File
	path string
}

// NewAudit returns an audit trail that logs to log (the logrus standard
// logger when nil) and, when path is not empty, appends JSON lines to path.
// The file is opened O_APPEND|O_CREATE|O_WRONLY with mode 0600; an existing
// regular file with wider permissions is chmod-ed to 0600 (other kinds of
// file, such as /dev/stderr, are left alone).
func NewAudit(log logrus.FieldLogger, path string) (*Audit, error) {
	if log == nil {
		log = logrus.StandardLogger()
	}
	a := &Audit{log: log, path: path}
	if path == "" {
		return a, nil
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("audit log: %w", err)
	}
	if fi.Mode().IsRegular() && fi.Mode().Perm()&^0o600 != 0 {
		if err := f.Chmod(0o600); err != nil {
			f.Close()
			return nil, fmt.Errorf("audit log: restricting permissions of %s: %w", path, err)
		}
	}
	a.file = f
	return a, nil
}

// Record writes one audit record: it fills Time (UTC) when zero, masks To,
// replaces a KeyFingerprint that does not look like a fingerprint (a raw key
// passed by mistake) with its fingerprint, logs it at info and appends it to
// the file, if any, in a single write.
func (a *Audit) Record(r AuditRecord) {
	if a == nil {
		return
	}
	if r.Time.IsZero() {
		r.Time = clock.Or(a.Clock).Now().UTC()
	}
	r.To = MaskNumber(r.To)
	if !looksLikeFingerprint(r.KeyFingerprint) {
		r.KeyFingerprint = KeyFingerprint(r.KeyFingerprint)
	}

	fields := logrus.Fields{
		"audit":       true,
		"outcome":     r.Outcome,
		"reason":      r.Reason,
		"key_fp":      r.KeyFingerprint,
		"to":          r.To,
		"call_id":     r.CallID,
		"http_status": r.HTTPStatus,
	}
	if r.Transport != "" {
		fields["transport"] = r.Transport
	}
	if r.Client != "" {
		fields["client"] = r.Client
	}
	if r.Person != "" {
		fields["person"] = r.Person
	}
	a.log.WithFields(fields).Info("place_call attempt")

	line, err := json.Marshal(r)
	if err != nil { // cannot happen for this struct; never lose the fact silently
		a.log.WithError(err).Error("audit log: encoding record")
		return
	}
	line = append(line, '\n')

	a.mu.Lock()
	defer a.mu.Unlock()
	if a.file == nil {
		return
	}
	if _, err := a.file.Write(line); err != nil {
		a.log.WithError(err).WithField("path", a.path).Error("audit log: write failed")
	}
}

// Close closes the audit file, if any. Records after Close are only logged.
// Close is idempotent.
func (a *Audit) Close() error {
	if a == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.file == nil {
		return nil
	}
	err := a.file.Close()
	a.file = nil
	return err
}

// looksLikeFingerprint reports whether s is a KeyFingerprint result: "none"
// or 16 lowercase hex characters.
func looksLikeFingerprint(s string) bool {
	if s == "none" {
		return true
	}
	if len(s) != 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
