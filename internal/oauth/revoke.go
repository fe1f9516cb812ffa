package oauth

import (
	"net/http"
	"strings"
)

// handleRevoke is the revocation endpoint (RFC 7009): an access or refresh
// token revokes its grant when the client presenting it is the one it was
// issued to. The answer is 200 whatever the token.
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	defer writeJSON(w, http.StatusOK, struct{}{})
	if err := r.ParseForm(); err != nil {
		return
	}
	token := r.PostForm.Get("token")
	if token == "" {
		return
	}
	ctx := r.Context()
	h := hashToken(token)
	var grant, client string
	order := []string{kindAccess, kindRefresh}
	if strings.EqualFold(r.PostForm.Get("token_type_hint"), "refresh_token") {
		order = []string{kindRefresh, kindAccess}
	}
	for _, kind := range order {
		var rec struct {
			Grant  string `json:"grant"`
			Client string `json:"client"`
		}
		if ok, err := s.getJSON(ctx, kind, h, &rec); err == nil && ok {
			grant, client = rec.Grant, rec.Client
			break
		}
	}
	if grant == "" {
		return
	}
	c, oerr := s.authenticateClient(ctx, r)
	if oerr != nil || c.ID != client {
		return
	}
	s.revokeGrant(ctx, grant, "revoked by its client")
}
