package campaign

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/byourside/bys-mcp/schema"
)

// Table renders the campaign as text an agent can read back to the user:
// one line of totals, then a Markdown table with one row per item (label or
// number, state or outcome, then one column per requested field).
func Table(c *Campaign) string {
	var b strings.Builder
	name := c.ID
	if c.Name != "" {
		name = fmt.Sprintf("%q (%s)", c.Name, c.ID)
	}
	fmt.Fprintf(&b, "Campaign %s: %s, %d of %d calls ended", name, c.Status, c.EndedCount(), len(c.Items))
	var parts []string
	counts := c.Counts()
	for _, s := range schema.ItemStates {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	fmt.Fprintf(&b, " (%s); deadline %s.\n\n", strings.Join(parts, ", "), c.Deadline.UTC().Format(time.RFC3339))
	header := append([]string{"#", "call", "outcome"}, c.FieldNames...)
	header = append(header, "summary")
	row(&b, header)
	sep := make([]string, len(header))
	for i := range sep {
		sep[i] = "---"
	}
	row(&b, sep)
	for _, it := range c.Items {
		who := it.To
		if it.Label != "" {
			who = it.Label + " (" + it.To + ")"
		}
		cells := []string{strconv.Itoa(it.Index), who, stateInWords(it)}
		for _, f := range c.FieldNames {
			cells = append(cells, value(it.Extracted, f))
		}
		cells = append(cells, it.Summary)
		row(&b, cells)
	}
	return b.String()
}

// stateInWords is an item's state in words: the call's status once ended, the
// refusal's token, or when a scheduled call may dial.
func stateInWords(it *Item) string {
	switch it.State {
	case schema.ItemEnded:
		return it.Status
	case schema.ItemRefused:
		return "refused: " + it.Error
	case schema.ItemScheduled:
		if !it.CallbackAt.IsZero() && !it.NotBefore.IsZero() {
			return "callback at " + it.NotBefore.UTC().Format(time.RFC3339)
		}
		if !it.NotBefore.IsZero() {
			return "scheduled for " + it.NotBefore.UTC().Format(time.RFC3339)
		}
	case schema.ItemInCall:
		if it.Status != "" {
			return "in call (" + it.Status + ")"
		}
		return "in call"
	}
	return it.State
}

func value(m map[string]any, name string) string {
	v, ok := m[name]
	if !ok || v == nil {
		return ""
	}
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}

func row(b *strings.Builder, cells []string) {
	b.WriteString("|")
	for _, c := range cells {
		c = strings.ReplaceAll(strings.ReplaceAll(c, "\n", " "), "|", "\\|")
		b.WriteString(" " + c + " |")
	}
	b.WriteString("\n")
}

// CSV renders the results as text/csv: a header row, then one row per item:
// index, label, to, state, status, callId, summary, then one column per
// requested field.
func CSV(c *Campaign) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	header := append([]string{"index", "label", "to", "state", "status", "callId", "summary"}, c.FieldNames...)
	_ = w.Write(header)
	for _, it := range c.Items {
		rec := []string{strconv.Itoa(it.Index), it.Label, it.To, it.State, it.Status, it.CallID, it.Summary}
		for _, f := range c.FieldNames {
			rec = append(rec, value(it.Extracted, f))
		}
		_ = w.Write(rec)
	}
	w.Flush()
	return buf.Bytes()
}
