package safety

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
)

func newTestLogger() (*logrus.Logger, *syncBuffer) {
	buf := &syncBuffer{}
	l := logrus.New()
	l.SetOutput(buf)
	l.SetFormatter(&logrus.JSONFormatter{})
	l.SetLevel(logrus.InfoLevel)
	return l, buf
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const (
	testKey    = "bys_ak_live_SECRETSECRETSECRET123"
	testNumber = "+14155550123"
)

func TestAuditFile(t *testing.T) {
	log, buf := newTestLogger()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	a, err := NewAudit(log, path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
	}
	ts := time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)
	a.Record(AuditRecord{Time: ts, Outcome: OutcomePlaced, KeyFingerprint: KeyFingerprint(testKey), To: testNumber,
		CallID: "call_123", HTTPStatus: 201, Transport: "stdio"})
	a.Record(AuditRecord{Outcome: OutcomeRefused, Reason: "destination_not_allowed", KeyFingerprint: KeyFingerprint(testKey), To: testNumber})
	// A raw key passed by mistake is fingerprinted, never written.
	a.Record(AuditRecord{Outcome: OutcomeAPIError, Reason: "placement_failed", KeyFingerprint: testKey, To: testNumber, HTTPStatus: 502})
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	a.Record(AuditRecord{Outcome: OutcomeError, To: testNumber}) // after close: log only, no panic

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want 3:\n%s", len(lines), data)
	}
	var recs []AuditRecord
	for _, l := range lines {
		var r AuditRecord
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		recs = append(recs, r)
	}
	if !recs[0].Time.Equal(ts) || recs[0].Outcome != "placed" || recs[0].CallID != "call_123" ||
		recs[0].HTTPStatus != 201 || recs[0].To != "+*******0123" || recs[0].Transport != "stdio" {
		t.Errorf("record 0: %+v", recs[0])
	}
	if recs[1].Time.IsZero() || recs[1].Reason != "destination_not_allowed" {
		t.Errorf("record 1: %+v", recs[1])
	}
	if recs[2].KeyFingerprint != KeyFingerprint(testKey) {
		t.Errorf("record 2 key fingerprint %q", recs[2].KeyFingerprint)
	}
	if strings.Contains(lines[1], "callId") || strings.Contains(lines[1], "httpStatus") {
		t.Errorf("omitempty fields present: %s", lines[1])
	}

	for name, out := range map[string]string{"file": string(data), "log": buf.String()} {
		if strings.Contains(out, testNumber) || strings.Contains(out, "4155550123") {
			t.Errorf("%s output contains the full number:\n%s", name, out)
		}
		if strings.Contains(out, testKey) || strings.Contains(out, "SECRETSECRET") {
			t.Errorf("%s output contains the key:\n%s", name, out)
		}
	}

	// Log lines: one per record, structured.
	sc := bufio.NewScanner(strings.NewReader(buf.String()))
	n := 0
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if m["msg"] != "place_call attempt" || m["audit"] != true || m["level"] != "info" {
			t.Errorf("log line %v", m)
		}
		for _, k := range []string{"outcome", "reason", "key_fp", "to", "call_id", "http_status"} {
			if _, ok := m[k]; !ok {
				t.Errorf("log line lacks %q: %v", k, m)
			}
		}
		n++
	}
	if n != 4 {
		t.Errorf("got %d log lines, want 4", n)
	}
}

func TestAuditTightensPermissions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	if err := os.WriteFile(path, []byte("{\"old\":true}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	log, _ := newTestLogger()
	a, err := NewAudit(log, path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
	}
	a.Record(AuditRecord{Outcome: OutcomePlaced, To: testNumber})
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), "{\"old\":true}\n{") {
		t.Errorf("did not append: %q", data)
	}
}

func TestAuditOpenError(t *testing.T) {
	log, _ := newTestLogger()
	if _, err := NewAudit(log, filepath.Join(t.TempDir(), "missing-dir", "audit.jsonl")); err == nil {
		t.Fatal("want error for unwritable path")
	}
}

func TestAuditLogOnlyAndNil(t *testing.T) {
	log, buf := newTestLogger()
	a, err := NewAudit(log, "")
	if err != nil {
		t.Fatal(err)
	}
	a.Record(AuditRecord{Outcome: OutcomeDeclined, Reason: "declined_by_user", To: testNumber})
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "declined_by_user") || strings.Contains(buf.String(), testNumber) {
		t.Errorf("log: %s", buf.String())
	}
	var nilAudit *Audit
	nilAudit.Record(AuditRecord{Outcome: OutcomeError})
	if err := nilAudit.Close(); err != nil {
		t.Fatal(err)
	}
	if a2, err := NewAudit(nil, ""); err != nil || a2 == nil {
		t.Fatal("nil logger should be accepted")
	}
}

func TestAuditConcurrent(t *testing.T) {
	log, _ := newTestLogger()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	a, err := NewAudit(log, path)
	if err != nil {
		t.Fatal(err)
	}
	const workers, per = 16, 50
	long := strings.Repeat("x", 2000) // make lines long enough to expose torn writes
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < per; i++ {
				a.Record(AuditRecord{Outcome: OutcomePlaced, Reason: long, To: testNumber,
					CallID: fmt.Sprintf("call_%d_%d", w, i), KeyFingerprint: KeyFingerprint(testKey)})
			}
		}(w)
	}
	wg.Wait()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != workers*per {
		t.Fatalf("got %d lines, want %d", len(lines), workers*per)
	}
	ids := map[string]bool{}
	for _, l := range lines {
		var r AuditRecord
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("torn line: %v", err)
		}
		ids[r.CallID] = true
	}
	if len(ids) != workers*per {
		t.Errorf("got %d distinct records", len(ids))
	}
}
