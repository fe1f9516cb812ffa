package client

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Error tokens. The API's own tokens come in APIError.Token as the API sent
// them; these are the ones this package relies on or makes up.
const (
	TokenRateLimited   = "rate_limited"
	TokenOverMinuteCap = "over_minute_cap"

	// TokenUnexpectedResponse: the body was not the expected JSON (HTML from
	// a proxy, empty, malformed, or a 2xx without the promised fields).
	TokenUnexpectedResponse = "unexpected_response"
	// TokenResponseTooLarge: the body exceeded Options.MaxResponseBytes.
	TokenResponseTooLarge = "response_too_large"

	// TokenConnectionFailed: could not connect; the request never reached
	// the API (when MayHaveReachedAPI is false).
	TokenConnectionFailed = "connection_failed"
	// TokenTimeout: the attempt (or the caller's context deadline) ran out.
	TokenTimeout = "timeout"
	// TokenConnectionLost: the connection broke before a full answer arrived.
	TokenConnectionLost = "connection_lost"
	// TokenCanceled: the caller's context was canceled.
	TokenCanceled = "canceled"
)

// APIError is an HTTP answer that is not a success: every non-2xx answer, and
// a 2xx whose body is not the expected JSON. Check it with errors.As.
type APIError struct {
	HTTPStatus int
	// Token is the API's {"error":"token"}, or TokenUnexpectedResponse /
	// TokenResponseTooLarge when the body is not that.
	Token  string
	Method string
	// Route is the route template, e.g. "POST /v1/agent/calls".
	Route string
	// RetryAfter is the parsed Retry-After header (seconds or HTTP date),
	// 0 if absent.
	RetryAfter time.Duration
	// MayHavePlaced is true for a POST that got a 5xx or an unexpected
	// answer: a call may exist; look for it with ListCalls before placing
	// it again.
	MayHavePlaced bool
}

func (e *APIError) Error() string {
	return fmt.Sprintf("bys api: %s: %d %s", e.Route, e.HTTPStatus, e.Token)
}

// TransportError is a request that got no (complete) HTTP answer: DNS or
// connect failure, timeout, reset, or a body cut off mid-response.
type TransportError struct {
	Method, Route string
	// Token is TokenConnectionFailed, TokenTimeout, TokenConnectionLost or
	// TokenCanceled.
	Token string
	// MayHaveReachedAPI is false only when the request is known never to
	// have been sent (the connection could not be established).
	MayHaveReachedAPI bool
	Err               error
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("bys api: %s: %s: %v", e.Route, e.Token, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// IsNotFound reports whether err is an *APIError with status 404: the call
// does not exist or belongs to another key.
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.HTTPStatus == http.StatusNotFound
}

// Retryable reports whether repeating the same request later is both safe
// and may succeed: 429 rate_limited; 502, 503 and 504 unless a call may have
// been placed; transport failures of GETs, and of POSTs that never reached
// the API. It is false for over_minute_cap, for other 4xx, for a POST that
// may have placed a call, and for a canceled context.
func Retryable(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		switch ae.HTTPStatus {
		case http.StatusTooManyRequests:
			return ae.Token == TokenRateLimited
		case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return !ae.MayHavePlaced
		}
		return false
	}
	var te *TransportError
	if errors.As(err, &te) {
		if te.Token == TokenCanceled {
			return false
		}
		return te.Method == http.MethodGet || !te.MayHaveReachedAPI
	}
	return false
}
