package resources

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/byourside/bys-mcp/internal/campaign"
	"github.com/byourside/bys-mcp/internal/safety"
	"github.com/byourside/bys-mcp/schema"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// Campaign URIs.
const (
	CampaignPrefix          = "bys://campaigns/"
	CampaignTemplate        = "bys://campaigns/{campaignId}"
	CampaignResultsTemplate = "bys://campaigns/{campaignId}/results.csv"
)

// CampaignSource is where the campaign resources read campaigns (the
// campaign.Manager).
type CampaignSource interface {
	Get(ctx context.Context, keyFP, id string) (*campaign.Campaign, error)
	Changed(id string) <-chan struct{}
}

// ParseCampaignURI returns the campaign id of a bys://campaigns/ URI and
// whether it names the results CSV.
func ParseCampaignURI(uri string) (id string, csv bool, ok bool) {
	return parseURI(uri, CampaignPrefix, "/results.csv", schema.IsCampaignID)
}

func (r *Resources) registerCampaigns(s *server.MCPServer) {
	if r.deps.Campaigns == nil {
		return
	}
	s.AddResourceTemplate(mcp.NewResourceTemplate(CampaignTemplate, "Campaign",
		mcp.WithTemplateDescription("A campaign started with place_calls, as JSON: the same campaign wait_for_campaign returns (status, counts, one item per call)."),
		mcp.WithTemplateMIMEType("application/json"),
	), r.readCampaign)
	s.AddResourceTemplate(mcp.NewResourceTemplate(CampaignResultsTemplate, "Campaign results",
		mcp.WithTemplateDescription("A campaign's results as CSV: a header row, then one row per call (index, label, to, state, status, callId, summary, then one column per requested field)."),
		mcp.WithTemplateMIMEType("text/csv"),
	), r.readCampaign)
}

func (r *Resources) readCampaign(ctx context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
	id, csv, ok := ParseCampaignURI(req.Params.URI)
	if !ok {
		return nil, fmt.Errorf("%w: %s is not a campaign URI; use bys://campaigns/{campaignId}", server.ErrResourceNotFound, req.Params.URI)
	}
	key := r.key(ctx)
	if key == "" {
		return nil, errors.New("no API key is available for this request: send Authorization: Bearer bys_ak_... or start the server with BYS_API_KEY")
	}
	c, err := r.deps.Campaigns.Get(ctx, safety.KeyFingerprint(key), id)
	if errors.Is(err, campaign.ErrNotFound) {
		return nil, fmt.Errorf("%w: no campaign %s exists for this API key", server.ErrResourceNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("reading campaign %s: the campaign store cannot be reached just now; retry shortly", id)
	}
	if csv {
		return []mcp.ResourceContents{mcp.TextResourceContents{URI: req.Params.URI, MIMEType: "text/csv", Text: string(campaign.CSV(c))}}, nil
	}
	body, err := json.MarshalIndent(c.View(), "", "  ")
	if err != nil {
		return nil, err
	}
	return []mcp.ResourceContents{mcp.TextResourceContents{URI: req.Params.URI, MIMEType: "application/json", Text: string(body)}}, nil
}

// pollCampaign tells a campaign's subscribers whenever it changes, until it
// has ended or the last subscriber leaves. Runners in this process signal
// changes at once; others are seen by reading again every second.
func (w *watcher) pollCampaign(ctx context.Context, wk watchKey, wt *watch, id string) {
	src := w.r.deps.Campaigns
	last := -1
	for {
		changed := src.Changed(id)
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		c, err := src.Get(rctx, wk.keyFP, id)
		cancel()
		if errors.Is(err, campaign.ErrNotFound) {
			w.finish(wk, wt)
			return
		}
		if err == nil {
			if last >= 0 && c.Version != last {
				w.notify(wt)
			}
			last = c.Version
			if c.AllEnded() {
				w.finish(wk, wt)
				return
			}
		}
		t := time.NewTimer(time.Second)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-changed:
		case <-t.C:
		}
		t.Stop()
	}
}
