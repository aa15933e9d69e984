package p2p

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// Request/response protocol names (the SSZ containers belong to the node
// packages; p2p only frames bytes).
const (
	// StatusProtocol exchanges chain heads on connect (one chunk).
	StatusProtocol = "status"
	// BeaconBlocksByRangeProtocol streams beacon blocks of a slot range.
	BeaconBlocksByRangeProtocol = "beacon_blocks_by_range"
	// BeaconBlocksByRootProtocol streams beacon blocks by root.
	BeaconBlocksByRootProtocol = "beacon_blocks_by_root"
	// ShardBlocksByRangeProtocol streams shard blocks of a slot range.
	ShardBlocksByRangeProtocol = "shard_blocks_by_range"
	// GoodbyeProtocol announces a disconnect with a reason (no response).
	GoodbyeProtocol = "goodbye"
)

// ProtocolID returns the libp2p protocol ID of a request/response protocol
// name: /shardlab/req/<name>/1/ssz_snappy.
func ProtocolID(name string) protocol.ID {
	return protocol.ID("/shardlab/req/" + name + "/1/ssz_snappy")
}

// ResponseCode is the result byte in front of every response chunk.
type ResponseCode uint8

// Response codes. Codes other than these are passed through as they are.
const (
	CodeSuccess             ResponseCode = 0
	CodeInvalidRequest      ResponseCode = 1
	CodeServerError         ResponseCode = 2
	CodeResourceUnavailable ResponseCode = 3
)

func (c ResponseCode) String() string {
	switch c {
	case CodeSuccess:
		return "success"
	case CodeInvalidRequest:
		return "invalid request"
	case CodeServerError:
		return "server error"
	case CodeResourceUnavailable:
		return "resource unavailable"
	default:
		return fmt.Sprintf("code %d", uint8(c))
	}
}

// ResponseError is an error chunk: returned by Request when the peer sent
// one, and accepted from a RequestHandler to choose the code sent.
type ResponseError struct {
	Code ResponseCode
	Msg  string
}

func (e *ResponseError) Error() string {
	return fmt.Sprintf("response error %d (%s): %s", uint8(e.Code), e.Code, e.Msg)
}

// ResponseWriter writes the response of one request. A response is zero or
// more success chunks, optionally ended by one error chunk.
type ResponseWriter interface {
	// WriteChunk writes one success chunk (SSZ bytes, compressed here).
	WriteChunk(ssz []byte) error
	// WriteError writes an error chunk and ends the response; code must not
	// be CodeSuccess. msg is truncated to MaxErrorMessageSize bytes.
	WriteError(code ResponseCode, msg string) error
}

// RequestHandler serves one request. req is the decompressed request SSZ.
// Returning an error after writing nothing sends an error chunk: its code
// comes from a *ResponseError in the chain, else CodeServerError. ctx ends
// after ReqRespConfig.HandlerTimeout or when the node closes.
type RequestHandler func(ctx context.Context, from peer.ID, req []byte, w ResponseWriter) error

// Handle registers h for the protocol name, replacing an earlier handler.
func (n *Node) Handle(name string, h RequestHandler) error {
	if err := checkName(name); err != nil {
		return fmt.Errorf("handle %q: %w", name, err)
	}
	if h == nil {
		return fmt.Errorf("handle %s: %w: nil handler", name, ErrInvalidArgument)
	}
	pid := ProtocolID(name)
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return fmt.Errorf("handle %s: %w", name, ErrClosed)
	}
	n.protocols[pid] = struct{}{}
	n.host.SetStreamHandler(pid, func(s network.Stream) { n.serve(name, s, h) })
	return nil
}

// streamTimer enforces deadlines on a stream: it sets the stream deadline
// (real transports) and resets the stream when a timer fires (mocknet
// streams ignore deadlines). fired tells a timeout from other failures.
type streamTimer struct {
	s     network.Stream
	t     *time.Timer
	fired atomic.Bool
}

func newStreamTimer(s network.Stream) *streamTimer {
	st := &streamTimer{s: s}
	st.t = time.AfterFunc(time.Hour, func() {
		st.fired.Store(true)
		_ = s.Reset()
	})
	st.t.Stop()
	return st
}

// arm (re)starts the deadline d from now.
func (st *streamTimer) arm(d time.Duration) {
	_ = st.s.SetDeadline(time.Now().Add(d))
	st.t.Reset(d)
}

func (st *streamTimer) stop() { st.t.Stop() }

// wrap classifies an I/O error: a deadline becomes ErrTimeout.
func (st *streamTimer) wrap(err error) error {
	if err == nil {
		return nil
	}
	var ne net.Error
	if st.fired.Load() || errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return fmt.Errorf("%w: %w", ErrTimeout, err)
	}
	return err
}

// Request sends req to peer to on protocol name and reads at most maxChunks
// response chunks (bounded by MaxResponseChunks). It returns the chunks'
// SSZ payloads; when the peer ends the response with an error chunk, the
// chunks before it are returned with an error wrapping *ResponseError. It
// never waits past ctx, TTFBTimeout for the first byte, or RespTimeout per
// chunk (ErrTimeout). After maxChunks chunks it stops reading.
func (n *Node) Request(ctx context.Context, to peer.ID, name string, req []byte, maxChunks int) ([][]byte, error) {
	chunks, err := n.request(ctx, to, name, req, maxChunks)
	result := "ok"
	var re *ResponseError
	switch {
	case errors.As(err, &re):
		result = "error_response"
	case errors.Is(err, ErrTimeout):
		result = "timeout"
	case err != nil:
		result = "failed"
	}
	n.metrics.requests.WithLabelValues(name, "outbound", result).Inc()
	if err != nil {
		return chunks, fmt.Errorf("request %s from %s: %w", name, to, err)
	}
	return chunks, nil
}

func (n *Node) request(ctx context.Context, to peer.ID, name string, req []byte, maxChunks int) ([][]byte, error) {
	rc := n.cfg.ReqResp
	if maxChunks < 1 || maxChunks > rc.MaxResponseChunks {
		return nil, fmt.Errorf("%w: max chunks %d not in [1, %d]", ErrInvalidArgument, maxChunks, rc.MaxResponseChunks)
	}
	if len(req) > rc.MaxRequestSize {
		return nil, fmt.Errorf("%w: request %d bytes > %d", ErrMessageTooLarge, len(req), rc.MaxRequestSize)
	}
	if err := checkName(name); err != nil {
		return nil, err
	}
	if n.ctx.Err() != nil {
		return nil, ErrClosed
	}
	// Opening the stream includes dialing and protocol negotiation: bound it
	// by TTFB too, so that an unresponsive peer cannot hold us.
	openCtx, cancelOpen := context.WithTimeout(ctx, rc.TTFBTimeout)
	s, err := n.host.NewStream(openCtx, to, ProtocolID(name))
	cancelOpen()
	if err != nil {
		if openCtx.Err() != nil && ctx.Err() == nil {
			return nil, fmt.Errorf("%w: open stream: %w", ErrTimeout, err)
		}
		return nil, fmt.Errorf("open stream: %w", err)
	}
	st := newStreamTimer(s)
	defer st.stop()
	stopCtx := context.AfterFunc(ctx, func() { _ = s.Reset() })
	defer stopCtx()
	done := false
	defer func() {
		if done {
			_ = s.Close()
		} else {
			_ = s.Reset()
		}
	}()

	st.arm(rc.TTFBTimeout)
	if _, err := s.Write(appendPayload(nil, req)); err != nil {
		return nil, n.streamErr(ctx, st, "write request", err)
	}
	// Close our write side without waiting: on mocknet CloseWrite blocks
	// until the server has read everything, and a server that answers
	// early (busy, invalid request) does not. Closing or resetting the
	// stream below ends this goroutine.
	go func() { _ = s.CloseWrite() }()

	r := bufio.NewReader(s)
	var chunks [][]byte
	for len(chunks) < maxChunks {
		// The TTFB deadline armed above covers the first result byte; each
		// chunk then gets RespTimeout, and so does the wait for the next.
		payload, err := readChunk(r, rc, func() { st.arm(rc.RespTimeout) })
		if errors.Is(err, io.EOF) {
			break // clean end of the response
		}
		var re *ResponseError
		if errors.As(err, &re) {
			done = true
			return chunks, err
		}
		if err != nil {
			return chunks, n.streamErr(ctx, st, "read response", err)
		}
		chunks = append(chunks, payload)
		st.arm(rc.RespTimeout)
	}
	done = true
	return chunks, nil
}

// readChunk reads one response chunk and returns its SSZ payload. It returns
// a bare io.EOF at a clean end of stream (before a result byte), a
// *ResponseError for an error chunk, and ErrInvalidEncoding or
// ErrMessageTooLarge for malformed chunks. gotCode runs after the result
// byte arrived.
func readChunk(r *bufio.Reader, rc ReqRespConfig, gotCode func()) ([]byte, error) {
	code, err := r.ReadByte()
	if err != nil {
		return nil, err
	}
	if gotCode != nil {
		gotCode()
	}
	if ResponseCode(code) != CodeSuccess {
		msg, err := readPayload(r, rc.MaxErrorMessageSize)
		if err != nil {
			return nil, fmt.Errorf("read error message: %w", eofIsTruncation(err))
		}
		return nil, &ResponseError{Code: ResponseCode(code), Msg: sanitize(msg)}
	}
	payload, err := readPayload(r, rc.MaxChunkSize)
	if err != nil {
		return nil, fmt.Errorf("read chunk: %w", eofIsTruncation(err))
	}
	return payload, nil
}

// streamErr classifies a failed stream operation.
func (n *Node) streamErr(ctx context.Context, st *streamTimer, op string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", op, ctx.Err())
	}
	return fmt.Errorf("%s: %w", op, st.wrap(err))
}

// eofIsTruncation turns an EOF in the middle of a chunk into ErrInvalidEncoding.
func eofIsTruncation(err error) error {
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: truncated chunk: %w", ErrInvalidEncoding, io.ErrUnexpectedEOF)
	}
	return err
}

// sanitize makes an error message from a peer safe to log.
func sanitize(b []byte) string {
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// serve handles one inbound request stream.
func (n *Node) serve(name string, s network.Stream, h RequestHandler) {
	rc := n.cfg.ReqResp
	from := s.Conn().RemotePeer()
	st := newStreamTimer(s)
	defer st.stop()
	w := &responseWriter{n: n, s: s, st: st, max: rc.MaxResponseChunks}
	result := "ok"
	defer func() { n.metrics.requests.WithLabelValues(name, "inbound", result).Inc() }()

	select {
	case n.inbound <- struct{}{}:
		defer func() { <-n.inbound }()
	default:
		result = "busy"
		_ = w.WriteError(CodeResourceUnavailable, "too many concurrent requests")
		w.finish()
		return
	}

	st.arm(rc.TTFBTimeout)
	req, err := readPayload(bufio.NewReader(s), rc.MaxRequestSize)
	if err != nil {
		err = st.wrap(eofIsTruncation(err))
		n.log.Debug("bad request", "protocol", name, "peer", from, "err", err)
		if errors.Is(err, ErrTimeout) {
			result = "timeout"
			_ = s.Reset()
			return
		}
		result = "invalid_request"
		_ = w.WriteError(CodeInvalidRequest, err.Error())
		w.finish()
		return
	}
	st.stop()

	ctx, cancel := context.WithTimeout(n.ctx, rc.HandlerTimeout)
	defer cancel()
	err = h(ctx, from, req, w)
	if err != nil {
		result = "handler_error"
		n.log.Debug("request handler failed", "protocol", name, "peer", from, "err", err)
		if !w.wrote() {
			var re *ResponseError
			if errors.As(err, &re) && re.Code != CodeSuccess {
				_ = w.WriteError(re.Code, re.Msg)
			} else {
				_ = w.WriteError(CodeServerError, err.Error())
			}
		}
	}
	w.finish()
}

// responseWriter implements ResponseWriter on a stream.
type responseWriter struct {
	n   *Node
	s   network.Stream
	st  *streamTimer
	max int

	mu     sync.Mutex
	chunks int
	closed bool
	err    error
}

func (w *responseWriter) WriteChunk(ssz []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrResponseClosed
	}
	if w.err != nil {
		return w.err
	}
	if w.chunks >= w.max {
		return fmt.Errorf("write chunk: %w: limit %d", ErrTooManyChunks, w.max)
	}
	if len(ssz) > w.n.cfg.ReqResp.MaxChunkSize {
		return fmt.Errorf("write chunk: %w: %d bytes > %d", ErrMessageTooLarge, len(ssz), w.n.cfg.ReqResp.MaxChunkSize)
	}
	w.chunks++
	return w.write(append([]byte{byte(CodeSuccess)}, appendPayload(nil, ssz)...))
}

func (w *responseWriter) WriteError(code ResponseCode, msg string) error {
	if code == CodeSuccess {
		return fmt.Errorf("write error chunk: %w: code 0 is success", ErrInvalidArgument)
	}
	if limit := w.n.cfg.ReqResp.MaxErrorMessageSize; len(msg) > limit {
		msg = msg[:limit]
		for !utf8.ValidString(msg) { // do not split a rune
			msg = msg[:len(msg)-1]
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrResponseClosed
	}
	if w.err != nil {
		return w.err
	}
	w.closed = true
	w.chunks++
	return w.write(append([]byte{byte(code)}, appendPayload(nil, []byte(msg))...))
}

// write sends one encoded chunk within RespTimeout. w.mu must be held.
func (w *responseWriter) write(b []byte) error {
	w.st.arm(w.n.cfg.ReqResp.RespTimeout)
	_, err := w.s.Write(b)
	w.st.stop()
	if err != nil {
		w.err = fmt.Errorf("write response: %w", w.st.wrap(err))
	}
	return w.err
}

// wrote reports whether any chunk was written.
func (w *responseWriter) wrote() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.chunks > 0
}

// finish ends the response: close the write side within RespTimeout (on
// mocknet this waits for the peer to read), then the stream.
func (w *responseWriter) finish() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	if w.err != nil {
		_ = w.s.Reset()
		return
	}
	w.st.arm(w.n.cfg.ReqResp.RespTimeout)
	if err := w.s.CloseWrite(); err != nil {
		_ = w.s.Reset()
		return
	}
	w.st.stop()
	_ = w.s.Close()
}
