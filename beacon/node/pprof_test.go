package node

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shardlab/shardlab/p2p/p2ptest"
)

// TestPprofAddrValidate checks the accepted and refused pprof addresses.
func TestPprofAddrValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, addr string
		ok         bool
	}{
		{"off", "", true},
		{"loopback", "127.0.0.1:6060", true},
		{"empty host", ":6060", true},
		{"free port", "127.0.0.1:0", true},
		{"ipv6", "[::1]:6060", true},
		{"no port", "127.0.0.1", false},
		{"port out of range", "127.0.0.1:70000", false},
		{"port not a number", "127.0.0.1:http", false},
		{"host name", "example.com:6060", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := validatePprofAddr(tc.addr)
			if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrInvalidConfig)) {
				t.Fatalf("validatePprofAddr(%q) = %v, want ok %v", tc.addr, err, tc.ok)
			}
		})
	}
}

// TestRunServesPprof runs a node with a pprof address: Run serves a CPU
// profile there until it returns, then the port is closed; it is off by
// default.
func TestRunServesPprof(t *testing.T) {
	tr, genesis, _ := testGenesis(t, time.Hour) // no slot work
	mock, _ := p2ptest.NewMockNet(t, 2, p2ptest.Options{})
	cfg := TestConfig()
	cfg.Transition, cfg.Genesis, cfg.Network = tr, genesis, mock.Nodes[0]
	cfg.Registerer = prometheus.NewRegistry()
	cfg.PprofAddr = "127.0.0.1:0"
	n, err := New(cfg, testLogger(t, "pprof"))
	if err != nil {
		t.Fatal(err)
	}
	if n.PprofAddr() != nil {
		t.Fatalf("pprof address before Run: %v", n.PprofAddr())
	}
	r := start(t, n)
	deadline := time.Now().Add(10 * time.Second)
	for n.PprofAddr() == nil {
		if time.Now().After(deadline) {
			t.Fatal("pprof endpoint not started")
		}
		time.Sleep(10 * time.Millisecond)
	}
	base := "http://" + n.PprofAddr().String() + PprofPrefix
	resp, err := http.Get(base + "profile?seconds=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// A CPU profile is a gzipped protobuf.
	if resp.StatusCode != http.StatusOK || !bytes.HasPrefix(body, []byte{0x1f, 0x8b}) {
		t.Fatalf("profile: status %d, %d bytes starting %x", resp.StatusCode, len(body), body[:min(4, len(body))])
	}
	resp, err = http.Get(base + "goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("goroutine profile")) {
		t.Fatalf("goroutine profile: status %d: %.200s", resp.StatusCode, body)
	}

	r.stop(t)
	if resp, err := http.Get(base); err == nil {
		resp.Body.Close()
		t.Fatal("pprof still answers after the node stopped")
	}

	// Off by default.
	if a := DefaultConfig().PprofAddr; a != "" {
		t.Fatalf("pprof on by default: %q", a)
	}
}
