package resources

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/byourside/bys-mcp/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// RecordingTemplate is a call's recording, as a blob of the API's audio
// media type.
const RecordingTemplate = "bys://calls/{callId}/recording"

// RecordingReadTimeout bounds reading one recording from the API.
const RecordingReadTimeout = 60 * time.Second

// ParseRecordingURI returns the call id of a bys://calls/{callId}/recording
// URI.
func ParseRecordingURI(uri string) (callID string, ok bool) {
	rest, found := strings.CutPrefix(uri, Prefix)
	if !found {
		return "", false
	}
	id, cut := strings.CutSuffix(rest, "/recording")
	if !cut || id == "" || strings.ContainsAny(id, "/?#") {
		return "", false
	}
	return id, true
}

func (r *Resources) registerRecording(s *server.MCPServer) {
	// No mimeType on the template: each recording has the audio type the
	// API gives it.
	s.AddResourceTemplate(mcp.NewResourceTemplate(RecordingTemplate, "Call recording",
		mcp.WithTemplateDescription(fmt.Sprintf("The audio recording of an ended call (completed or voicemail), as a base64 blob with the API's audio media type, fetched with the call's key, which never leaves the server. At most %d MiB; a longer recording is streamed by the recordingLink of get_call's result when the server has a public URL.", client.MaxRecordingBytes>>20)),
	), r.readRecording)
}

func (r *Resources) readRecording(ctx context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
	uri := req.Params.URI
	id, ok := ParseRecordingURI(uri)
	if !ok {
		return nil, fmt.Errorf("%w: %s is not a recording URI; use bys://calls/{callId}/recording", server.ErrResourceNotFound, uri)
	}
	c, err := r.clientFor(ctx)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, RecordingReadTimeout)
	defer cancel()
	rec, err := c.GetRecording(ctx, id, &client.RecordingOptions{MaxBytes: client.MaxRecordingBytes})
	var data []byte
	if err == nil {
		data, err = io.ReadAll(rec.Body)
		rec.Body.Close()
	}
	if err != nil {
		return nil, r.recordingError(id, err)
	}
	return []mcp.ResourceContents{mcp.BlobResourceContents{URI: uri, MIMEType: rec.ContentType, Blob: base64.StdEncoding.EncodeToString(data)}}, nil
}

// recordingError says what went wrong reading call id's recording, and
// what to do instead.
func (r *Resources) recordingError(id string, err error) error {
	var none *client.NoRecordingError
	switch {
	case errors.As(err, &none) && !client.IsTerminalStatus(none.Status):
		return fmt.Errorf("%w: call %s has no recording yet: it is %s; the recording exists once the call has ended (wait_for_call follows it)", server.ErrResourceNotFound, id, none.Status)
	case errors.As(err, &none):
		return fmt.Errorf("%w: call %s ended %s and has no recording (answered calls, completed or voicemail, are recorded)", server.ErrResourceNotFound, id, none.Status)
	case client.IsNotFound(err):
		return fmt.Errorf("%w: no call %s with a recording exists for this API key (list_calls shows recent calls)", server.ErrResourceNotFound, id)
	case client.IsRecordingTooLarge(err):
		instead := "get_call's result then carries a recordingLink that streams it, when the server runs with --public-url"
		if r.deps.RecordingLinks {
			instead = "open the recordingLink of get_call's result instead, which streams it"
		}
		return fmt.Errorf("the recording of call %s is larger than %d MiB, the most this resource returns; %s", id, client.MaxRecordingBytes>>20, instead)
	case errors.Is(err, client.ErrForeignRecordingURL):
		return fmt.Errorf("the API gave call %s a recording URL on another origin than the API's, so the key was not sent there", id)
	}
	return fmt.Errorf("reading the recording of call %s: %s", id, describe(err))
}
