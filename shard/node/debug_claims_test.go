package node

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	bnode "github.com/shardlab/shardlab/beacon/node"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p/p2ptest"
	shardhandler "github.com/shardlab/shardlab/shard/handler"
)

// TestDebugClaimReplayRejected has shard node a replay, through the debug
// hook, the latest claim shard 1's chain included: to shard 2 (wrong
// shard), then to shard 1 again (twice), each proven anew against a's
// beacon head of the moment (the same bytes twice would be dropped by
// gossip as seen). Node b, serving the same shards, refuses both and
// counts them in shard_claims_rejected_total by reason; shard 1 credits
// each receipt once.
func TestDebugClaimReplayRejected(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		g, genesis := testGenesis(t, 6*time.Second)
		cfg := g.cfg
		net, _ := p2ptest.NewMockNet(t, 4, p2ptest.Options{})
		b0n := beaconNode(t, g, genesis, net.Nodes[0], bnode.ValidatorRange{Start: 0, Count: 32}, "b0")
		b1n := beaconNode(t, g, genesis, net.Nodes[1], bnode.ValidatorRange{Start: 32, Count: 32}, "b1")
		shards := []bt.Shard{0, 1, 2}
		an := shardNode(t, g, genesis, net.Nodes[2], shards, bnode.ValidatorRange{Start: 0, Count: testValidators}, "", "a")
		// b holds no keys: two nodes with the same keys would both propose
		// every slot, and b's block of the transfer's slot, built without
		// the transfer (sent to a only), won the fork choice in about a
		// quarter of the runs, so the receipt was never claimed.
		bn := shardNode(t, g, genesis, net.Nodes[3], shards, bnode.ValidatorRange{}, "", "b")
		runs := []*running{start(t, b0n), start(t, b1n), start(t, an), start(t, bn)}
		connectAll(t, net, 0, 1, 2, 3)
		src, _ := an.Chain(0)
		dst, _ := bn.Chain(1)
		if _, err := an.ReplayClaim(1, false); !errors.Is(err, shardhandler.ErrNoClaim) {
			t.Fatalf("replay before any claim: %v, want ErrNoClaim", err)
		}
		waitSlots(t, cfg, 10, "slot 2", func() bool { return src.Head().Header.Slot >= 2 })
		if err := src.AddTransaction(g.transfer(0, 1, 0, 1, 9, 50)); err != nil {
			t.Fatal(err)
		}
		waitSlots(t, cfg, 12*int(cfg.SlotsPerEpoch), "the receipt claimed on shard 1", func() bool {
			ac, _ := an.Chain(1)
			return dst.Inbox(0) == 1 && ac.Inbox(0) == 1
		})
		rejected := func(shard, reason string) float64 {
			return counterValue(t, bn.m.claimsRejected.WithLabelValues(shard, reason))
		}
		for _, tc := range []struct {
			name         string
			wrongShard   bool
			target       uint64
			shard, label string
		}{
			{"wrong shard", true, 2, "2", shardhandler.ClaimWrongShard},
			{"twice", false, 1, "1", shardhandler.ClaimAlreadyClaimed},
		} {
			// A new beacon head, hence another window proof: other bytes.
			head := func() bt.Slot { _, slot := an.bchain.Head(); return slot }
			from := head()
			waitSlots(t, cfg, 4, "a new beacon head", func() bool { return head() > from })
			rc, err := an.ReplayClaim(1, tc.wrongShard)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if rc.Target != tc.target || rc.Src != 0 || rc.Nonce != 0 {
				t.Fatalf("%s: replayed %+v, want target %d, source 0, nonce 0", tc.name, rc, tc.target)
			}
			waitSlots(t, cfg, 2, tc.name+" counted", func() bool { return rejected(tc.shard, tc.label) == 1 })
		}
		if dst.Inbox(0) != 1 {
			t.Fatalf("shard 1's inbox from shard 0 at %d after the replays, want 1", dst.Inbox(0))
		}
		for i := len(runs) - 1; i >= 0; i-- {
			runs[i].stop(t)
		}
	})
}

// TestDebugClaimAttackRoute checks the route's answers to bad requests.
func TestDebugClaimAttackRoute(t *testing.T) {
	t.Parallel()
	g, genesis := testGenesis(t, 0)
	net, _ := p2ptest.NewMockNet(t, 1, p2ptest.Options{})
	cfg := TestConfig()
	cfg.Transition, cfg.Genesis, cfg.Network, cfg.Shards = g.tr, genesis, net.Nodes[0], []bt.Shard{0}
	cfg.Beacon.DebugAPI = true
	n, err := New(cfg, testLogger("route"))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	for _, tc := range []struct {
		name, path, body string
		code             int
		contains         string
	}{
		{"shard not a number", "/shardlab/v1/debug/shards/x/claim_attack", `{"kind": "twice"}`, http.StatusBadRequest, "expected a shard number"},
		{"unknown kind", "/shardlab/v1/debug/shards/0/claim_attack", `{"kind": "thrice"}`, http.StatusBadRequest, "expected twice or wrong_shard"},
		{"no kind", "/shardlab/v1/debug/shards/0/claim_attack", `{}`, http.StatusBadRequest, "expected twice"},
		{"unknown field", "/shardlab/v1/debug/shards/0/claim_attack", `{"kind": "twice", "x": 1}`, http.StatusBadRequest, "unknown field"},
		{"shard not served", "/shardlab/v1/debug/shards/3/claim_attack", `{"kind": "twice"}`, http.StatusBadRequest, "not served"},
		{"no claim yet", "/shardlab/v1/debug/shards/0/claim_attack", `{"kind": "wrong_shard"}`, http.StatusConflict, "no claim"},
	} {
		rec := httptest.NewRecorder()
		n.HTTPHandler().ServeHTTP(rec, httptest.NewRequest("POST", tc.path, strings.NewReader(tc.body)))
		if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.contains) {
			t.Errorf("%s: POST %s = %d %s, want %d with %q", tc.name, tc.path, rec.Code, rec.Body.String(), tc.code, tc.contains)
		}
	}
}
