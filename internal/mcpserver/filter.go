package mcpserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
)

// Filter applies, before mcp-go sees a message, the rules of our contract
// that must produce a specific JSON-RPC error or change what mcp-go would
// do, and that no handler can express (a handler's error is always -32603):
//
//   - a 2026-07-28 place_call that needs the user's confirmation
//     (--confirm-calls=always) from a client without the elicitation
//     capability gets -32021, the specification's missing-capability error;
//   - tasks are offered to 2025-11-25 clients only: a 2026-07-28 tasks/*
//     request is refused, and its params.task on tools/call is dropped so
//     the call runs plainly;
//   - a prompts/get whose arguments are missing or malformed gets -32602
//     (invalid params) naming the argument, in both eras.
type Filter struct {
	ConfirmAlways bool
	// CheckPrompt, when set, validates a prompts/get request's arguments
	// (prompts.Check); its error becomes the -32602 message.
	CheckPrompt func(name string, args map[string]string) error
}

// Verdict is what the filter decided about one message.
type Verdict struct {
	// Message is the message to dispatch (possibly rewritten); nil when the
	// filter answered it itself.
	Message []byte
	// Response is the filter's own JSON-RPC answer, when it made one.
	Response []byte
	// Code is the JSON-RPC error code of Response.
	Code int
	// Modern is set when the refused message was a 2026-07-28 request,
	// whose HTTP status follows its error code.
	Modern bool
}

var (
	markerVersion = []byte(mcp.MetaKeyProtocolVersion)
	markerTasks   = []byte(`"tasks/`)
	markerPrompt  = []byte(`"prompts/get"`)
)

// Check inspects one JSON-RPC message. The common case (nothing to do) costs
// two byte searches and no parsing.
func (f *Filter) Check(raw []byte) Verdict {
	if f.CheckPrompt != nil && bytes.Contains(raw, markerPrompt) {
		if v, refused := f.checkPrompt(raw); refused {
			return v
		}
	}
	if !bytes.Contains(raw, markerVersion) {
		return Verdict{Message: raw}
	}
	mayPlace := f.ConfirmAlways && bytes.Contains(raw, []byte("place_call"))
	mayTask := bytes.Contains(raw, markerTasks) || bytes.Contains(raw, []byte(`"task"`))
	if !mayPlace && !mayTask {
		return Verdict{Message: raw}
	}
	var msg struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
		Params struct {
			Name string    `json:"name"`
			Meta *mcp.Meta `json:"_meta"`
		} `json:"params"`
	}
	if json.Unmarshal(raw, &msg) != nil || !mcp.IsModernProtocol(msg.Params.Meta.ProtocolVersion()) {
		return Verdict{Message: raw}
	}
	switch {
	case strings.HasPrefix(msg.Method, "tasks/"):
		return refuse(msg.ID, mcp.METHOD_NOT_FOUND,
			"method "+msg.Method+" is not available in protocol version "+mcp.ProtocolVersion20260728+": this server offers tasks to 2025-11-25 clients only")
	case msg.Method == string(mcp.MethodToolsCall) && mayPlace && msg.Params.Name == "place_call":
		caps := msg.Params.Meta.ClientCapabilities()
		if caps == nil || caps.Elicitation == nil {
			v := refuse(msg.ID, mcp.MISSING_REQUIRED_CLIENT_CAPABILITY,
				`missing required client capability: "elicitation" (confirmation_unavailable: the operator requires every call to be confirmed by the user, so declare the elicitation capability to place calls)`)
			v.Response = withErrorData(v.Response, map[string]any{"capability": "elicitation", "token": "confirmation_unavailable"})
			return v
		}
	}
	if msg.Method == string(mcp.MethodToolsCall) && mayTask {
		return Verdict{Message: dropTask(raw)}
	}
	return Verdict{Message: raw}
}

// checkPrompt refuses a prompts/get whose arguments do not pass
// CheckPrompt. Unknown prompts are left to mcp-go (its own -32602).
func (f *Filter) checkPrompt(raw []byte) (Verdict, bool) {
	var msg struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
		Params struct {
			Name      string          `json:"name"`
			Arguments json.RawMessage `json:"arguments"`
			Meta      *mcp.Meta       `json:"_meta"`
		} `json:"params"`
	}
	if json.Unmarshal(raw, &msg) != nil || msg.Method != string(mcp.MethodPromptsGet) {
		return Verdict{}, false
	}
	modern := mcp.IsModernProtocol(msg.Params.Meta.ProtocolVersion())
	args := map[string]string{}
	if len(msg.Params.Arguments) > 0 && string(msg.Params.Arguments) != "null" {
		var loose map[string]any
		if json.Unmarshal(msg.Params.Arguments, &loose) != nil {
			v := refuse(msg.ID, mcp.INVALID_PARAMS, "params.arguments must be an object of string values, e.g. {\"phone\": \"+14155550123\"}")
			v.Modern = modern
			return v, true
		}
		for k, val := range loose {
			switch val := val.(type) {
			case string:
				args[k] = val
			case nil:
			default:
				v := refuse(msg.ID, mcp.INVALID_PARAMS, fmt.Sprintf("argument %q must be a string (prompt arguments are text); send it as a JSON string", k))
				v.Modern = modern
				return v, true
			}
		}
	}
	if err := f.CheckPrompt(msg.Params.Name, args); err != nil {
		v := refuse(msg.ID, mcp.INVALID_PARAMS, err.Error())
		v.Modern = modern
		return v, true
	}
	return Verdict{}, false
}

// dropTask removes params.task from a tools/call message.
func dropTask(raw []byte) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return raw
	}
	var params map[string]json.RawMessage
	if json.Unmarshal(m["params"], &params) != nil {
		return raw
	}
	if _, ok := params["task"]; !ok {
		return raw
	}
	delete(params, "task")
	p, err := json.Marshal(params)
	if err != nil {
		return raw
	}
	m["params"] = p
	out, err := json.Marshal(m)
	if err != nil {
		return raw
	}
	return out
}

// withErrorData adds data to a JSON-RPC error response.
func withErrorData(resp []byte, data map[string]any) []byte {
	var m map[string]any
	if json.Unmarshal(resp, &m) != nil {
		return resp
	}
	if e, ok := m["error"].(map[string]any); ok {
		e["data"] = data
	}
	out, err := json.Marshal(m)
	if err != nil {
		return resp
	}
	return out
}

func refuse(id json.RawMessage, code int, message string) Verdict {
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	resp, _ := json.Marshal(map[string]any{
		"jsonrpc": "2.0",
		"id":      id,
		"error":   map[string]any{"code": code, "message": message},
	})
	return Verdict{Response: resp, Code: code}
}
