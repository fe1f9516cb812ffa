package oauth

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/byourside/bys-mcp/internal/safety"
)

// codeRecord is an authorization code, stored under its hash.
type codeRecord struct {
	Client      string    `json:"client"`
	ClientName  string    `json:"clientName,omitempty"`
	RedirectURI string    `json:"redirectUri"`
	Challenge   string    `json:"challenge"`
	Resource    string    `json:"resource"`
	Scope       string    `json:"scope"`
	Grant       string    `json:"grant"` // the grant the code issues
	Key         []byte    `json:"key"`   // sealed, bound to Grant
	KeyFP       string    `json:"keyFp"`
	Expires     time.Time `json:"expires"`
}

// grantRecord is what a person approved: one client, one key, one scope.
type grantRecord struct {
	ID         string     `json:"id"`
	Client     string     `json:"client"`
	ClientName string     `json:"clientName,omitempty"`
	Scope      string     `json:"scope"`
	Resource   string     `json:"resource"`
	Key        []byte     `json:"key"` // sealed, bound to ID
	KeyFP      string     `json:"keyFp"`
	Created    time.Time  `json:"created"`
	Used       time.Time  `json:"used"`
	Access     []tokenRef `json:"access,omitempty"`
	Refresh    []tokenRef `json:"refresh,omitempty"`
}

// tokenRef names a token of a grant by its hash.
type tokenRef struct {
	Hash    string    `json:"hash"`
	Expires time.Time `json:"expires"`
}

// accessRecord is an access token, stored under its hash with everything a
// check needs, so that a check is one store read.
type accessRecord struct {
	Grant      string    `json:"grant"`
	Client     string    `json:"client"`
	ClientName string    `json:"clientName,omitempty"`
	Scope      string    `json:"scope"`
	Resource   string    `json:"resource"`
	Key        []byte    `json:"key"` // sealed, bound to Grant
	Expires    time.Time `json:"expires"`
}

// refreshRecord is a refresh token, stored under its hash; Rotated is set
// once it has been exchanged.
type refreshRecord struct {
	Grant   string    `json:"grant"`
	Client  string    `json:"client"`
	Expires time.Time `json:"expires"`
	Rotated time.Time `json:"rotated,omitzero"`
}

// tokenResponse is the token endpoint's answer.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
}

const (
	maxAccessRefs  = 20
	maxRefreshRefs = 50
)

// errRevoked: the grant was revoked while its tokens were being issued.
var errRevoked = errors.New("grant revoked")

// issueTokens issues an access and a refresh token for g (scope: the
// access token's, within the grant's) and writes them and the grant.
func (s *Server) issueTokens(ctx context.Context, g *grantRecord, scope string) (*tokenResponse, error) {
	now := s.now()
	access, refresh := randomToken(prefixAccess), randomToken(prefixRefresh)
	ah, rh := hashToken(access), hashToken(refresh)
	g.Used = now
	g.Access = appendRef(g.Access, tokenRef{Hash: ah, Expires: now.Add(AccessTTL)}, now, maxAccessRefs)
	g.Refresh = appendRef(g.Refresh, tokenRef{Hash: rh, Expires: now.Add(RefreshTTL)}, now, maxRefreshRefs)
	grantTTL := RefreshTTL + AccessTTL
	if err := s.putJSON(ctx, kindGrant, g.ID, g, grantTTL); err != nil {
		return nil, err
	}
	if err := s.records.PutRecord(ctx, kindKeyGrant, g.KeyFP+":"+g.ID, []byte(g.ID), grantTTL, true); err != nil {
		return nil, err
	}
	ar := accessRecord{Grant: g.ID, Client: g.Client, ClientName: g.ClientName, Scope: scope, Resource: g.Resource, Key: g.Key, Expires: now.Add(AccessTTL)}
	if err := s.putJSON(ctx, kindAccess, ah, &ar, AccessTTL); err != nil {
		return nil, err
	}
	rr := refreshRecord{Grant: g.ID, Client: g.Client, Expires: now.Add(RefreshTTL)}
	if err := s.putJSON(ctx, kindRefresh, rh, &rr, RefreshTTL); err != nil {
		return nil, err
	}
	// A revocation that ran while these were written (a code replayed at
	// the same moment) wins.
	if _, revoked, err := s.records.GetRecord(ctx, kindRevoked, g.ID); err != nil {
		return nil, err
	} else if revoked {
		s.revokeGrant(ctx, g.ID, "revoked while its tokens were issued")
		return nil, errRevoked
	}
	return &tokenResponse{AccessToken: access, TokenType: "Bearer", ExpiresIn: int(AccessTTL / time.Second), RefreshToken: refresh, Scope: scope}, nil
}

// appendRef adds ref, dropping expired refs and the oldest beyond max.
func appendRef(refs []tokenRef, ref tokenRef, now time.Time, max int) []tokenRef {
	out := refs[:0:0]
	for _, r := range refs {
		if r.Expires.After(now) {
			out = append(out, r)
		}
	}
	out = append(out, ref)
	if len(out) > max {
		out = out[len(out)-max:]
	}
	return out
}

// revokeGrant ends a grant: its tokens are deleted, a tombstone stops any
// token being issued for it, and this process's cache forgets it at once
// (other replicas within the cache TTL).
func (s *Server) revokeGrant(ctx context.Context, id, reason string) {
	if id == "" {
		return
	}
	ctx = context.WithoutCancel(ctx)
	s.cache.dropGrant(id)
	_ = s.records.PutRecord(ctx, kindRevoked, id, []byte(reason), RefreshTTL+AccessTTL, false)
	var g grantRecord
	ok, err := s.getJSON(ctx, kindGrant, id, &g)
	if err == nil && ok {
		for _, r := range g.Access {
			_, _ = s.records.DeleteRecord(ctx, kindAccess, r.Hash)
		}
		for _, r := range g.Refresh {
			_, _ = s.records.DeleteRecord(ctx, kindRefresh, r.Hash)
		}
		_, _ = s.records.DeleteRecord(ctx, kindKeyGrant, g.KeyFP+":"+id)
	}
	_, _ = s.records.DeleteRecord(ctx, kindGrant, id)
	s.cache.dropGrant(id)
	s.log.WithFields(map[string]any{"grant": id, "client_id": g.Client, "reason": reason}).Info("oauth: grant revoked")
}

// KeyRefused revokes every grant of key: the API refused it (401), so its
// clients must sign in again.
func (s *Server) KeyRefused(ctx context.Context, key string) {
	fp := safety.KeyFingerprint(key)
	ids, err := s.records.ActiveRecords(ctx, kindKeyGrant)
	if err != nil {
		s.log.WithError(err).Warn("oauth: the grants of a refused key could not be listed")
		return
	}
	for _, id := range ids {
		if grant, ok := strings.CutPrefix(id, fp+":"); ok {
			s.revokeGrant(ctx, grant, "the API refused the grant's key")
		}
	}
}
