package client

import (
	"context"
	"net/http"
)

// Scope narrows a client to part of its key's calls. A deployment that
// shares one key among several people (bys-mcp's --oauth-issuer) keeps
// each person's calls apart with it: the scope says which calls are
// theirs, and learns of every call they place.
type Scope interface {
	// Holds reports whether callID is in the scope. An error (the scope's
	// store cannot say) is returned by the client as it is.
	Holds(ctx context.Context, callID string) (bool, error)
	// Placed tells the scope of a call placed through the client, before
	// PlaceCall returns. It cannot fail the placement (the call exists):
	// the scope retries and reports its own failures.
	Placed(ctx context.Context, callID string)
}

// WithScope returns a shallow copy of c narrowed to s: GetCall and
// GetRecording of a call outside s answer as the API does for another
// key's call (an *APIError 404 not_found, for which IsNotFound is true),
// without asking the API; ListCalls reads the API's longest list
// (MaxListLimit) and keeps the calls in s, up to the limit asked for
// (default 20); PlaceCall tells s of the call it placed. Recording (by URL)
// is not narrowed: its URL comes from a record read through the scope.
func (c *Client) WithScope(s Scope) *Client {
	c2 := *c
	c2.scope = s
	return &c2
}

// inScope reports whether call id may be read, as GetCall's error when not.
func (c *Client) inScope(ctx context.Context, id string) error {
	if c.scope == nil {
		return nil
	}
	ok, err := c.scope.Holds(ctx, id)
	if err != nil {
		return err
	}
	if !ok {
		return &APIError{HTTPStatus: http.StatusNotFound, Token: "not_found", Method: http.MethodGet, Route: RouteGetCall}
	}
	return nil
}

// scopeList keeps the calls in the scope, up to limit (0: the API's
// default).
func (c *Client) scopeList(ctx context.Context, calls []*Call, limit int) ([]*Call, error) {
	if limit <= 0 {
		limit = defaultListLimit
	}
	kept := make([]*Call, 0, min(len(calls), limit))
	for _, call := range calls {
		if len(kept) == limit {
			break
		}
		ok, err := c.scope.Holds(ctx, call.ID)
		if err != nil {
			return nil, err
		}
		if ok {
			kept = append(kept, call)
		}
	}
	return kept, nil
}

// defaultListLimit is the API's list length when no limit is given.
const defaultListLimit = 20
