package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Limits of a Client ID Metadata Document fetch.
const (
	cimdTimeout  = 5 * time.Second
	cimdMaxBytes = 16 << 10
	cimdMaxAge   = 24 * time.Hour
	cimdMinAge   = time.Minute
	cimdDefAge   = time.Hour
)

// cimdDocument is the part of a Client ID Metadata Document read here.
type cimdDocument struct {
	ClientID                string   `json:"client_id"`
	ClientName              string   `json:"client_name"`
	RedirectURIs            []string `json:"redirect_uris"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	ApplicationType         string   `json:"application_type"`
}

// newCIMDClient fetches metadata documents: 5 s, no redirects, no proxy,
// and connections to public addresses only (loopback too when
// allowLoopback).
func newCIMDClient(allowLoopback bool) *http.Client {
	dialer := &net.Dialer{
		Timeout: cimdTimeout,
		Control: func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			ip, err := netip.ParseAddr(host)
			if err != nil {
				return fmt.Errorf("not an IP address: %s", host)
			}
			ip = ip.Unmap()
			if isPublicAddr(ip) || (allowLoopback && ip.IsLoopback()) {
				return nil
			}
			return errors.New("client metadata documents are fetched from public addresses only")
		},
	}
	return &http.Client{
		Timeout: cimdTimeout,
		Transport: &http.Transport{
			Proxy:                  nil, // a proxy would bypass the address check
			DialContext:            dialer.DialContext,
			TLSHandshakeTimeout:    cimdTimeout,
			ResponseHeaderTimeout:  cimdTimeout,
			MaxResponseHeaderBytes: 16 << 10,
			MaxIdleConns:           16,
			IdleConnTimeout:        30 * time.Second,
			ForceAttemptHTTP2:      true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// nonPublic are the ranges a metadata document is never fetched from.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("100::/64"),
	netip.MustParsePrefix("2001::/23"),
	netip.MustParsePrefix("2001:db8::/32"),
}

// isPublicAddr reports whether ip is a globally routable unicast address.
func isPublicAddr(ip netip.Addr) bool {
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsUnspecified() || ip.IsMulticast() ||
		ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() || !ip.IsGlobalUnicast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// checkDocumentURL says why id may not be used as a metadata document URL:
// https with a path; http:// (and loopback hosts) only when the public URL
// is on loopback too.
func (s *Server) checkDocumentURL(id string) error {
	u, err := url.Parse(id)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" || len(id) > maxRedirectURILen {
		return errors.New("the client_id is not a valid metadata document URL")
	}
	if u.Path == "" || u.Path == "/" {
		return errors.New("a metadata document URL needs a path")
	}
	loop := isLoopbackHost(u.Hostname())
	switch {
	case u.Scheme == "https" && !loop:
	case s.loopbackCIMD && loop && (u.Scheme == "https" || u.Scheme == "http"):
	default:
		return errors.New("a metadata document URL must use https on a public host")
	}
	return nil
}

// documentClient returns the client described by the metadata document at
// id, from the store's cache (at most 24 h) or fetched now.
func (s *Server) documentClient(ctx context.Context, id string) (*Client, error) {
	if err := s.checkDocumentURL(id); err != nil {
		return nil, errUnknownClient
	}
	cacheID := hashToken(id)
	var c Client
	if ok, err := s.getJSON(ctx, kindCIMD, cacheID, &c); err != nil {
		return nil, err
	} else if ok {
		return &c, nil
	}
	doc, maxAge, err := s.fetchDocument(ctx, id)
	if err != nil {
		s.log.WithField("client_id", id).WithError(err).Info("oauth: client metadata document refused")
		return nil, errUnknownClient
	}
	c = Client{
		ID:              id,
		Name:            strings.TrimSpace(doc.ClientName),
		RedirectURIs:    doc.RedirectURIs,
		AuthMethod:      authNone,
		GrantTypes:      doc.GrantTypes,
		ApplicationType: doc.ApplicationType,
		Document:        true,
	}
	if err := s.putJSON(ctx, kindCIMD, cacheID, &c, maxAge); err != nil {
		return nil, err
	}
	return &c, nil
}

// fetchDocument fetches and checks a metadata document: its client_id must
// be its URL, its redirect URIs registrable, and it uses no client secret.
func (s *Server) fetchDocument(ctx context.Context, id string) (*cimdDocument, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, cimdTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, id, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.cimd.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("fetching the document: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("the document answered HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, cimdMaxBytes+1))
	if err != nil {
		return nil, 0, fmt.Errorf("reading the document: %w", err)
	}
	if len(body) > cimdMaxBytes {
		return nil, 0, errors.New("the document is larger than 16 KiB")
	}
	var doc cimdDocument
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, 0, errors.New("the document is not a JSON object")
	}
	if doc.ClientID != id {
		return nil, 0, errors.New("the document's client_id is not its URL")
	}
	switch doc.TokenEndpointAuthMethod {
	case "", authNone:
	default:
		return nil, 0, errors.New("a metadata document client must use token_endpoint_auth_method none")
	}
	reg := registrationRequest{RedirectURIs: doc.RedirectURIs, GrantTypes: doc.GrantTypes, ResponseTypes: doc.ResponseTypes, ClientName: doc.ClientName, ApplicationType: doc.ApplicationType}
	if _, oerr := validateRegistration(&reg); oerr != nil {
		return nil, 0, errors.New(oerr.Description)
	}
	return &doc, cacheAge(resp.Header.Get("Cache-Control")), nil
}

// cacheAge is how long to keep a document: its max-age within [1 min,
// 24 h], else an hour; no-store and no-cache keep it a minute.
func cacheAge(cc string) time.Duration {
	age := cimdDefAge
	for _, d := range strings.Split(cc, ",") {
		d = strings.TrimSpace(strings.ToLower(d))
		switch {
		case d == "no-store" || d == "no-cache":
			return cimdMinAge
		case strings.HasPrefix(d, "max-age="):
			if n, err := strconv.Atoi(strings.TrimPrefix(d, "max-age=")); err == nil {
				age = time.Duration(n) * time.Second
			}
		}
	}
	return min(max(age, cimdMinAge), cimdMaxAge)
}
