// Package dnc owns the do-not-call list: per key, kept in the state store
// (memory, the local file or Redis, so it survives restarts and is shared by
// replicas), fed by calls whose person asked not to be called again, by the
// operator's file and by the `bys-mcp dnc` command. Only the operator takes
// a number off it.
package dnc

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/byourside/bys-mcp/internal/clock"
	"github.com/byourside/bys-mcp/internal/state"
)

// Kind is the state store's record kind of the list's entries.
const Kind = "dnc"

// EveryKey is the key fingerprint of entries that hold for every key (the
// operator's, added without --key-fingerprint).
const EveryKey = "*"

// Keep is how long an entry lasts: five years, as a do-not-call request
// must be honoured under 47 CFR 64.1200(d)(6).
const Keep = 5 * 365 * 24 * time.Hour

// Sources of an entry.
const (
	SourceCall     = "call"     // the person asked, on a call placed by this server
	SourceOperator = "operator" // bys-mcp dnc add
	SourceFile     = "file"     // --do-not-call-file
)

// Entry is one listed number.
type Entry struct {
	Number string    `json:"number"`
	KeyFP  string    `json:"keyFingerprint"`
	Source string    `json:"source"`
	CallID string    `json:"callId,omitempty"`
	At     time.Time `json:"at"`
}

// Reason says when and why the number was listed, for a refusal.
func (e Entry) Reason() string {
	when := e.At.UTC().Format("2006-01-02 15:04 MST")
	switch e.Source {
	case SourceCall:
		return "the person asked not to be called again on call " + e.CallID + " (" + when + ")"
	case SourceFile:
		return "it is in the operator's do-not-call file"
	}
	return "the operator listed it (" + when + ")"
}

// List is the do-not-call list over a state store, plus the operator's
// file (which holds for every key). It is safe for concurrent use.
type List struct {
	records state.Records
	clock   clock.Clock
	file    *File
	// OnAdd, when set, is told of every number newly listed (metrics,
	// audit).
	OnAdd func(Entry)
	// Once, when set, is the store's first-writer test (state.Store's
	// UseOnce): of several processes listing one number at the same moment
	// (replicas that all saw the call end), only one reports it as newly
	// listed, so it is audited and counted once.
	Once func(ctx context.Context, id string, ttl time.Duration) (bool, error)
}

// New returns the list kept in records; file may be nil.
func New(records state.Records, c clock.Clock, file *File) *List {
	return &List{records: records, clock: clock.Or(c), file: file}
}

func id(keyFP, number string) string { return keyFP + "|" + number }

// Check returns the entry that lists number for the key keyFP, or nil.
func (l *List) Check(ctx context.Context, keyFP, number string) (*Entry, error) {
	if l.file != nil {
		if e := l.file.Lookup(number); e != nil {
			return e, nil
		}
	}
	for _, k := range []string{keyFP, EveryKey} {
		b, ok, err := l.records.GetRecord(ctx, Kind, id(k, number))
		if err != nil {
			return nil, err
		}
		if ok {
			var e Entry
			if err := json.Unmarshal(b, &e); err != nil {
				// A damaged entry still lists the number (fail closed).
				e = Entry{Number: number, KeyFP: k, Source: SourceOperator}
			}
			return &e, nil
		}
	}
	return nil, nil
}

// Add lists e.Number for e.KeyFP (EveryKey for all keys); an entry already
// there is kept as it is (its first reason stands). It reports whether the
// number was newly listed.
func (l *List) Add(ctx context.Context, e Entry) (bool, error) {
	if e.KeyFP == "" {
		e.KeyFP = EveryKey
	}
	if _, ok, err := l.records.GetRecord(ctx, Kind, id(e.KeyFP, e.Number)); err != nil || ok {
		return false, err
	}
	if e.At.IsZero() {
		e.At = l.clock.Now().UTC()
	}
	b, err := json.Marshal(e)
	if err != nil {
		return false, err
	}
	if err := l.records.PutRecord(ctx, Kind, id(e.KeyFP, e.Number), b, Keep, true); err != nil {
		return false, err
	}
	// Listed either way; the first writer alone reports it.
	if l.Once != nil && e.CallID != "" {
		if first, err := l.Once(ctx, "dnc-listed:"+id(e.KeyFP, e.Number)+"|"+e.CallID, time.Hour); err == nil && !first {
			return false, nil
		}
	}
	if l.OnAdd != nil {
		l.OnAdd(e)
	}
	return true, nil
}

// Remove takes number off the list of keyFP, or of every key when keyFP is
// "". It returns how many entries it removed.
func (l *List) Remove(ctx context.Context, keyFP, number string) (int, error) {
	entries, err := l.Entries(ctx, keyFP)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		// A key's removal leaves the entries for every key alone.
		if e.Number != number || (keyFP != "" && e.KeyFP != keyFP) {
			continue
		}
		gone, err := l.records.DeleteRecord(ctx, Kind, id(e.KeyFP, e.Number))
		if err != nil {
			return n, err
		}
		if gone {
			n++
		}
	}
	return n, nil
}

// Entries lists the entries of keyFP (with those for every key), or of
// all keys when keyFP is "", oldest first.
func (l *List) Entries(ctx context.Context, keyFP string) ([]Entry, error) {
	ids, err := l.records.ActiveRecords(ctx, Kind)
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, rid := range ids {
		k, _, _ := strings.Cut(rid, "|")
		if keyFP != "" && k != keyFP && k != EveryKey {
			continue
		}
		b, ok, err := l.records.GetRecord(ctx, Kind, rid)
		if err != nil {
			return nil, err
		}
		var e Entry
		if !ok || json.Unmarshal(b, &e) != nil {
			continue
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].At.Equal(out[j].At) {
			return out[i].At.Before(out[j].At)
		}
		return out[i].Number < out[j].Number
	})
	return out, nil
}

// pendingKind is the record kind of the calls placed to one number by one
// key whose outcome has not been read yet.
func pendingKind(keyFP, number string) string { return "dnc-pending:" + id(keyFP, number) }

// PendingFor is how long a placed call waits to have its outcome read.
const PendingFor = 7 * 24 * time.Hour

// Pending notes a call placed to number whose outcome is still to be read:
// before the key dials that number again, the call is read (Unsettled), so
// a request not to be called again is honoured even when nobody waited for
// the call, across restarts and replicas.
func (l *List) Pending(ctx context.Context, keyFP, number, callID string) error {
	return l.records.PutRecord(ctx, pendingKind(keyFP, number), callID, []byte("1"), PendingFor, true)
}

// Unsettled lists the calls to number whose outcome is still to be read.
func (l *List) Unsettled(ctx context.Context, keyFP, number string) ([]string, error) {
	return l.records.ActiveRecords(ctx, pendingKind(keyFP, number))
}

// Settle drops a call whose outcome was read.
func (l *List) Settle(ctx context.Context, keyFP, number, callID string) error {
	_, err := l.records.DeleteRecord(ctx, pendingKind(keyFP, number), callID)
	return err
}
