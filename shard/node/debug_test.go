package node

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	bnode "github.com/shardlab/shardlab/beacon/node"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p/p2ptest"
)

// TestDebugInvalidBlockCaught has shard node s0 (every key) publish,
// through the debug hook, a block of shard 0 with a wrong state root; s1,
// a fisherman following shard 0, rejects it and proves the
// fraud, and the proposer is slashed on the beacon nodes.
func TestDebugInvalidBlockCaught(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		g, genesis := testGenesis(t, 6*time.Second)
		cfg := g.cfg
		net, _ := p2ptest.NewMockNet(t, 4, p2ptest.Options{})
		b0n := beaconNode(t, g, genesis, net.Nodes[0], bnode.ValidatorRange{Start: 0, Count: 32}, "b0")
		b1n := beaconNode(t, g, genesis, net.Nodes[1], bnode.ValidatorRange{Start: 32, Count: 32}, "b1")
		s0n := shardNode(t, g, genesis, net.Nodes[2], []bt.Shard{0, 1}, bnode.ValidatorRange{Start: 0, Count: 64}, "", "s0")
		// The fisherman hosts two keys: a fraud proof is signed by a hosted
		// validator (the whistleblower).
		s1n := shardNode(t, g, genesis, net.Nodes[3], []bt.Shard{0, 1}, bnode.ValidatorRange{Start: 62, Count: 2}, "", "s1")
		runs := []*running{start(t, b0n), start(t, b1n), start(t, s0n), start(t, s1n)}
		connectAll(t, net, 0, 1, 2, 3)
		c0, _ := s0n.Chain(0)
		waitSlots(t, cfg, 30, "shard slot 10", func() bool { return c0.Head().Header.Slot >= 10 })

		if _, err := s0n.PublishInvalidBlock(5, 20); err == nil {
			t.Fatal("invalid block of an unserved shard published")
		}
		cur, _ := s0n.Beacon().Slots().CurrentSlot()
		ib, err := s0n.PublishInvalidBlock(0, cur+1)
		if err != nil {
			t.Fatal(err)
		}
		waitSlots(t, cfg, 4*int(cfg.SlotsPerEpoch), "the proposer slashed", func() bool {
			for _, n := range []*bnode.Node{b0n, b1n} {
				if !n.Chain().HeadState().Validators[ib.Proposer].Slashed {
					return false
				}
			}
			return true
		})
		c1, _ := s1n.Chain(0)
		if !c1.IsInvalid(ib.Root) || c1.HasBlock(ib.Root) {
			t.Fatal("the fisherman did not reject the invalid block")
		}
		if s1n.h.ProofsSeen() == 0 {
			t.Fatal("the fisherman built no fraud proof")
		}
		for i := len(runs) - 1; i >= 0; i-- {
			runs[i].stop(t)
		}
	})
}

// TestDebugInvalidBlockRoute checks the route's answers to bad requests
// and that it exists only with the debug API.
func TestDebugInvalidBlockRoute(t *testing.T) {
	t.Parallel()
	g, genesis := testGenesis(t, 0)
	for _, debug := range []bool{false, true} {
		net, _ := p2ptest.NewMockNet(t, 1, p2ptest.Options{})
		cfg := TestConfig()
		cfg.Transition, cfg.Genesis, cfg.Network, cfg.Shards = g.tr, genesis, net.Nodes[0], []bt.Shard{0}
		cfg.Beacon.DebugAPI = debug
		n, err := New(cfg, testLogger("route"))
		if err != nil {
			t.Fatal(err)
		}
		defer n.Close()
		for _, tc := range []struct {
			path, body string
			code       int
			contains   string
		}{
			{"/shardlab/v1/debug/shards/x/invalid_block", "{}", http.StatusBadRequest, "expected a shard number"},
			{"/shardlab/v1/debug/shards/3/invalid_block", "{}", http.StatusBadRequest, "not served"},
			{"/shardlab/v1/debug/shards/0/invalid_block", `{"kind": "overdraft"}`, http.StatusBadRequest, "expected state_root or early_claim"},
			{"/shardlab/v1/debug/shards/0/invalid_block", `{"kind": "early_claim", "x": 1}`, http.StatusBadRequest, "unknown field"},
			{"/shardlab/v1/debug/shards/0/invalid_block", `{"kind": "early_claim"}`, http.StatusConflict, "hosts no proposer keys"},
		} {
			rec := httptest.NewRecorder()
			n.HTTPHandler().ServeHTTP(rec, httptest.NewRequest("POST", tc.path, strings.NewReader(tc.body)))
			if !debug {
				if rec.Code != http.StatusNotFound && rec.Code != http.StatusMethodNotAllowed {
					t.Fatalf("without the debug API: POST %s = %d", tc.path, rec.Code)
				}
				continue
			}
			if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.contains) {
				t.Fatalf("POST %s = %d %s, want %d with %q", tc.path, rec.Code, rec.Body.String(), tc.code, tc.contains)
			}
		}
	}
}
