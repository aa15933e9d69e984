package node

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p/p2ptest"
)

// get serves a GET through h and decodes the JSON body into out (when not
// nil); it returns the status and the raw body.
func get(t *testing.T, h http.Handler, path string, out any) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	body := rec.Body.String()
	if out != nil && rec.Code == http.StatusOK {
		if err := json.Unmarshal([]byte(body), out); err != nil {
			t.Fatalf("GET %s: decode %q: %v", path, body, err)
		}
	}
	return rec.Code, body
}

// TestAPIOverNode serves the HTTP API of a running in-memory node (one node
// with every validator, in a synctest bubble) through httptest, and checks
// the answers against the chain service.
func TestAPIOverNode(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		tr, genesis, _ := testGenesis(t, 6*time.Second)
		cfg := tr.Config()
		net, _ := p2ptest.NewMockNet(t, 1, p2ptest.Options{})
		n := testNode(t, tr, genesis, net.Nodes[0], ValidatorRange{Count: testValidators}, "", "a")
		n.cfg.Version = "shardlab/test/os-arch"
		srv, err := n.newAPI(testLogger(t, "a"))
		if err != nil {
			t.Fatal(err)
		}
		h := srv.Handler()
		if code, _ := get(t, h, "/eth/v1/node/health", nil); code != http.StatusServiceUnavailable {
			t.Fatalf("health before Run: %d, want 503", code)
		}
		start(t, n)
		waitSlots(t, cfg, 6*int(cfg.SlotsPerEpoch), "finalized epoch 1", func() bool { return n.Chain().Finalized().Epoch >= 1 })
		// Fake time stands still while this goroutine runs: the chain does
		// not move under the checks.
		if code, _ := get(t, h, "/eth/v1/node/health", nil); code != http.StatusOK {
			t.Fatalf("health: %d, want 200", code)
		}
		headRoot, headSlot := n.Chain().Head()

		var ident struct {
			Data struct {
				PeerID       string   `json:"peer_id"`
				P2PAddresses []string `json:"p2p_addresses"`
			}
		}
		if code, body := get(t, h, "/eth/v1/node/identity", &ident); code != 200 || ident.Data.PeerID != n.PeerID().String() {
			t.Fatalf("identity: %d %s", code, body)
		}
		var syncing struct {
			Data struct {
				HeadSlot string `json:"head_slot"`
			}
		}
		if code, body := get(t, h, "/eth/v1/node/syncing", &syncing); code != 200 || syncing.Data.HeadSlot != strconv.FormatUint(uint64(headSlot), 10) {
			t.Fatalf("syncing: %d %s (head slot %d)", code, body, headSlot)
		}
		var version struct{ Data struct{ Version string } }
		if _, body := get(t, h, "/eth/v1/node/version", &version); version.Data.Version != "shardlab/test/os-arch" {
			t.Fatalf("version: %s", body)
		}
		var header struct {
			Data struct {
				Root      string
				Canonical bool
			}
		}
		if code, body := get(t, h, "/eth/v1/beacon/headers/head", &header); code != 200 || header.Data.Root != headRoot.String() || !header.Data.Canonical {
			t.Fatalf("head header: %d %s, want root %s", code, body, headRoot)
		}
		var fin struct {
			Data struct {
				Finalized struct{ Epoch, Root string }
			}
		}
		if code, body := get(t, h, "/eth/v1/beacon/states/head/finality_checkpoints", &fin); code != 200 || fin.Data.Finalized.Epoch == "0" {
			t.Fatalf("finality: %d %s", code, body)
		}
		// The genesis block is canonical at slot 0; a slot after the head is
		// unknown.
		if code, body := get(t, h, "/eth/v1/beacon/blocks/0/root", nil); code != 200 || !strings.Contains(body, n.Chain().GenesisRoot().String()) {
			t.Fatalf("genesis root: %d %s", code, body)
		}
		if code, _ := get(t, h, "/eth/v1/beacon/headers/"+strconv.FormatUint(uint64(headSlot)+5, 10), nil); code != http.StatusNotFound {
			t.Fatalf("header after head: %d, want 404", code)
		}
		if code, _ := get(t, h, "/eth/v1/beacon/headers/0x"+strings.Repeat("ab", 32), nil); code != http.StatusNotFound {
			t.Fatalf("unknown root: %d, want 404", code)
		}
		if code, _ := get(t, h, "/eth/v1/debug/beacon/states/finalized", nil); code != 200 {
			t.Fatalf("finalized state: %d", code)
		}

		// Block arrivals: the node's own proposals, canonical, in slot order.
		var arr struct {
			Data []struct {
				Root               string
				Slot               string
				FirstSeenUnixNanos string `json:"first_seen_unix_nanos"`
			}
		}
		if code, body := get(t, h, BlockArrivalsPath+"?since=3", &arr); code != 200 || len(arr.Data) == 0 {
			t.Fatalf("block arrivals: %d %s", code, body)
		}
		last := uint64(3)
		for _, a := range arr.Data {
			slot, _ := strconv.ParseUint(a.Slot, 10, 64)
			ns, _ := strconv.ParseUint(a.FirstSeenUnixNanos, 10, 64)
			if slot < last || ns == 0 {
				t.Fatalf("block arrival %+v: out of order or no time", a)
			}
			last = slot
			_, root, ok := n.Chain().CanonicalBlock(types.Slot(slot))
			if !ok || root.String() != a.Root {
				t.Fatalf("block arrival %+v: not the canonical block %s", a, root)
			}
			start := time.Unix(int64(n.Chain().GenesisTime()), 0).Add(time.Duration(slot*cfg.SecondsPerSlot) * time.Second)
			if seen := time.Unix(0, int64(ns)); seen.Before(start) || seen.After(start.Add(time.Duration(cfg.SecondsPerSlot)*time.Second)) {
				t.Fatalf("block arrival %+v: first seen at %v, outside its slot starting %v", a, seen, start)
			}
		}
		if code, _ := get(t, h, BlockArrivalsPath+"?since=x", nil); code != http.StatusBadRequest {
			t.Fatalf("bad since: %d, want 400", code)
		}
		if code, body := get(t, h, BlockArrivalsPath+"?since=100000", &arr); code != 200 || len(arr.Data) != 0 || !strings.Contains(body, `"data":[]`) {
			t.Fatalf("arrivals after the head: %d %s", code, body)
		}

		// Request metrics go to the node's registry, served on /metrics.
		code, body := get(t, h, "/metrics", nil)
		if code != 200 || !strings.Contains(body, `beacon_http_requests_total{code="200",method="GET",route="GET /eth/v1/node/identity"} 1`) ||
			!strings.Contains(body, "beacon_http_request_duration_seconds_bucket") || !strings.Contains(body, "beacon_head_slot") {
			t.Fatalf("metrics: %d\n%s", code, body)
		}
	})
}

// freeTCPPort returns a port that was free a moment ago.
func freeTCPPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestRunServesAPI runs a node with an HTTP port: Run serves the API on it
// until its context ends, then the port is closed; a busy port fails Run.
func TestRunServesAPI(t *testing.T) {
	tr, genesis, _ := testGenesis(t, time.Hour) // no slot work
	mock, _ := p2ptest.NewMockNet(t, 2, p2ptest.Options{})
	cfg := TestConfig()
	cfg.Transition, cfg.Genesis, cfg.Network = tr, genesis, mock.Nodes[0]
	cfg.Registerer = prometheus.NewRegistry()
	cfg.HTTPPort = freeTCPPort(t)
	n, err := New(cfg, testLogger(t, "http"))
	if err != nil {
		t.Fatal(err)
	}
	if n.API() == nil || n.HTTPAddr() != nil {
		t.Fatalf("API %v, address before Run %v", n.API(), n.HTTPAddr())
	}
	r := start(t, n)
	base := "http://127.0.0.1:" + strconv.Itoa(cfg.HTTPPort)
	var resp *http.Response
	for deadline := time.Now().Add(10 * time.Second); ; {
		resp, err = http.Get(base + "/eth/v1/node/health")
		if err == nil && resp.StatusCode == http.StatusOK {
			break
		}
		if err == nil {
			resp.Body.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("health: %v %v", resp, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	resp.Body.Close()
	if a := n.HTTPAddr(); a == nil || !strings.HasSuffix(a.String(), ":"+strconv.Itoa(cfg.HTTPPort)) {
		t.Fatalf("HTTPAddr %v", a)
	}
	resp, err = http.Get(base + BlockArrivalsPath)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != `{"data":[]}` {
		t.Fatalf("arrivals before genesis: %d %s", resp.StatusCode, body)
	}

	// A second node on the same port cannot run.
	cfg2 := cfg
	cfg2.Network = mock.Nodes[1]
	cfg2.Registerer = nil
	n2, err := New(cfg2, testLogger(t, "busy"))
	if err != nil {
		t.Fatal(err)
	}
	defer n2.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := n2.Run(ctx); err == nil || !strings.Contains(err.Error(), "http api") {
		t.Fatalf("run on a busy port: %v", err)
	}

	r.stop(t)
	if resp, err := http.Get(base + "/eth/v1/node/health"); err == nil {
		resp.Body.Close()
		t.Fatal("the API still answers after the node stopped")
	}
}
