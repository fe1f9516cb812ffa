package mcpserver

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"strings"
	"sync"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// MaxStdioMessageBytes bounds one JSON-RPC message on stdin. A longer line
// is answered with an error and skipped; the server keeps serving.
const MaxStdioMessageBytes = 4 << 20

// lockedWriter serialises whole-message writes to stdout between mcp-go and
// the filter's own answers.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.w.Write(rewriteNotFound(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// ServeStdio serves newline-delimited JSON-RPC on in and out until in
// closes or ctx ends. Only JSON-RPC messages are written to out.
func (s *Server) ServeStdio(ctx context.Context, in io.Reader, out io.Writer, contextFunc server.StdioContextFunc) error {
	stdout := &lockedWriter{w: out}
	errLog := log.New(lineLogger{s.log.Error}, "mcp-go: ", 0)
	opts := []server.StdioOption{
		server.WithErrorLogger(errLog),
		server.WithWorkerPoolSize(32),
		server.WithQueueSize(256),
	}
	if contextFunc != nil {
		opts = append(opts, server.WithStdioContextFunc(contextFunc))
	}
	stdio := server.NewStdioServer(s.mcp)
	for _, o := range opts {
		o(stdio)
	}
	in = &filteredStdin{srv: s, r: bufio.NewReaderSize(in, 64<<10), stdout: stdout}
	err := stdio.Listen(ctx, in, stdout)
	if errors.Is(err, io.EOF) || errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// filteredStdin hands mcp-go one message at a time from stdin, applying
// the filter and the size bound on the way. It answers refused messages
// itself, on stdout, and works in mcp-go's own reading goroutine (no extra
// hop per message).
type filteredStdin struct {
	srv     *Server
	r       *bufio.Reader
	stdout  io.Writer
	pending []byte
	err     error
}

func (f *filteredStdin) Read(p []byte) (int, error) {
	for len(f.pending) == 0 {
		if f.err != nil {
			return 0, f.err
		}
		line, tooLong, err := readLine(f.r, MaxStdioMessageBytes)
		f.err = err
		switch {
		case tooLong:
			resp := refuse(idFromPrefix(line), mcp.INVALID_REQUEST,
				fmt.Sprintf("message too large: at most %d bytes per JSON-RPC message; shorten the arguments", MaxStdioMessageBytes))
			if _, werr := f.stdout.Write(append(resp.Response, '\n')); werr != nil {
				return 0, werr
			}
		case len(line) > 0:
			v := f.srv.filter.Check(line)
			if v.Response != nil {
				if _, werr := f.stdout.Write(append(v.Response, '\n')); werr != nil {
					return 0, werr
				}
				continue
			}
			f.pending = append(v.Message, '\n')
		}
	}
	n := copy(p, f.pending)
	f.pending = f.pending[n:]
	return n, nil
}

// readLine reads one line without its newline. When the line exceeds max
// bytes, it keeps the first 4 KiB (to find the id), discards the rest, and
// reports tooLong.
func readLine(r *bufio.Reader, max int) (line []byte, tooLong bool, err error) {
	var buf []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if !tooLong {
			if len(buf)+len(chunk) > max {
				tooLong = true
				keep := min(4096, len(buf)+len(chunk))
				buf = append(buf, chunk...)[:keep]
			} else {
				buf = append(buf, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if n := len(buf); !tooLong && n > 0 && buf[n-1] == '\n' {
			buf = buf[:n-1]
			if n := len(buf); n > 0 && buf[n-1] == '\r' {
				buf = buf[:n-1]
			}
		}
		return buf, tooLong, err
	}
}

// idFromPrefix finds the JSON-RPC id at the start of an oversized message so
// that its error can be correlated; nil when none is found. It accepts a
// number or a short string without escapes.
func idFromPrefix(prefix []byte) []byte {
	for rest := prefix; ; {
		i := bytes.Index(rest, []byte(`"id"`))
		if i < 0 {
			return nil
		}
		rest = rest[i+4:]
		v := bytes.TrimLeft(rest, " \t\r\n")
		if len(v) == 0 || v[0] != ':' {
			continue
		}
		v = bytes.TrimLeft(v[1:], " \t\r\n")
		switch {
		case len(v) > 0 && v[0] == '"':
			end := bytes.IndexByte(v[1:], '"')
			if end < 0 || end > 200 || bytes.IndexByte(v[1:end+1], '\\') >= 0 {
				return nil
			}
			return v[:end+2]
		default:
			n := 0
			for n < len(v) && n < 21 && (v[n] == '-' && n == 0 || '0' <= v[n] && v[n] <= '9') {
				n++
			}
			if n == 0 || (n == 1 && v[0] == '-') {
				return nil
			}
			return v[:n]
		}
	}
}

// lineLogger logs each line written to it with print, as logrus's
// WriterLevel does (lines without their line ending, a line longer than
// 64 KiB in 64 KiB pieces), but in the writer's goroutine: no pipe and no
// goroutine to start with the server.
type lineLogger struct{ print func(args ...any) }

func (l lineLogger) Write(p []byte) (int, error) {
	for rest := p; len(rest) > 0; {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		for len(line) > bufio.MaxScanTokenSize {
			l.print(string(line[:bufio.MaxScanTokenSize]))
			line = line[bufio.MaxScanTokenSize:]
		}
		l.print(strings.TrimRight(string(line), "\r\n"))
	}
	return len(p), nil
}
