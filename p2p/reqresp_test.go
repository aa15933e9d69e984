package p2p_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardlab/shardlab/p2p"
	"github.com/shardlab/shardlab/p2p/p2ptest"
)

// reqNet returns two connected nodes: a client (0) and a server (1).
// tweak, when set, adjusts the configuration of node i.
func reqNet(t *testing.T, tweak func(i int, cfg *p2p.Config)) (client, server *p2p.Node) {
	t.Helper()
	opts := p2ptest.Options{Topology: p2ptest.FullMesh, ConfigFn: tweak}
	net, _ := p2ptest.NewMockNet(t, 2, opts)
	return net.Nodes[0], net.Nodes[1]
}

// blocksHandler answers a request "n" with n chunks "block i".
func blocksHandler(_ context.Context, _ peer.ID, req []byte, w p2p.ResponseWriter) error {
	var count int
	if _, err := fmt.Sscanf(string(req), "%d", &count); err != nil {
		return &p2p.ResponseError{Code: p2p.CodeInvalidRequest, Msg: "not a count"}
	}
	for i := range count {
		if err := w.WriteChunk(msg("block %d", i)); err != nil {
			return err
		}
	}
	return nil
}

func TestRequestHappyPath(t *testing.T) {
	t.Parallel()
	client, server := reqNet(t, nil)
	if err := server.Handle(p2p.BeaconBlocksByRangeProtocol, blocksHandler); err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	tests := []struct {
		req       string
		maxChunks int
		want      int
	}{
		{"0", 10, 0},   // empty response (like goodbye)
		{"1", 1, 1},    // single-chunk method (like status)
		{"5", 10, 5},   // fewer than allowed
		{"50", 10, 10}, // more than allowed: the client stops reading
		{"300", 300, 300},
	}
	for _, tc := range tests {
		chunks, err := client.Request(ctx, server.ID(), p2p.BeaconBlocksByRangeProtocol, []byte(tc.req), tc.maxChunks)
		if err != nil {
			t.Fatalf("request %s: %v", tc.req, err)
		}
		if len(chunks) != tc.want {
			t.Fatalf("request %s: %d chunks, want %d", tc.req, len(chunks), tc.want)
		}
		for i, c := range chunks {
			if string(c) != fmt.Sprintf("block %d", i) {
				t.Fatalf("chunk %d = %q", i, c)
			}
		}
	}

	// A large chunk crosses several snappy frames.
	big := bytes.Repeat([]byte("0123456789abcdef"), 40_000)
	if err := server.Handle(p2p.StatusProtocol, func(_ context.Context, _ peer.ID, req []byte, w p2p.ResponseWriter) error {
		return w.WriteChunk(append(append([]byte{}, req...), big...))
	}); err != nil {
		t.Fatal(err)
	}
	chunks, err := client.Request(ctx, server.ID(), p2p.StatusProtocol, []byte("head:"), 1)
	if err != nil || len(chunks) != 1 || !bytes.Equal(chunks[0], append([]byte("head:"), big...)) {
		t.Fatalf("big chunk: %d chunks, %v", len(chunks), err)
	}
}

func TestRequestErrorCodes(t *testing.T) {
	t.Parallel()
	client, server := reqNet(t, func(i int, cfg *p2p.Config) {
		if i == 1 {
			cfg.ReqResp.MaxRequestSize = 64 // the server only
		}
	})
	if err := server.Handle(p2p.BeaconBlocksByRangeProtocol, blocksHandler); err != nil {
		t.Fatal(err)
	}
	if err := server.Handle(p2p.BeaconBlocksByRootProtocol, func(_ context.Context, _ peer.ID, _ []byte, w p2p.ResponseWriter) error {
		if err := w.WriteChunk([]byte("known block")); err != nil {
			return err
		}
		if err := w.WriteError(p2p.CodeResourceUnavailable, "unknown root"); err != nil {
			return err
		}
		if err := w.WriteChunk([]byte("late")); !errors.Is(err, p2p.ErrResponseClosed) {
			return fmt.Errorf("write after error: %v", err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := server.Handle(p2p.ShardBlocksByRangeProtocol, func(context.Context, peer.ID, []byte, p2p.ResponseWriter) error {
		return errors.New("database on fire")
	}); err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	tests := []struct {
		name     string
		protocol string
		req      []byte
		code     p2p.ResponseCode
		msg      string
		chunks   int
	}{
		{"handler returns ResponseError", p2p.BeaconBlocksByRangeProtocol, []byte("many"), p2p.CodeInvalidRequest, "not a count", 0},
		{"chunk then error chunk", p2p.BeaconBlocksByRootProtocol, []byte("root"), p2p.CodeResourceUnavailable, "unknown root", 1},
		{"handler returns plain error", p2p.ShardBlocksByRangeProtocol, []byte("x"), p2p.CodeServerError, "database on fire", 0},
		// The client allows bigger requests than the server: the server
		// refuses before reading the body.
		{"request over server limit", p2p.BeaconBlocksByRangeProtocol, make([]byte, 65), p2p.CodeInvalidRequest, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			chunks, err := client.Request(ctx, server.ID(), tc.protocol, tc.req, 10)
			var re *p2p.ResponseError
			if !errors.As(err, &re) {
				t.Fatalf("got %v, want a *ResponseError", err)
			}
			if re.Code != tc.code || (tc.msg != "" && re.Msg != tc.msg) {
				t.Fatalf("got code %d msg %q, want %d %q", re.Code, re.Msg, tc.code, tc.msg)
			}
			if len(chunks) != tc.chunks {
				t.Fatalf("got %d chunks before the error, want %d", len(chunks), tc.chunks)
			}
		})
	}

	// Local argument checks and an unsupported protocol.
	if _, err := client.Request(ctx, server.ID(), p2p.StatusProtocol, nil, 1); err == nil {
		t.Fatal("request to a protocol the server does not handle succeeded")
	}
	if _, err := client.Request(ctx, server.ID(), p2p.BeaconBlocksByRangeProtocol, []byte("1"), 0); !errors.Is(err, p2p.ErrInvalidArgument) {
		t.Fatalf("maxChunks 0: %v", err)
	}
	tooBig := make([]byte, p2p.TestConfig().ReqResp.MaxRequestSize+1)
	if _, err := client.Request(ctx, server.ID(), p2p.BeaconBlocksByRangeProtocol, tooBig, 1); !errors.Is(err, p2p.ErrMessageTooLarge) {
		t.Fatalf("oversized request: %v", err)
	}
	if err := server.Handle("bad/name", blocksHandler); !errors.Is(err, p2p.ErrInvalidName) {
		t.Fatalf("bad protocol name: %v", err)
	}
}

func TestRequestConcurrencyLimit(t *testing.T) {
	t.Parallel()
	client, server := reqNet(t, func(_ int, cfg *p2p.Config) { cfg.ReqResp.MaxConcurrentInbound = 1 })
	entered := make(chan struct{})
	release := make(chan struct{})
	if err := server.Handle(p2p.StatusProtocol, func(_ context.Context, _ peer.ID, _ []byte, w p2p.ResponseWriter) error {
		entered <- struct{}{}
		<-release
		return w.WriteChunk([]byte("status"))
	}); err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	first := make(chan error, 1)
	go func() {
		_, err := client.Request(ctx, server.ID(), p2p.StatusProtocol, []byte("a"), 1)
		first <- err
	}()
	<-entered
	_, err := client.Request(ctx, server.ID(), p2p.StatusProtocol, []byte("b"), 1)
	var re *p2p.ResponseError
	if !errors.As(err, &re) || re.Code != p2p.CodeResourceUnavailable {
		t.Fatalf("second request: %v, want resource unavailable", err)
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatalf("first request: %v", err)
	}
}

// TestRequestGarbageServer points the client at servers that answer with
// malformed bytes: it must return an error, never hang or panic.
func TestRequestGarbageServer(t *testing.T) {
	t.Parallel()
	client, server := reqNet(t, func(_ int, cfg *p2p.Config) { cfg.ReqResp.TTFBTimeout = 200 * time.Millisecond })
	payload := func(b []byte) []byte {
		// varint + framed, hand-built: stream identifier + uncompressed chunk.
		var out bytes.Buffer
		w := bufio.NewWriter(&out)
		_, _ = w.Write(binary.AppendUvarint(nil, uint64(len(b))))
		_, _ = w.Write([]byte{0xff, 6, 0, 0, 's', 'N', 'a', 'P', 'p', 'Y'})
		_ = w.Flush()
		return out.Bytes()
	}
	tests := []struct {
		name string
		resp []byte
		want error
	}{
		{"random bytes", []byte{0x00, 0x9c, 0x17, 0xfe, 0x00, 0x42, 0x42}, p2p.ErrInvalidEncoding},
		{"huge declared length", append([]byte{0}, binary.AppendUvarint(nil, 1<<40)...), p2p.ErrMessageTooLarge},
		{"varint overflow", append([]byte{0}, bytes.Repeat([]byte{0xff}, 12)...), p2p.ErrInvalidEncoding},
		{"truncated chunk", append([]byte{0}, payload([]byte("block"))...), p2p.ErrInvalidEncoding},
		{"result byte only", []byte{0}, p2p.ErrInvalidEncoding},
		{"error chunk with garbage message", []byte{2, 5, 0x12, 0x34}, p2p.ErrInvalidEncoding},
	}
	for i, tc := range tests {
		name := fmt.Sprintf("garbage_%d", i)
		server.Host().SetStreamHandler(p2p.ProtocolID(name), func(s network.Stream) {
			defer s.Close()
			_, _ = io.Copy(io.Discard, s) // read the request
			_, _ = s.Write(tc.resp)
		})
		t.Run(tc.name, func(t *testing.T) {
			_, err := client.Request(testContext(t), server.ID(), name, []byte("req"), 4)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}

	// A server that never writes and never closes: TTFB applies.
	server.Host().SetStreamHandler(p2p.ProtocolID("mute"), func(s network.Stream) {
		_, _ = io.Copy(io.Discard, s)
		<-testContext(t).Done()
	})
	if _, err := client.Request(testContext(t), server.ID(), "mute", []byte("req"), 1); !errors.Is(err, p2p.ErrTimeout) {
		t.Fatalf("mute server: %v", err)
	}
}

// TestRequestGarbageClient sends malformed requests on raw streams: the
// server answers InvalidRequest, or resets a silent client after the TTFB
// timeout, and the handler never runs.
func TestRequestGarbageClient(t *testing.T) {
	t.Parallel()
	client, server := reqNet(t, func(_ int, cfg *p2p.Config) { cfg.ReqResp.TTFBTimeout = 200 * time.Millisecond })
	called := make(chan struct{}, 10)
	if err := server.Handle(p2p.StatusProtocol, func(context.Context, peer.ID, []byte, p2p.ResponseWriter) error {
		called <- struct{}{}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	for _, garbage := range [][]byte{
		{0x05, 0x01, 0x02, 0x03},
		bytes.Repeat([]byte{0xff}, 11),
		append(binary.AppendUvarint(nil, 1<<30), 0xff),
		{0x05, 0xff, 0x06, 0x00, 0x00, 's', 'N', 'a', 'P', 'p', 'Y', 0x03, 0x00, 0x00, 0x00},
		{},
	} {
		s, err := client.Host().NewStream(ctx, server.ID(), p2p.ProtocolID(p2p.StatusProtocol))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Write(garbage); err != nil {
			t.Fatal(err)
		}
		if err := s.CloseWrite(); err != nil {
			t.Fatal(err)
		}
		resp, err := io.ReadAll(s)
		if err != nil {
			t.Fatalf("garbage %x: read response: %v", garbage, err)
		}
		if len(resp) == 0 || p2p.ResponseCode(resp[0]) != p2p.CodeInvalidRequest {
			t.Fatalf("garbage %x: response %x, want an invalid-request chunk", garbage, resp)
		}
		_ = s.Close()
	}

	// Silent client: it opens the stream and writes nothing, never closing.
	s, err := client.Host().NewStream(ctx, server.ID(), p2p.ProtocolID(p2p.StatusProtocol))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := io.ReadAll(s)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("server closed a silent stream cleanly; want a reset")
		}
	case <-ctx.Done():
		t.Fatal("server kept a silent stream open")
	}
	select {
	case <-called:
		t.Fatal("handler ran for a malformed request")
	default:
	}
}
