// Package campaign owns campaigns: many calls placed from one place_calls
// request, at most Concurrency of them ringing at once, each through every
// check of place_call (the Placer), each held to its destination's calling
// hours, redialled on the statuses of RetryOn (no_answer or failed by
// default) when asked, until every call ended,
// the deadline passed or the campaign was cancelled. Campaigns, their items
// and every placed call id live in the state store (state.Records), so that a
// restarted process, or another replica sharing Redis, continues a campaign
// whose runner stopped, and nothing is dialled twice.
package campaign

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/byourside/bys-mcp/internal/outcome"
	"github.com/byourside/bys-mcp/schema"
)

// Campaign is a campaign as it is stored. The Manager's runner is its only
// writer while it runs.
type Campaign struct {
	ID        string    `json:"id"`
	KeyFP     string    `json:"keyFp"`
	SealedKey string    `json:"sealedKey"` // the API key, sealed with the store's secret
	Name      string    `json:"name,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	Deadline  time.Time `json:"deadline"`
	// Stored is when Create stored the campaign, to the nanosecond (it
	// orders List among campaigns created in the same second).
	Stored time.Time `json:"stored,omitzero"`

	Concurrency int           `json:"concurrency"`
	Retries     int           `json:"retries"`
	RetryAfter  time.Duration `json:"retryAfter"`
	// RetryOn lists the call statuses that Retries redials; empty (a
	// campaign stored before it existed) is schema.DefaultRetryOn.
	RetryOn    []string `json:"retryOn,omitempty"`
	FieldNames []string `json:"fieldNames,omitempty"` // columns of the results
	// NoCallbacks turns callbacks off: an item whose person asked to be
	// called back is not dialled again on its own (place_calls' callbacks:
	// false, and place_call's later calls). The zero value, and campaigns
	// stored before it existed, call back.
	NoCallbacks bool `json:"noCallbacks,omitempty"`

	Cancelled bool `json:"cancelled,omitempty"`
	// Paused holds the items not yet dialled (pause_campaign) until it is
	// resumed; Retried lists the retry requests (retry_campaign) already
	// applied, newest last, so that none is applied twice.
	Paused  bool     `json:"paused,omitempty"`
	Retried []string `json:"retried,omitempty"`

	Status string  `json:"status"`
	Items  []*Item `json:"items"`
	// Version counts saves, so that readers can tell a newer state.
	Version int `json:"version"`
}

// Item is one call of a campaign.
type Item struct {
	Index     int                `json:"index"`
	Label     string             `json:"label,omitempty"`
	To        string             `json:"to"`
	Objective string             `json:"objective"`
	Context   string             `json:"context,omitempty"`
	Fields    []schema.FieldSpec `json:"fields,omitempty"`
	Language  string             `json:"language,omitempty"`
	Voice     string             `json:"voice,omitempty"`
	// Voicemail and VoicemailMessage say what the call does on reaching
	// voicemail (place_call's voicemail arguments).
	Voicemail        string `json:"voicemail,omitempty"`
	VoicemailMessage string `json:"voicemailMessage,omitempty"`
	// WebhookURL, CallerID and AllowDuplicate are place_call's arguments
	// of a later call (place_call with notBefore).
	WebhookURL     string `json:"webhookUrl,omitempty"`
	CallerID       string `json:"callerId,omitempty"`
	AllowDuplicate bool   `json:"allowDuplicate,omitempty"`

	State     string           `json:"state"`
	CallID    string           `json:"callId,omitempty"`
	Attempts  int              `json:"attempts"`
	NotBefore time.Time        `json:"notBefore,omitzero"`
	Status    string           `json:"status,omitempty"`
	Summary   string           `json:"summary,omitempty"`
	Extracted map[string]any   `json:"extracted,omitempty"`
	Outcome   *outcome.Outcome `json:"outcome,omitempty"`
	Error     string           `json:"error,omitempty"`
	Hint      string           `json:"hint,omitempty"`
	// Calls lists every call id placed for the item, oldest first (retries
	// add one each).
	Calls []string `json:"calls,omitempty"`
	// CallbackAt is set while the item waits to call back a person who
	// asked for it (the instant they named); Callbacks counts the
	// callbacks scheduled for the item.
	CallbackAt time.Time `json:"callbackAt,omitzero"`
	Callbacks  int       `json:"callbacks,omitempty"`
}

// maxCallbacks bounds the callbacks of one item: a person who asks again
// and again to be called later is not called on for ever.
const maxCallbacks = 3

// Ended reports whether the item can change no more.
func (it *Item) Ended() bool {
	switch it.State {
	case schema.ItemEnded, schema.ItemRefused, schema.ItemCancelled, schema.ItemExpired:
		return true
	}
	return false
}

// waiting reports whether the item is still to be dialled, once its
// notBefore has passed.
func (it *Item) waiting() bool {
	return it.State == schema.ItemPending || it.State == schema.ItemScheduled
}

// undialled reports whether the item is still to be dialled, now or after
// the campaign is resumed.
func (it *Item) undialled() bool {
	return it.waiting() || it.State == schema.ItemPaused
}

// hold makes the campaign's items not yet dialled paused while it is
// paused, and waiting again (scheduled when their notBefore is ahead) once
// it is not; true when an item changed.
func (c *Campaign) hold(now time.Time) bool {
	changed := false
	for _, it := range c.Items {
		switch {
		case c.Paused && it.waiting():
			it.State = schema.ItemPaused
			changed = true
		case !c.Paused && it.State == schema.ItemPaused:
			it.State = schema.ItemPending
			if it.NotBefore.After(now) {
				it.State = schema.ItemScheduled
			}
			changed = true
		}
	}
	return changed
}

// maxRetried bounds Campaign.Retried.
const maxRetried = 32

// redial makes the items that ended with one of statuses wait to be
// dialled again (paused while the campaign is), and notes the request id;
// it returns how many items it changed. A request already applied changes
// nothing.
func (c *Campaign) redial(reqID string, statuses []string, now time.Time) int {
	if slices.Contains(c.Retried, reqID) {
		return 0
	}
	n := 0
	for _, it := range c.Items {
		if it.State != schema.ItemEnded || !slices.Contains(statuses, it.Status) {
			continue
		}
		it.State, it.NotBefore, it.CallbackAt = schema.ItemPending, time.Time{}, time.Time{}
		it.Status, it.Summary, it.Extracted, it.Error, it.Hint = "", "", nil, "", ""
		n++
	}
	c.Retried = append(c.Retried, reqID)
	if len(c.Retried) > maxRetried {
		c.Retried = slices.Clone(c.Retried[len(c.Retried)-maxRetried:])
	}
	c.hold(now)
	return n
}

// Redialable counts the items that ended with one of statuses.
func (c *Campaign) Redialable(statuses []string) int {
	n := 0
	for _, it := range c.Items {
		if it.State == schema.ItemEnded && slices.Contains(statuses, it.Status) {
			n++
		}
	}
	return n
}

// active reports whether the item holds one of the campaign's lines.
func (it *Item) active() bool {
	return it.State == schema.ItemDialing || it.State == schema.ItemInCall
}

// AllEnded reports whether every item has ended.
func (c *Campaign) AllEnded() bool {
	for _, it := range c.Items {
		if !it.Ended() {
			return false
		}
	}
	return true
}

// EndedCount is the number of items that have ended (wait progress).
func (c *Campaign) EndedCount() int {
	n := 0
	for _, it := range c.Items {
		if it.Ended() {
			n++
		}
	}
	return n
}

// redials reports whether an item whose call ended with status is redialled
// (while retries remain).
func (c *Campaign) redials(status string) bool {
	if len(c.RetryOn) == 0 {
		return slices.Contains(schema.DefaultRetryOn, status)
	}
	return slices.Contains(c.RetryOn, status)
}

// settle sets the campaign's status from its items.
func (c *Campaign) settle() {
	switch {
	case c.Cancelled:
		c.Status = schema.CampaignCancelled
	case !c.AllEnded() && c.Paused:
		c.Status = schema.CampaignPaused
	case !c.AllEnded():
		c.Status = schema.CampaignRunning
	case slices.ContainsFunc(c.Items, func(it *Item) bool { return it.State == schema.ItemExpired }):
		c.Status = schema.CampaignExpired
	default:
		c.Status = schema.CampaignCompleted
	}
}

// Counts maps every item state to its number of items.
func (c *Campaign) Counts() map[string]int {
	m := make(map[string]int, len(schema.ItemStates))
	for _, s := range schema.ItemStates {
		m[s] = 0
	}
	for _, it := range c.Items {
		m[it.State]++
	}
	return m
}

// View is the campaign as the tools and resources show it.
func (c *Campaign) View() schema.CampaignOutput {
	out := schema.CampaignOutput{
		CampaignID: c.ID,
		Name:       c.Name,
		Status:     c.Status,
		CreatedAt:  c.CreatedAt.UTC().Format(time.RFC3339),
		Deadline:   c.Deadline.UTC().Format(time.RFC3339),
		Total:      len(c.Items),
		Counts:     c.Counts(),
		Items:      make([]schema.CampaignItem, len(c.Items)),
	}
	for i, it := range c.Items {
		v := schema.CampaignItem{
			Index: it.Index, Label: it.Label, To: it.To, State: it.State, CallID: it.CallID,
			Attempts: it.Attempts, Status: it.Status, Summary: it.Summary, Extracted: it.Extracted, Outcome: it.Outcome,
			Error: it.Error, Hint: it.Hint,
		}
		if !it.NotBefore.IsZero() && it.undialled() {
			v.NotBefore = it.NotBefore.UTC().Format(time.RFC3339)
		}
		out.Items[i] = v
	}
	return out
}

func (c *Campaign) clone() *Campaign {
	raw, err := json.Marshal(c)
	if err != nil {
		panic(err)
	}
	var out Campaign
	if err := json.Unmarshal(raw, &out); err != nil {
		panic(err)
	}
	return &out
}
