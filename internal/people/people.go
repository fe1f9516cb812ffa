// Package people keeps one agent key's calls apart per person, when the
// server runs with --oauth-issuer: a team signs in at its own identity
// provider, and the server's BYS_API_KEY places everyone's calls.
//
// The design: the person (tenant.Person, put on each request's context by
// the bearer check from the access token's issuer and sub) is a tenant of
// its own, next to the key.
//
//   - What the code keys by key is keyed by the tenant credential
//     (tenant.Credential(key, person.ID)): safety.KeyFingerprint of it keys
//     dedupe, the hourly budget, calls per number, the do-not-call list,
//     confirmations, webhooks, call followers, campaigns and audit lines,
//     so each of those is per person without any of them knowing of
//     people. A campaign keeps the credential sealed, so that it runs on
//     for its person after a restart.
//   - What the API keys by key (the calls themselves) is narrowed by a
//     client.Scope: Client gives the API client of a credential, which
//     records the owner of every call it places (a state-store record,
//     kind "owner", id the call id, value the person's id, kept
//     OwnerTTL), answers a GetCall of a call that is not the person's as
//     the API answers for another key's call (404 not_found, without
//     asking the API), and keeps only the person's calls in ListCalls. The
//     tools (get_call, wait_for_call, list_calls, the campaign tools), the
//     resources (records, transcripts, recordings, subscriptions, the
//     recent-call list and completions) and the campaign runners all read
//     calls through that client, so no path reads a call by id without
//     the owner check.
//
// It fails closed: a credential that names a person without a Book, or a
// Book asked for a credential without a person, gives ErrNoPerson.
package people

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/byourside/bys-mcp/client"
	"github.com/byourside/bys-mcp/internal/state"
	"github.com/byourside/bys-mcp/internal/tenant"
	"github.com/sirupsen/logrus"
)

// kindOwner is the record kind of a call's owner: id the call id, value
// the owner's tenant.Person ID.
const kindOwner = "owner"

// OwnerTTL is how long a call's owner is kept.
const OwnerTTL = 400 * 24 * time.Hour

// ErrNoPerson: the request names no person where one is needed, or a
// person where people are not kept apart.
var ErrNoPerson = errors.New("people: no signed-in person for this request: sign in again")

// maxCached bounds the owners remembered in the process (owners never
// change, so a remembered owner is never stale).
const maxCached = 50_000

// Book records who placed each call, in the state store.
type Book struct {
	records state.Records
	log     logrus.FieldLogger

	mu     sync.RWMutex
	owners map[string]string // call id -> person id
}

// New returns the book of records (the state store's Records side).
func New(records state.Records, log logrus.FieldLogger) *Book {
	if log == nil {
		l := logrus.New()
		l.SetLevel(logrus.PanicLevel)
		log = l
	}
	return &Book{records: records, log: log, owners: map[string]string{}}
}

// Owner returns the id of the person who placed callID; ok is false when
// nobody did through this server (or it was forgotten after OwnerTTL).
func (b *Book) Owner(ctx context.Context, callID string) (personID string, ok bool, err error) {
	b.mu.RLock()
	personID, ok = b.owners[callID]
	b.mu.RUnlock()
	if ok {
		return personID, true, nil
	}
	v, ok, err := b.records.GetRecord(ctx, kindOwner, callID)
	if err != nil || !ok {
		return "", false, err
	}
	b.remember(callID, string(v))
	return string(v), true, nil
}

// Record notes that personID placed callID.
func (b *Book) Record(ctx context.Context, callID, personID string) error {
	if callID == "" || personID == "" {
		return errors.New("people: a call id and a person are required")
	}
	if err := b.records.PutRecord(ctx, kindOwner, callID, []byte(personID), OwnerTTL, false); err != nil {
		return err
	}
	b.remember(callID, personID)
	return nil
}

func (b *Book) remember(callID, personID string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.owners) >= maxCached {
		clear(b.owners)
	}
	b.owners[callID] = personID
}

// Scope is the client.Scope of one person: the calls they placed.
func (b *Book) Scope(personID string) client.Scope { return personScope{b, personID} }

type personScope struct {
	b      *Book
	person string
}

func (s personScope) Holds(ctx context.Context, callID string) (bool, error) {
	owner, ok, err := s.b.Owner(ctx, callID)
	return ok && owner == s.person, err
}

// Placed records the owner of a call just placed: a few tries, on a
// context that outlives the request's end (the call exists either way).
func (s personScope) Placed(ctx context.Context, callID string) {
	var err error
	for try := 0; try < 3; try++ {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		err = s.b.Record(rctx, callID, s.person)
		cancel()
		if err == nil {
			return
		}
		time.Sleep(time.Duration(try+1) * 200 * time.Millisecond)
	}
	s.b.log.WithError(err).WithFields(logrus.Fields{"call_id": callID, "person": s.person}).
		Error("people: the owner of a call just placed could not be recorded, so its person will not see it")
}

// Client returns the API client of a tenant credential: c with its key,
// narrowed to its person's calls when b keeps people apart. ErrNoPerson
// when the credential and b disagree on whether there is a person.
func Client(c *client.Client, b *Book, cred string) (*client.Client, error) {
	key, person := tenant.SplitCredential(cred)
	switch {
	case b == nil && person == "":
		return c.WithAPIKey(key), nil
	case b == nil || person == "":
		return nil, ErrNoPerson
	}
	return c.WithAPIKey(key).WithScope(b.Scope(person)), nil
}

// Nobody is the scope that holds no call: the client of a tenant that
// must read none (every read fails with ErrNoPerson).
var Nobody client.Scope = nobody{}

type nobody struct{}

func (nobody) Holds(context.Context, string) (bool, error) { return false, ErrNoPerson }
func (nobody) Placed(context.Context, string)              {}
