package schema_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/byourside/bys-mcp/schema"
	"github.com/byourside/bys-mcp/schema/schemagen"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

func generate(t *testing.T, l schema.Limits) *schema.Set {
	t.Helper()
	set, err := schemagen.Generate(l)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func tools(set *schema.Set) map[string]schema.Tool {
	return map[string]schema.Tool{
		"place_call": set.PlaceCall, "get_call": set.GetCall, "list_calls": set.ListCalls, "wait_for_call": set.WaitForCall,
	}
}

func decode(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("schema is not a JSON object: %v", err)
	}
	return m
}

func compile(t *testing.T, raw []byte) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("mem://s.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("mem://s.json")
	if err != nil {
		t.Fatalf("schema does not compile: %v\n%s", err, raw)
	}
	return s
}

func valid(t *testing.T, s *jsonschema.Schema, instance string) error {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(instance))
	if err != nil {
		t.Fatalf("bad test instance %s: %v", instance, err)
	}
	return s.Validate(doc)
}

// walk visits every object node of a schema with its path.
func walk(path string, node any, visit func(string, map[string]any)) {
	switch n := node.(type) {
	case map[string]any:
		visit(path, n)
		for k, v := range n {
			walk(path+"/"+k, v, visit)
		}
	case []any:
		for i, v := range n {
			walk(fmt.Sprintf("%s/%d", path, i), v, visit)
		}
	}
}

func TestSchemasAreInlineAndDescribeEveryProperty(t *testing.T) {
	for name, tool := range tools(generate(t, schema.Limits{})) {
		for which, raw := range map[string][]byte{"input": tool.Input, "output": tool.Output} {
			walk(name+"."+which, decode(t, raw), func(path string, n map[string]any) {
				for _, k := range []string{"$ref", "$defs", "definitions", "$schema", "$id", "oneOf"} {
					if _, ok := n[k]; ok {
						t.Errorf("%s has %s", path, k)
					}
				}
				if props, ok := n["properties"].(map[string]any); ok {
					for p, v := range props {
						if d, _ := v.(map[string]any)["description"].(string); strings.TrimSpace(d) == "" {
							t.Errorf("%s: property %s has no description", path, p)
						}
					}
				}
			})
		}
	}
}

func TestInputSchemasAreClosedObjects(t *testing.T) {
	for name, tool := range tools(generate(t, schema.Limits{})) {
		walk(name, decode(t, tool.Input), func(path string, n map[string]any) {
			if n["type"] == "object" && n["additionalProperties"] != false {
				t.Errorf("%s: additionalProperties = %v, want false", path, n["additionalProperties"])
			}
		})
	}
}

func TestNullableRecordFieldsAreWrittenAsTypeArrays(t *testing.T) {
	out := decode(t, generate(t, schema.Limits{}).GetCall.Output)
	props := out["properties"].(map[string]any)
	for name, want := range map[string]string{
		"summary": "string", "transcript": "string", "recordingUrl": "string", "startedAt": "string",
		"endedAt": "string", "durationSec": "number", "extracted": "object", "error": "string",
	} {
		typ := fmt.Sprint(props[name].(map[string]any)["type"])
		if typ != fmt.Sprintf("[%s null]", want) {
			t.Errorf("%s type = %s, want [%s null]", name, typ, want)
		}
	}
}

func TestLimitsAppearInTheSchemas(t *testing.T) {
	tests := []struct {
		name                               string
		limits                             schema.Limits
		waitMax, waitDef, listMax, listDef float64
	}{
		{"defaults when unset", schema.Limits{}, 300, 45, 100, 20},
		{"operator limits", schema.Limits{MaxWaitSec: 600, MaxListLimit: 50}, 600, 45, 50, 20},
		{"small limits lower the defaults", schema.Limits{MaxWaitSec: 30, MaxListLimit: 10}, 30, 30, 10, 10},
		{"a list limit above 100 is capped", schema.Limits{MaxWaitSec: 60, MaxListLimit: 500}, 60, 45, 100, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := generate(t, tt.limits)
			timeout := decode(t, set.WaitForCall.Input)["properties"].(map[string]any)["timeoutSec"].(map[string]any)
			limit := decode(t, set.ListCalls.Input)["properties"].(map[string]any)["limit"].(map[string]any)
			if timeout["maximum"] != tt.waitMax || timeout["default"] != tt.waitDef || timeout["minimum"] != 1.0 {
				t.Errorf("timeoutSec = %v", timeout)
			}
			if limit["maximum"] != tt.listMax || limit["default"] != tt.listDef || limit["minimum"] != 1.0 {
				t.Errorf("limit = %v", limit)
			}
			if d := timeout["description"].(string); !strings.Contains(d, fmt.Sprintf("1 to %v (default %v)", tt.waitMax, tt.waitDef)) {
				t.Errorf("timeoutSec description does not give the bounds: %s", d)
			}
			if d := limit["description"].(string); !strings.Contains(d, fmt.Sprintf("1 to %v (default %v)", tt.listMax, tt.listDef)) {
				t.Errorf("limit description does not give the bounds: %s", d)
			}
		})
	}
}

func TestInputSchemasAcceptGoodArgumentsAndRefuseBadOnes(t *testing.T) {
	set := generate(t, schema.Limits{})
	twentyOne := make([]string, 21)
	for i := range twentyOne {
		twentyOne[i] = fmt.Sprintf(`{"name":"f%d"}`, i)
	}
	tests := []struct {
		tool     []byte
		instance string
		ok       bool
	}{
		{set.PlaceCall.Input, `{"to":"+14155550123","objective":"Book"}`, true},
		{set.PlaceCall.Input, `{"to":"+14155550123","objective":"Book","context":"c","fields":[{"name":"booked","type":"boolean","description":"d"}],"webhookUrl":"https://x.example/h","callerId":"+12135550100","allowDuplicate":true}`, true},
		{set.PlaceCall.Input, `{"objective":"Book"}`, false},
		// A national number passes the schema, so that the server can
		// answer it with its E.164 form (invalid_number with a suggestion).
		{set.PlaceCall.Input, `{"to":"(415) 555-0123","objective":"Book"}`, true},
		{set.PlaceCall.Input, `{"to":"","objective":"Book"}`, false},
		{set.PlaceCall.Input, `{"to":"+14155550123","objective":""}`, false},
		{set.PlaceCall.Input, `{"to":"+14155550123","objective":"Book","priority":1}`, false},
		{set.PlaceCall.Input, `{"to":"+14155550123","objective":"Book","fields":[` + strings.Join(twentyOne, ",") + `]}`, false},
		{set.PlaceCall.Input, `{"to":"+14155550123","objective":"Book","fields":[{"name":"x","type":"date"}]}`, false},
		{set.PlaceCall.Input, `{"to":"+14155550123","objective":"Book","fields":[{"name":"x","extra":1}]}`, false},
		{set.PlaceCall.Input, `{"to":"+14155550123","objective":"Book","webhookUrl":"http://x.example/h"}`, false},
		{set.GetCall.Input, `{"callId":"f47ac10b-58cc-4372-a567-0e02b2c3d479"}`, true},
		{set.GetCall.Input, `{"callId":"../x"}`, false},
		{set.GetCall.Input, `{}`, false},
		{set.ListCalls.Input, `{}`, true},
		{set.ListCalls.Input, `{"limit":100}`, true},
		{set.ListCalls.Input, `{"limit":0}`, false},
		{set.ListCalls.Input, `{"limit":101}`, false},
		{set.WaitForCall.Input, `{"callId":"abc","timeoutSec":300}`, true},
		{set.WaitForCall.Input, `{"callId":"abc","timeoutSec":0}`, false},
		{set.WaitForCall.Input, `{"callId":"abc","timeoutSec":301}`, false},
		{set.GetCall.Input, `{"callId":"abc","transcriptMaxChars":0,"transcriptOffset":0}`, true},
		{set.PlaceCall.Input, `{"to":"+14155550123","objective":"Book","voicemail":"hang_up"}`, true},
		{set.PlaceCall.Input, `{"to":"+14155550123","objective":"Book","voicemail":"leave_message","voicemailMessage":"Call back."}`, true},
		{set.PlaceCall.Input, `{"to":"+14155550123","objective":"Book","voicemail":"shout"}`, false},
		{set.PlaceCall.Input, `{"to":"+14155550123","objective":"Book","voicemail":"leave_message","voicemailMessage":"` + strings.Repeat("a", 501) + `"}`, false},
		{set.PlaceCalls.Input, `{"calls":[{"to":"+14155550123","voicemail":"hang_up"}],"objective":"o","retryOn":["voicemail"],"voicemail":"leave_message","voicemailMessage":"m"}`, true},
		{set.PlaceCalls.Input, `{"calls":[{"to":"+14155550123"}],"objective":"o","retryOn":[]}`, false},
		{set.PlaceCalls.Input, `{"calls":[{"to":"+14155550123"}],"objective":"o","retryOn":["declined"]}`, false},
		{set.GetCall.Input, `{"callId":"abc","transcriptMaxChars":-1}`, false},
		{set.WaitForCall.Input, `{"callId":"abc","transcriptMaxChars":500,"transcriptOffset":1000}`, true},
		{set.WaitForCall.Input, `{"callId":"abc","transcriptOffset":-5}`, false},
		{set.WaitForCall.Input, `{"callId":"abc","transcriptOffset":1.5}`, false},
	}
	for _, tt := range tests {
		err := valid(t, compile(t, tt.tool), tt.instance)
		if (err == nil) != tt.ok {
			t.Errorf("%s: valid = %v, want %v (%v)", tt.instance, err == nil, tt.ok, err)
		}
	}
}

func TestOutputSchemasAdmitWhatReallyComesBack(t *testing.T) {
	set := generate(t, schema.Limits{})
	errorShape := `{"error":"destination_blocked","httpStatus":400,"retryable":false,"hint":"Do not retry."}`
	errorNoStatus := `{"error":"invalid_argument","httpStatus":null,"retryable":false,"hint":"Fix it."}`
	runningRecord := `{"id":"a","status":"queued","to":"+14155550123","objective":"o","summary":null,"transcript":null,"extracted":null,"recordingUrl":null,"startedAt":null,"endedAt":null,"durationSec":null,"error":null}`
	finalRecord := `{"id":"a","status":"completed","to":"+14155550123","objective":"o","summary":"s","transcript":"t","extracted":{"booked":true,"n":2,"x":null},"recordingUrl":"https://r","startedAt":"2025-01-01T00:00:00.000Z","endedAt":"2025-01-01T00:01:00.000Z","durationSec":60,"error":null,"costCents":12}`
	tests := []struct {
		name     string
		schema   []byte
		instance string
		ok       bool
	}{
		{"place_call success", set.PlaceCall.Output, `{"callId":"a","status":"queued","deduplicated":false}`, true},
		{"place_call error", set.PlaceCall.Output, errorShape, true},
		{"place_call error without HTTP status", set.PlaceCall.Output, errorNoStatus, true},
		{"place_call neither shape", set.PlaceCall.Output, `{"status":"queued"}`, false},
		{"place_call scheduled", set.PlaceCall.Output, `{"scheduled":true,"campaignId":"cmp_0123456789abcdef","notBefore":"2026-06-18T10:00:00-07:00","destination":{"region":"US","timeZone":"America/Los_Angeles"}}`, true},
		{"place_call scheduled without notBefore", set.PlaceCall.Output, `{"scheduled":true,"campaignId":"cmp_0123456789abcdef"}`, false},
		{"place_call error without hint", set.PlaceCall.Output, `{"error":"x","httpStatus":null,"retryable":false}`, false},
		{"get_call running record with nulls", set.GetCall.Output, runningRecord, true},
		{"get_call final record with an unknown field", set.GetCall.Output, finalRecord, true},
		{"get_call error", set.GetCall.Output, `{"error":"not_found","httpStatus":404,"retryable":false,"hint":"Check the id."}`, true},
		{"get_call record without id", set.GetCall.Output, `{"status":"queued"}`, false},
		{"get_call record with a cut transcript", set.GetCall.Output, strings.Replace(finalRecord, `{`, `{"transcriptTotalChars":900,"transcriptNextOffset":40,`, 1), true},
		{"get_call record with the last part of a transcript", set.GetCall.Output, strings.Replace(finalRecord, `{`, `{"transcriptTotalChars":900,"transcriptNextOffset":null,`, 1), true},
		{"get_call record with a fractional total", set.GetCall.Output, strings.Replace(finalRecord, `{`, `{"transcriptTotalChars":9.5,`, 1), false},
		{"wait_for_call record with a cut transcript", set.WaitForCall.Output, strings.Replace(finalRecord, `{`, `{"timedOut":false,"transcriptTotalChars":900,"transcriptNextOffset":null,`, 1), true},
		{"list_calls success", set.ListCalls.Output, `{"calls":[` + runningRecord + `,` + finalRecord + `]}`, true},
		{"list_calls empty", set.ListCalls.Output, `{"calls":[]}`, true},
		{"list_calls error", set.ListCalls.Output, errorNoStatus, true},
		{"wait_for_call final", set.WaitForCall.Output, strings.Replace(finalRecord, `{`, `{"timedOut":false,`, 1), true},
		{"wait_for_call timed out", set.WaitForCall.Output, strings.Replace(runningRecord, `{`, `{"timedOut":true,"hint":"Call again.",`, 1), true},
		{"wait_for_call error", set.WaitForCall.Output, errorShape, true},
		{"wait_for_call record without timedOut", set.WaitForCall.Output, runningRecord, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := valid(t, compile(t, tt.schema), tt.instance)
			if (err == nil) != tt.ok {
				t.Errorf("valid = %v, want %v (%v)", err == nil, tt.ok, err)
			}
		})
	}
}
