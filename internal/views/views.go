// Package views owns the MCP Apps views of bys-mcp (the
// io.modelcontextprotocol/ui extension): the live call card
// (ui://bys/call.html: status, outcome, fields, the recording from
// bys://calls/{callId}/recording, transcript) and the campaign board
// (ui://bys/campaign.html: rows, counts, pause, resume and retry), each
// one self-contained HTML document embedded in the binary, the extension's
// declaration, the _meta.ui.resourceUri that names a view on the tools that
// have one, and the rule that clients which did not declare the extension
// see none of it (no _meta.ui on tools, no ui:// resources in
// resources/list), in both protocol eras.
package views

import (
	"context"
	_ "embed"
	"slices"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// Extension is the MCP Apps extension identifier.
const Extension = "io.modelcontextprotocol/ui"

// MIMEType is the mime type of an MCP Apps HTML view.
const MIMEType = "text/html;profile=mcp-app"

// The views' URIs.
const (
	CallURI     = "ui://bys/call.html"
	CampaignURI = "ui://bys/campaign.html"
)

// CallTools name the call view; CampaignTools the campaign view
// (list_campaigns has none: the board shows one campaign).
var (
	CallTools     = []string{"place_call", "get_call", "wait_for_call"}
	CampaignTools = []string{"place_calls", "wait_for_campaign", "cancel_campaign", "pause_campaign", "resume_campaign", "retry_campaign"}
)

// The documents are made from assets/src by go generate (internal/gen):
// each page in the shared layout, with the style sheet, host bridge and
// helpers inlined, so that each is one self-contained document, served as
// it is.
//
//go:generate go run ./internal/gen/cmd -src assets/src -out assets
var (
	//go:embed assets/call.html
	callHTML string
	//go:embed assets/campaign.html
	campaignHTML string

	documents = map[string]string{CallURI: callHTML, CampaignURI: campaignHTML}
)

// Document returns the HTML of the view at uri, as resources/read serves it.
func Document(uri string) (string, bool) {
	doc, ok := documents[uri]
	return doc, ok
}

// ResourceURI returns the view a tool names, if any.
func ResourceURI(tool string) string {
	switch {
	case slices.Contains(CallTools, tool):
		return CallURI
	case slices.Contains(CampaignTools, tool):
		return CampaignURI
	}
	return ""
}

// ServerOptions declare the extension and keep _meta.ui away from clients
// that did not declare it.
func ServerOptions() []server.ServerOption {
	return []server.ServerOption{
		server.WithExtensions(map[string]any{Extension: map[string]any{"mimeTypes": []string{MIMEType}}}),
		server.WithToolFilter(toolFilter),
	}
}

// Annotate sets _meta.ui.resourceUri on the tools that have a view.
func Annotate(tools []server.ServerTool) {
	for i := range tools {
		uri := ResourceURI(tools[i].Tool.Name)
		if uri == "" {
			continue
		}
		meta := &mcp.Meta{AdditionalFields: map[string]any{}}
		if old := tools[i].Tool.Meta; old != nil {
			meta.ProgressToken = old.ProgressToken
			for k, v := range old.AdditionalFields {
				meta.AdditionalFields[k] = v
			}
		}
		meta.AdditionalFields["ui"] = map[string]any{"resourceUri": uri}
		tools[i].Tool.Meta = meta
	}
}

// Register adds the two views as resources of s and hides them from the
// resources/list of clients without the extension. hooks must be the
// server's hooks.
func Register(s *server.MCPServer, hooks *server.Hooks) {
	for _, v := range []struct{ uri, name, title, desc string }{
		{CallURI, "call-view", "Call card", "A live card of one phone call: status timeline, destination and its local time, summary, the outcome (who answered, a callback asked for, a request not to be called again), extracted fields, the recording (played from bys://calls/{callId}/recording), transcript. Shown beside place_call, get_call and wait_for_call by hosts that render MCP Apps."},
		{CampaignURI, "campaign-view", "Campaign board", "A live board of a campaign: counts and one row per call with its state or outcome and extracted values, with pause, resume and retry (pause_campaign, resume_campaign, retry_campaign through the host). Shown beside place_calls, wait_for_campaign, cancel_campaign, pause_campaign, resume_campaign and retry_campaign by hosts that render MCP Apps."},
	} {
		res := mcp.NewResource(v.uri, v.name, mcp.WithResourceDescription(v.desc), mcp.WithMIMEType(MIMEType))
		res.Title = v.title
		res.Meta = uiMeta(v.uri)
		s.AddResource(res, read)
	}
	hooks.AddAfterListResources(func(ctx context.Context, _ any, _ *mcp.ListResourcesRequest, r *mcp.ListResourcesResult) {
		if ClientSupports(ctx) {
			return
		}
		r.Resources = slices.DeleteFunc(r.Resources, func(res mcp.Resource) bool {
			return strings.HasPrefix(res.URI, "ui://")
		})
	})
}

// uiMeta is the resource metadata of a view: no external origins at all
// (the hosts' restrictive default policy suffices), a border, and for the
// campaign board the clipboard (its Copy results button; without it the
// view falls back to a selection copy).
func uiMeta(uri string) *mcp.Meta {
	ui := map[string]any{"prefersBorder": true}
	if uri == CampaignURI {
		ui["permissions"] = map[string]any{"clipboardWrite": map[string]any{}}
	}
	return &mcp.Meta{AdditionalFields: map[string]any{"ui": ui}}
}

func read(_ context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
	doc, ok := Document(req.Params.URI)
	if !ok {
		return nil, server.ErrResourceNotFound
	}
	return []mcp.ResourceContents{mcp.TextResourceContents{URI: req.Params.URI, MIMEType: MIMEType, Text: doc, Meta: uiMeta(req.Params.URI).AdditionalFields}}, nil
}

// ClientSupports reports whether the client behind ctx declared the MCP
// Apps extension with our mime type (or with no mime types listed): per
// request for 2026-07-28, from initialize for 2025-11-25 sessions.
func ClientSupports(ctx context.Context) bool {
	var caps *mcp.ClientCapabilities
	if info := server.RequestProtocolInfoFromContext(ctx); info != nil && info.Modern {
		caps = info.ClientCapabilities
	} else if s, ok := server.ClientSessionFromContext(ctx).(server.SessionWithClientInfo); ok {
		c := s.GetClientCapabilities()
		caps = &c
	}
	if caps == nil || caps.Extensions == nil {
		return false
	}
	settings, ok := caps.Extensions[Extension]
	if !ok || settings == nil {
		return false
	}
	m, ok := settings.(map[string]any)
	if !ok {
		return false
	}
	types, listed := m["mimeTypes"].([]any)
	if !listed {
		return true
	}
	for _, t := range types {
		if s, ok := t.(string); ok && strings.EqualFold(strings.ReplaceAll(s, " ", ""), MIMEType) {
			return true
		}
	}
	return false
}

// toolFilter removes _meta.ui from the tools shown to a client without the
// extension, so that it sees the definitions it saw before the views.
func toolFilter(ctx context.Context, list []mcp.Tool) []mcp.Tool {
	if ClientSupports(ctx) {
		return list
	}
	out := make([]mcp.Tool, len(list))
	for i, tool := range list {
		if tool.Meta != nil {
			if _, has := tool.Meta.AdditionalFields["ui"]; has {
				tool.Meta = withoutUI(tool.Meta)
			}
		}
		out[i] = tool
	}
	return out
}

func withoutUI(m *mcp.Meta) *mcp.Meta {
	rest := map[string]any{}
	for k, v := range m.AdditionalFields {
		if k != "ui" {
			rest[k] = v
		}
	}
	if len(rest) == 0 && m.ProgressToken == nil {
		return nil
	}
	return &mcp.Meta{ProgressToken: m.ProgressToken, AdditionalFields: rest}
}
