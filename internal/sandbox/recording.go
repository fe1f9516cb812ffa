package sandbox

import (
	"bytes"
	"encoding/binary"
	"hash/fnv"
	"math"
	"net/http"
	"strings"
	"time"
)

// RecordingContentType is the media type of the sandbox's recordings.
const RecordingContentType = "audio/wav"

// Recording format: 1.5 s of 16-bit mono PCM at 8 kHz (telephone quality),
// 24,044 bytes with its header.
const (
	recordingRate     = 8000
	recordingSamples  = recordingRate * 3 / 2
	recordingBits     = 16
	recordingChannels = 1
)

const recordingSuffix = "/recording"

// Recording returns the recording the sandbox serves for a call: a WAV file
// of a tone whose pitch is chosen by the call id (so two calls' recordings
// differ, and one call's is always the same), fading in and out. A
// voicemail's is a shorter beep followed by silence, as a greeting's tone.
func Recording(callID string, voicemail bool) []byte {
	h := fnv.New32a()
	h.Write([]byte(callID))
	freq := 330 + float64(h.Sum32()%12)*40 // 330 Hz to 770 Hz
	dataLen := recordingSamples * recordingChannels * recordingBits / 8
	var b bytes.Buffer
	b.Grow(44 + dataLen)
	w := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	w(uint32(36 + dataLen))
	b.WriteString("WAVEfmt ")
	w(uint32(16)) // fmt chunk size
	w(uint16(1))  // PCM
	w(uint16(recordingChannels))
	w(uint32(recordingRate))
	w(uint32(recordingRate * recordingChannels * recordingBits / 8)) // byte rate
	w(uint16(recordingChannels * recordingBits / 8))                 // block align
	w(uint16(recordingBits))
	b.WriteString("data")
	w(uint32(dataLen))
	sound := recordingSamples
	if voicemail {
		sound = recordingRate / 2
	}
	const fade = recordingRate / 50 // 20 ms
	for i := range recordingSamples {
		var v float64
		if i < sound {
			env := min(1, float64(i)/fade, float64(sound-i)/fade)
			v = 0.3 * env * math.Sin(2*math.Pi*freq*float64(i)/recordingRate)
		}
		w(int16(math.Round(v * math.MaxInt16)))
	}
	return b.Bytes()
}

// recordingID returns the call id of a recording path
// (/v1/agent/calls/{id}/recording).
func recordingID(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, callsPath+"/")
	if !ok {
		return "", false
	}
	id, ok := strings.CutSuffix(rest, recordingSuffix)
	if !ok || id == "" || strings.Contains(id, "/") {
		return "", false
	}
	return id, true
}

// serveRecording answers GET (and HEAD) /v1/agent/calls/{id}/recording for
// key: the call's WAV once it has ended with a recording (completed or
// voicemail), with Range support; 404 not_found before that, for calls of
// other keys and for calls that have none.
func (s *Sandbox) serveRecording(w http.ResponseWriter, r *http.Request, key, id string) {
	s.mu.Lock()
	now := s.opts.Clock.Now()
	var voicemail, found bool
	if t := s.tenantFor(key, false); t != nil {
		if c, ok := t.byID[id]; ok && c.hasRecord && !c.endAt.IsZero() && !now.Before(c.endAt) {
			found, voicemail = true, c.final == "voicemail"
		}
	}
	s.mu.Unlock()
	if !found {
		writeError(w, http.StatusNotFound, "not_found")
		return
	}
	w.Header().Set("Content-Type", RecordingContentType)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("ETag", `"`+id+`"`)
	// No modification time: the ETag is the validator (If-Range too).
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(Recording(id, voicemail)))
}
