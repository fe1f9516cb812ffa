package tools

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/byourside/bys-mcp/internal/outcome"
	"github.com/byourside/bys-mcp/schema"
	"github.com/mark3labs/mcp-go/mcp"
)

// decodeArgs decodes a request's arguments into T strictly: unknown
// arguments and wrong types are refused with a message naming the argument.
// allowed lists the argument names for the unknown-argument message.
func decodeArgs[T any](req mcp.CallToolRequest, allowed string) (T, *toolError) {
	var out T
	raw := req.GetRawArguments()
	var data []byte
	switch v := raw.(type) {
	case nil:
		data = []byte("{}")
	case json.RawMessage:
		data = v
	case []byte:
		data = v
	default:
		var err error
		if data, err = json.Marshal(v); err != nil {
			return out, invalidArgument("the arguments could not be read as a JSON object: pass an object such as {%s}", allowed)
		}
	}
	if t := bytes.TrimSpace(data); len(t) == 0 || string(t) == "null" {
		data = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		return out, describeDecodeError(err, allowed)
	}
	return out, nil
}

func describeDecodeError(err error, allowed string) *toolError {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		name := typeErr.Field
		if name == "" {
			return invalidArgument("the arguments must be a JSON object with %s", allowed)
		}
		return invalidArgument("argument %q must be %s, not %s", name, jsonKind(typeErr.Type.Kind().String()), typeErr.Value)
	}
	if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
		name := strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`)
		return invalidArgument("unknown argument %q: the arguments are %s", name, allowed)
	}
	return invalidArgument("the arguments are not valid JSON (%s): pass an object with %s", err.Error(), allowed)
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "int", "int64":
		return "a whole number"
	case "float64":
		return "a number"
	case "slice":
		return "an array"
	case "struct", "map":
		return "an object"
	}
	return "of another type"
}

// validateText checks a free-text argument: valid UTF-8 and within bounds.
func validateText(name, v string, required bool, maxLen int) *toolError {
	if required && strings.TrimSpace(v) == "" {
		return invalidArgument("argument %q is required and must not be empty", name)
	}
	if !utf8.ValidString(v) {
		return invalidArgument("argument %q must be valid UTF-8 text", name)
	}
	if n := utf8.RuneCountInString(v); n > maxLen {
		return invalidArgument("argument %q is %d characters long; the maximum is %d, so shorten it", name, n, maxLen)
	}
	return nil
}

func validateE164(name, v string) *toolError {
	if !schema.IsE164(v) {
		return invalidArgument("argument %q must be an E.164 phone number: a plus sign, the country code and 7 to 15 digits in all, no spaces, e.g. +14155550123 (got %q)", name, truncate(v, 32))
	}
	return nil
}

func validateCallID(v string) *toolError {
	if v == "" {
		return invalidArgument("argument \"callId\" is required: pass the id returned by place_call or list_calls")
	}
	if !schema.IsCallID(v) {
		return invalidArgument("argument \"callId\" must be a call id of letters, digits, - and _ (at most %d), e.g. f47ac10b-58cc-4372-a567-0e02b2c3d479", schema.MaxCallIDLen)
	}
	return nil
}

// validatePlaceCall checks the format of place_call's arguments. Account
// policy (countries, caller-ID ownership, limits) stays with the API.
func validatePlaceCall(in *schema.PlaceCallInput) *toolError {
	if in.To == "" {
		return invalidArgument("argument \"to\" is required: the destination in E.164 format, e.g. +14155550123")
	}
	if err := validateText("objective", in.Objective, true, schema.MaxObjectiveLen); err != nil {
		return err
	}
	if err := validateText("context", in.Context, false, schema.MaxContextLen); err != nil {
		return err
	}
	if in.CallerID != "" {
		if err := validateE164("callerId", in.CallerID); err != nil {
			return err
		}
	}
	if in.WebhookURL != "" {
		u, err := url.Parse(in.WebhookURL)
		if err != nil || u.Scheme != "https" || u.Host == "" || len(in.WebhookURL) > schema.MaxWebhookURLLen {
			return invalidArgument("argument \"webhookUrl\" must be an absolute https:// URL of at most %d characters, e.g. https://example.com/hooks/bys, or be left out", schema.MaxWebhookURLLen)
		}
	}
	if err := validateLanguage("language", in.Language); err != nil {
		return err
	}
	if err := validateVoice("voice", in.Voice); err != nil {
		return err
	}
	if err := validateVoicemail(in.Voicemail, in.VoicemailMessage); err != nil {
		return err
	}
	if len(in.Fields) > schema.MaxFields {
		return invalidArgument("argument \"fields\" has %d items; at most %d are allowed, so keep the ones that matter most", len(in.Fields), schema.MaxFields)
	}
	seen := make(map[string]bool, len(in.Fields))
	for i, f := range in.Fields {
		if !schema.IsFieldName(f.Name) {
			return invalidArgument("fields[%d].name must start with a letter or underscore and use only letters, digits and underscores (at most %d), e.g. confirmed_time", i, schema.MaxFieldNameLen)
		}
		if outcome.IsReserved(f.Name) {
			return invalidArgument("fields[%d].name %q starts with %s, which is reserved for the server's own outcome fields (the result's outcome shows them): choose another name", i, f.Name, outcome.Prefix)
		}
		if seen[f.Name] {
			return invalidArgument("fields[%d].name %q is used twice: every field needs a unique name", i, f.Name)
		}
		seen[f.Name] = true
		switch f.Type {
		case "", "string", "boolean", "number":
		default:
			return invalidArgument("fields[%d].type must be string, boolean or number (got %q)", i, truncate(f.Type, 32))
		}
		if err := validateText(fmt.Sprintf("fields[%d].description", i), f.Description, false, schema.MaxFieldDescLen); err != nil {
			return err
		}
	}
	return nil
}

// validateLanguage checks an optional language argument: empty (left out),
// "auto", or a BCP 47 tag such as es-MX. place_call and the items of a
// batch share it.
func validateLanguage(name, v string) *toolError {
	if v == "" || schema.IsLanguage(v) {
		return nil
	}
	return invalidArgument("argument %q must be a BCP 47 language tag such as es-MX, fr or en-GB, or auto (got %q): pass a tag or leave it out", name, truncate(v, 40))
}

// validateVoice checks an optional voice name: printable text of at most
// schema.MaxVoiceLen characters, passed on unchanged.
func validateVoice(name, v string) *toolError {
	if v == "" {
		return nil
	}
	if strings.TrimSpace(v) == "" || strings.IndexFunc(v, unicode.IsControl) >= 0 {
		return invalidArgument("argument %q must be a voice name such as Kore, without control characters, or be left out", name)
	}
	return validateText(name, v, false, schema.MaxVoiceLen)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
