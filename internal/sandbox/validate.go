package sandbox

import (
	"bytes"
	"encoding/json"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/byourside/bys-mcp/schema"
)

// maxFields is the reference's limit on the fields array.
const maxFields = 20

// placeRequest is a validated POST /v1/agent/calls body.
type placeRequest struct {
	to, objective string
	hasContext    bool
	fields        []field
	callerID      string
	language      string // as sent; "" when left out
	voice         string // as sent; "" when left out
	webhookURL    string // as sent; "" when left out
}

// validate checks a POST body in the documented order and returns the
// request, or the error token of the first rule it breaks (all 400s).
func validate(body []byte) (placeRequest, string) {
	var req placeRequest
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return req, "invalid_request"
	}
	present := func(k string) (json.RawMessage, bool) {
		v, ok := m[k]
		if !ok || isNull(v) {
			return nil, false
		}
		return v, true
	}
	// optional sets *dst to the string at k when one is given, and is
	// false when what is given is not a string that valid accepts.
	optional := func(k string, valid func(string) bool, dst *string) bool {
		v, given := present(k)
		if !given {
			return true
		}
		s, isStr := asString(v)
		if !isStr || !valid(s) {
			return false
		}
		*dst = s
		return true
	}

	toRaw, hasTo := present("to")
	toStr, toIsString := asString(toRaw)
	if !hasTo || (toIsString && strings.TrimSpace(toStr) == "") {
		return req, "to_required"
	}
	objRaw, _ := present("objective")
	obj, ok := asString(objRaw)
	if !ok || strings.TrimSpace(obj) == "" {
		return req, "objective_required"
	}
	if !toIsString || !schema.IsE164(toStr) {
		return req, "invalid_number"
	}
	req.to, req.objective = toStr, obj

	if v, ok := present("context"); ok {
		s, isStr := asString(v)
		if !isStr {
			return req, "invalid_context"
		}
		req.hasContext = strings.TrimSpace(s) != ""
	}
	if !optional("callerId", schema.IsE164, &req.callerID) {
		return req, "invalid_caller_id"
	}
	if v, ok := present("fields"); ok {
		fs, valid := parseFields(v)
		if !valid {
			return req, "invalid_fields"
		}
		req.fields = fs
	}
	if !optional("webhookUrl", validWebhook, &req.webhookURL) {
		return req, "invalid_webhook_url"
	}
	if !optional("language", schema.IsLanguage, &req.language) {
		return req, "invalid_language"
	}
	if !optional("voice", func(s string) bool { return strings.TrimSpace(s) != "" }, &req.voice) {
		return req, "invalid_voice"
	}
	if destinationBlocked(req.to) {
		return req, "destination_blocked"
	}
	if req.callerID == "" {
		if len(OwnedCallerIDs) == 0 {
			return req, "caller_id_not_owned"
		}
		req.callerID = OwnedCallerIDs[0]
	}
	if !slices.Contains(OwnedCallerIDs, req.callerID) {
		return req, "caller_id_not_owned"
	}
	return req, ""
}

func isNull(v json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(v), []byte("null")) }

// asString decodes v if it is a JSON string.
func asString(v json.RawMessage) (string, bool) {
	if v == nil {
		return "", false
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", false
	}
	return s, true
}

// parseFields checks the fields array: at most 20 objects, each with a
// unique non-empty string name, an optional type of string (default),
// boolean or number, and an optional string description.
func parseFields(v json.RawMessage) ([]field, bool) {
	var items []json.RawMessage
	if err := json.Unmarshal(v, &items); err != nil || len(items) > maxFields {
		return nil, false
	}
	seen := make(map[string]bool, len(items))
	out := make([]field, 0, len(items))
	for _, item := range items {
		var o map[string]json.RawMessage
		if isNull(item) || json.Unmarshal(item, &o) != nil {
			return nil, false
		}
		name, ok := asString(o["name"])
		if !ok || strings.TrimSpace(name) == "" || seen[name] {
			return nil, false
		}
		seen[name] = true
		f := field{name: name, typ: "string"}
		if t, ok := o["type"]; ok && !isNull(t) {
			s, isStr := asString(t)
			if !isStr || (s != "string" && s != "boolean" && s != "number") {
				return nil, false
			}
			f.typ = s
		}
		if d, ok := o["description"]; ok && !isNull(d) {
			s, isStr := asString(d)
			if !isStr {
				return nil, false
			}
			f.desc = s
		}
		out = append(out, f)
	}
	return out, true
}

// validWebhook reports whether s is an absolute https URL with a host, or
// (unlike the real API, for tests) an http URL on a loopback host.
func validWebhook(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Hostname() == "" || u.Opaque != "" {
		return false
	}
	return u.Scheme == "https" || (u.Scheme == "http" && isLoopbackHost(u.Hostname()))
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
