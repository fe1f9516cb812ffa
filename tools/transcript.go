package tools

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/byourside/bys-mcp/client"
)

// transcriptWindow is the part of a call's transcript that get_call and
// wait_for_call hand back (transcriptMaxChars, transcriptOffset), counted in
// Unicode code points.
type transcriptWindow struct {
	set    bool // either argument was given: the record is windowed
	offset int
	max    int // -1: to the end
}

// readTranscriptWindow checks the two arguments (nil = left out).
func readTranscriptWindow(maxChars, offset *int) (transcriptWindow, *toolError) {
	w := transcriptWindow{max: -1}
	if maxChars != nil {
		if *maxChars < 0 {
			return w, invalidArgument("argument \"transcriptMaxChars\" must be 0 or more characters (got %d): 0 leaves the transcript out, leave it out for the whole transcript", *maxChars)
		}
		w.set, w.max = true, *maxChars
	}
	if offset != nil {
		if *offset < 0 {
			return w, invalidArgument("argument \"transcriptOffset\" must be 0 or more characters (got %d): pass the transcriptNextOffset of an earlier result, or leave it out to start at the beginning", *offset)
		}
		w.set, w.offset = true, *offset
	}
	return w, nil
}

// transcriptCut is what windowing did to one record's transcript.
type transcriptCut struct {
	part       string // the characters handed back
	start, end int    // [start, end) in characters
	total      int    // the whole transcript's length in characters
	next       int    // where to read on; -1 when nothing remains
	omitted    bool   // transcriptMaxChars 0: the transcript was left out
}

// cut reports whether the part handed back is not the whole transcript.
func (c *transcriptCut) cut() bool { return c.start > 0 || c.next >= 0 }

// sliceRunes returns the code points [offset, offset+max) of s (max -1: to
// the end), never splitting a UTF-8 sequence, with the length of s in code
// points and the offset that reads on (-1 when nothing remains).
func sliceRunes(s string, offset, max int) (part string, total, next int) {
	total = utf8.RuneCountInString(s)
	start := min(offset, total)
	end := total
	if max >= 0 && max < total-start {
		end = start + max
	}
	next = -1
	if end < total {
		next = end
	}
	return s[byteIndex(s, start):byteIndex(s, end)], total, next
}

// byteIndex is the byte offset of the n-th code point of s (len(s) past the
// end).
func byteIndex(s string, n int) int {
	if n <= 0 {
		return 0
	}
	i := 0
	for j := range s {
		if i == n {
			return j
		}
		i++
	}
	return len(s)
}

// apply windows the transcript of rec (a call record as a map, changed in
// place): the part replaces it (left out for transcriptMaxChars 0), and when
// it was cut, transcriptTotalChars and transcriptNextOffset are added. It
// returns nil when the window was not asked for or the record has no
// transcript.
func (w transcriptWindow) apply(rec map[string]any) *transcriptCut {
	if !w.set {
		return nil
	}
	full, ok := rec["transcript"].(string)
	if !ok {
		return nil // null (not yet) or absent: nothing to cut
	}
	part, total, next := sliceRunes(full, w.offset, w.max)
	c := &transcriptCut{part: part, start: min(w.offset, total), total: total, next: next, omitted: w.max == 0}
	c.end = c.start + utf8.RuneCountInString(part)
	if c.omitted {
		delete(rec, "transcript")
	} else {
		rec["transcript"] = part
	}
	if c.cut() {
		rec["transcriptTotalChars"] = total
		if next >= 0 {
			rec["transcriptNextOffset"] = next
		} else {
			rec["transcriptNextOffset"] = nil
		}
	}
	return c
}

// transcriptExcerpt bounds the transcript shown in a result's text, in
// characters.
const transcriptExcerpt = 600

// writeTranscript adds the transcript to a call's text rendering: at most
// transcriptExcerpt characters of it, or of the window asked for (cut, nil
// when none), saying where the rest is.
func writeTranscript(b *strings.Builder, c *client.Call, cut *transcriptCut) {
	if cut == nil {
		if c.Transcript == nil || *c.Transcript == "" {
			return
		}
		// The text stays short; the whole transcript is in the structured
		// record and in the bys://calls/{id}/transcript resource.
		t, total, next := sliceRunes(*c.Transcript, 0, transcriptExcerpt)
		if next >= 0 {
			t += fmt.Sprintf("…\n(%d characters in all: the full transcript is in the record's transcript field and in the resource bys://calls/%s/transcript)", total, c.ID)
		}
		fmt.Fprintf(b, "Transcript:\n%s\n", t)
		return
	}
	if cut.omitted {
		fmt.Fprintf(b, "Transcript: left out (%d characters; pass transcriptMaxChars above 0 to read it)\n", cut.total)
		return
	}
	if !cut.cut() {
		if cut.part == "" {
			return
		}
		fmt.Fprintf(b, "Transcript:\n")
	} else {
		fmt.Fprintf(b, "Transcript, characters %d to %d of %d:\n", cut.start, cut.end, cut.total)
	}
	t, _, more := sliceRunes(cut.part, 0, transcriptExcerpt)
	if more >= 0 {
		t += fmt.Sprintf("…\n(this text shows the first %d characters of the part asked for; all of it is in the record's transcript field)", transcriptExcerpt)
	}
	b.WriteString(t)
	b.WriteByte('\n')
	if cut.next >= 0 {
		fmt.Fprintf(b, "(more remains: call again with transcriptOffset %d to read on)\n", cut.next)
	}
}
