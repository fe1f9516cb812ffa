package tools

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/byourside/bys-mcp/client"
)

func TestSliceRunesCountsCodePointsAndNeverSplitsASequence(t *testing.T) {
	const mixed = "héllo wörld 👋🏽 日本語" // 1-, 2-, 3- and 4-byte sequences
	tests := []struct {
		name           string
		s              string
		offset, max    int
		want           string
		total, wantNxt int
	}{
		{"everything", "abcdef", 0, -1, "abcdef", 6, -1},
		{"a prefix", "abcdef", 0, 4, "abcd", 6, 4},
		{"the middle", "abcdef", 2, 2, "cd", 6, 4},
		{"the tail exactly", "abcdef", 4, 2, "ef", 6, -1},
		{"more asked than remains", "abcdef", 4, 10, "ef", 6, -1},
		{"an offset at the end", "abcdef", 6, 3, "", 6, -1},
		{"an offset past the end", "abcdef", 60, 3, "", 6, -1},
		{"zero characters", "abcdef", 0, 0, "", 6, 0},
		{"zero characters from the middle", "abcdef", 3, 0, "", 6, 3},
		{"the empty transcript", "", 0, 5, "", 0, -1},
		{"two-byte characters count once", "héllo", 0, 2, "hé", 5, 2},
		{"a cut right after a two-byte character", "héllo", 1, 1, "é", 5, 2},
		{"three-byte characters", "日本語です", 1, 2, "本語", 5, 3},
		{"an emoji with a skin tone is two code points", "👋🏽!", 0, 1, "👋", 3, 1},
		{"the rest after the first of two emoji code points", "👋🏽!", 1, -1, "🏽!", 3, -1},
		{"a mixed text in the middle", mixed, 6, 7, "wörld 👋", utf8.RuneCountInString(mixed), 13},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, total, next := sliceRunes(tt.s, tt.offset, tt.max)
			if got != tt.want || total != tt.total || next != tt.wantNxt {
				t.Errorf("sliceRunes(%q, %d, %d) = %q, %d, %d; want %q, %d, %d", tt.s, tt.offset, tt.max, got, total, next, tt.want, tt.total, tt.wantNxt)
			}
			if !utf8.ValidString(got) {
				t.Errorf("the part %q is not valid UTF-8: a sequence was split", got)
			}
		})
	}
}

// Reading a transcript part after part with the next offsets gives back the
// whole transcript, whatever the part size.
func TestTranscriptPartsJoinToTheWhole(t *testing.T) {
	const s = "AI: Bonjour, c'est l'assistant 🤖. Contact: Très bien — 日本語でもOK 👍🏽."
	for size := 1; size <= utf8.RuneCountInString(s)+1; size++ {
		var b strings.Builder
		offset, parts := 0, 0
		for {
			rec := map[string]any{"transcript": s}
			cut := transcriptWindow{set: true, offset: offset, max: size}.apply(rec)
			b.WriteString(rec["transcript"].(string))
			parts++
			next, _ := rec["transcriptNextOffset"].(int)
			if rec["transcriptNextOffset"] == nil || cut.next < 0 {
				break
			}
			offset = next
			if parts > 1000 {
				t.Fatalf("size %d: no end", size)
			}
		}
		if b.String() != s {
			t.Fatalf("size %d: parts join to %q", size, b.String())
		}
	}
}

func TestTranscriptWindowOnARecord(t *testing.T) {
	intp := func(v int) *int { return &v }
	tests := []struct {
		name           string
		maxChars, off  *int
		transcript     any // string, nil (null) or absent (missing)
		wantTranscript any // string, or "<absent>"
		wantTotal      any // int, or nil for absent
		wantNext       any // int, "<null>" or nil for absent
	}{
		{"no arguments leave the record alone", nil, nil, "hello world", "hello world", nil, nil},
		{"a window that holds everything adds nothing", intp(100), nil, "hello world", "hello world", nil, nil},
		{"a prefix says how long and where to read on", intp(5), nil, "hello world", "hello", 11, 5},
		{"an offset says how long even at the end", nil, intp(6), "hello world", "world", 11, "<null>"},
		{"0 leaves the transcript out and says its length", intp(0), nil, "hello world", "<absent>", 11, 0},
		{"an offset past the end gives an empty part", intp(3), intp(50), "hello world", "", 11, "<null>"},
		{"a null transcript stays null", intp(5), nil, nil, nil, nil, nil},
		{"a record without transcript stays without", intp(5), intp(2), "<missing>", "<absent>", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, terr := readTranscriptWindow(tt.maxChars, tt.off)
			if terr != nil {
				t.Fatal(terr)
			}
			rec := map[string]any{"id": "c1", "status": "completed"}
			if tt.transcript != "<missing>" {
				rec["transcript"] = tt.transcript
			}
			w.apply(rec)
			got, present := rec["transcript"]
			if tt.wantTranscript == "<absent>" {
				if present {
					t.Errorf("transcript = %v, want it left out", got)
				}
			} else if got != tt.wantTranscript {
				t.Errorf("transcript = %#v, want %#v", got, tt.wantTranscript)
			}
			total, hasTotal := rec["transcriptTotalChars"]
			if (tt.wantTotal == nil) == hasTotal || hasTotal && total != tt.wantTotal {
				t.Errorf("transcriptTotalChars = %v (present %v), want %v", total, hasTotal, tt.wantTotal)
			}
			next, hasNext := rec["transcriptNextOffset"]
			switch tt.wantNext {
			case nil:
				if hasNext {
					t.Errorf("transcriptNextOffset = %v, want it absent", next)
				}
			case "<null>":
				if !hasNext || next != nil {
					t.Errorf("transcriptNextOffset = %v (present %v), want null", next, hasNext)
				}
			default:
				if next != tt.wantNext {
					t.Errorf("transcriptNextOffset = %v, want %v", next, tt.wantNext)
				}
			}
		})
	}
}

func TestTranscriptWindowRefusesNegativeArguments(t *testing.T) {
	neg := -1
	for _, tt := range []struct {
		name          string
		maxChars, off *int
	}{{"transcriptMaxChars", &neg, nil}, {"transcriptOffset", nil, &neg}} {
		_, terr := readTranscriptWindow(tt.maxChars, tt.off)
		if terr == nil || terr.Token != "invalid_argument" || !strings.Contains(terr.Hint, `"`+tt.name+`"`) {
			t.Errorf("%s -1: %v, want invalid_argument naming it", tt.name, terr)
		}
	}
}

func TestRenderedTranscriptHonoursTheWindow(t *testing.T) {
	long := strings.Repeat("é", 700) + strings.Repeat("z", 300) // 1000 characters, 1700 bytes
	call := func() *client.Call { s := long; return &client.Call{ID: "c1", Status: "completed", Transcript: &s} }
	tests := []struct {
		name    string
		window  transcriptWindow
		want    []string
		notWant []string
	}{
		{"without a window: an excerpt of 600 characters, the length in characters", transcriptWindow{max: -1},
			[]string{"Transcript:\n" + strings.Repeat("é", 600) + "…", "(1000 characters in all"}, []string{"1700"}},
		{"a small window: its characters and where to read on", transcriptWindow{set: true, offset: 695, max: 10},
			[]string{"characters 695 to 705 of 1000", "ééééézzzzz\n", "transcriptOffset 705"}, []string{"éééééé"}},
		{"the last part: no more to read", transcriptWindow{set: true, offset: 990, max: 50},
			[]string{"characters 990 to 1000 of 1000", "zzzzzzzzzz"}, []string{"transcriptOffset"}},
		{"a large window is still shown short", transcriptWindow{set: true, offset: 0, max: 900},
			[]string{"first 600 characters of the part", "transcriptOffset 900"}, []string{strings.Repeat("é", 601)}},
		{"zero characters: left out, with its length", transcriptWindow{set: true, max: 0},
			[]string{"left out (1000 characters"}, []string{"ééé"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := call()
			rec := map[string]any{"transcript": long}
			text := renderCallCut(c, tt.window.apply(rec), time.Time{})
			for _, s := range tt.want {
				if !strings.Contains(text, s) {
					t.Errorf("text lacks %q:\n%s", s, text)
				}
			}
			for _, s := range tt.notWant {
				if strings.Contains(text, s) {
					t.Errorf("text has %q:\n%s", s, text)
				}
			}
			if !utf8.ValidString(text) {
				t.Error("the text is not valid UTF-8")
			}
		})
	}
}
