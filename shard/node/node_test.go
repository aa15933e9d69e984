package node

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	bnode "github.com/shardlab/shardlab/beacon/node"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p/p2ptest"
	shardcore "github.com/shardlab/shardlab/shard/core"
)

// TestShardNetwork runs two beacon nodes (validators 0-31 and 32-63, asking
// the shard nodes for crosslink data) and two shard nodes (shards 0-3 and
// 4-7, every key for shard proposals): shard blocks are produced on every
// shard, every shard is crosslinked with a non-empty data root, a
// cross-shard transfer submitted through the HTTP API is claimed on its
// destination, and the beacon chain finalizes.
func TestShardNetwork(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		g, genesis := testGenesis(t, 6*time.Second)
		cfg := g.cfg
		net, _ := p2ptest.NewMockNet(t, 4, p2ptest.Options{})
		b0 := start(t, beaconNode(t, g, genesis, net.Nodes[0], bnode.ValidatorRange{Start: 0, Count: 32}, "b0"))
		b1 := start(t, beaconNode(t, g, genesis, net.Nodes[1], bnode.ValidatorRange{Start: 32, Count: 32}, "b1"))
		all := bnode.ValidatorRange{Start: 0, Count: testValidators}
		s0n := shardNode(t, g, genesis, net.Nodes[2], shardRange(0, 3), all, "", "s0")
		s1n := shardNode(t, g, genesis, net.Nodes[3], shardRange(4, 7), all, "", "s1")
		s0, s1 := start(t, s0n), start(t, s1n)
		connectAll(t, net, 0, 1, 2, 3)
		beacons := []*bnode.Node{b0.svc.(*bnode.Node), b1.svc.(*bnode.Node)}

		waitSlots(t, cfg, 10, "slot 2", func() bool { return s0n.Chain0().Head().Header.Slot >= 2 })
		// No crosslink yet: every shard reports its own, empty one.
		for _, n := range []*Node{s0n, s1n} {
			checkShardCrosslinks(t, n, false)
		}
		// A cross-shard transfer, through the HTTP API (SSZ body).
		tx := g.transfer(0, 1, 0, 5, 2, 1000)
		body, _ := tx.MarshalSSZ()
		req := httptest.NewRequest(http.MethodPost, "/shardlab/v1/shards/0/transactions", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/octet-stream")
		rec := httptest.NewRecorder()
		s0n.HTTPHandler().ServeHTTP(rec, req)
		if rec.Code != http.StatusAccepted {
			t.Fatalf("submit transaction: %d %s", rec.Code, rec.Body)
		}
		// The same transfer signed for another chain (a genesis a second
		// later: the same validators and accounts) is refused.
		other, _ := testGenesis(t, 7*time.Second)
		replayed, _ := other.transfer(0, 1, 1, 5, 2, 1000).MarshalSSZ()
		req = httptest.NewRequest(http.MethodPost, "/shardlab/v1/shards/0/transactions", bytes.NewReader(replayed))
		req.Header.Set("Content-Type", "application/octet-stream")
		rec = httptest.NewRecorder()
		s0n.HTTPHandler().ServeHTTP(rec, req)
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "bad signature") {
			t.Fatalf("transaction signed for another chain: %d %s", rec.Code, rec.Body)

		}
		// An intra-shard transfer on the other node, through the backend.
		if err := s1n.SubmitTransaction(t.Context(), g.transfer(6, 3, 0, 6, 4, 77)); err != nil {
			t.Fatal(err)
		}

		dst, _ := s1n.Chain(5)
		genesisBalance := bt.Gwei(cfg.Shard.GenesisBalance)
		empty, _ := shardcore.CrosslinkDataRoot(cfg, nil)
		waitSlots(t, cfg, 8*int(cfg.SlotsPerEpoch), "blocks, crosslinks, the claim and finality", func() bool {
			for _, n := range []*Node{s0n, s1n} {
				for _, s := range n.Shards() {
					c, _ := n.Chain(s)
					if c.Head().Header.Slot == 0 {
						return false
					}
				}
			}
			head := beacons[0].Chain().HeadState()
			for s := range head.CurrentCrosslinks {
				if d := head.CurrentCrosslinks[s].DataRoot; d == empty || d == (bt.Root{}) {
					return false
				}
			}
			if acc, _ := dst.Account(2, nil); acc.Balance != genesisBalance+1000 {
				return false
			}
			for _, b := range beacons {
				if b.Chain().Finalized().Epoch < 2 {
					return false
				}
			}
			return true
		})
		if c, _ := s1n.Chain(6); func() bt.Gwei { a, _ := c.Account(4, nil); return a.Balance }() != genesisBalance+77 {
			t.Fatal("intra-shard transfer not applied")
		}
		src := s0n.Chain0()
		if a, _ := src.Account(1, nil); a.Balance != genesisBalance-1000 || a.Nonce != 1 {
			t.Fatalf("sender account %+v", a)
		}
		if dst.Inbox(0) != 1 {
			t.Fatalf("inbox nonce %d", dst.Inbox(0))
		}
		for _, n := range []*Node{s0n, s1n} {
			checkShardCrosslinks(t, n, true)
		}
		// The API reports the shards and the stats.
		rec = httptest.NewRecorder()
		s1n.HTTPHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/shardlab/v1/stats", nil))
		var stats struct {
			Data map[string]string `json:"data"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &stats); err != nil || rec.Code != http.StatusOK {
			t.Fatalf("stats: %d %s", rec.Code, rec.Body)
		}
		if stats.Data["transactions"] != "1" {
			t.Fatalf("stats %v", stats.Data)
		}
		rec = httptest.NewRecorder()
		s0n.HTTPHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/shardlab/v1/shards/0/receipts", nil))
		if rec.Code != http.StatusOK || !bytes.Contains(rec.Body.Bytes(), []byte(`"sent":"1"`)) {
			t.Fatalf("receipts: %d %s", rec.Code, rec.Body)
		}
		for _, r := range []*running{s0, s1, b0, b1} {
			r.stop(t)
		}
	})
}

// checkShardCrosslinks checks /shardlab/v1/shards of n: every served shard
// reports a crosslink of its own; before the first crosslinks (crosslinked
// false) they cover no epoch and have no header, after they have one.
func checkShardCrosslinks(t *testing.T, n *Node, crosslinked bool) {
	t.Helper()
	rec := httptest.NewRecorder()
	n.HTTPHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/shardlab/v1/shards", nil))
	var shards struct {
		Data []struct {
			Shard     string `json:"shard"`
			Crosslink *struct {
				Shard    string `json:"shard"`
				EndEpoch string `json:"end_epoch"`
				Header   *struct {
					StateRoot string `json:"state_root"`
				} `json:"header"`
			} `json:"crosslink"`
		} `json:"data"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &shards); err != nil || rec.Code != http.StatusOK || len(shards.Data) != len(n.Shards()) {
		t.Fatalf("shards: %d %s", rec.Code, rec.Body)
	}
	for i, s := range shards.Data {
		c := s.Crosslink
		switch {
		case s.Shard != strconv.Itoa(int(n.Shards()[i])) || c == nil || c.Shard != s.Shard:
			t.Errorf("shard %s: %s", s.Shard, rec.Body)
		case !crosslinked && (c.EndEpoch != "0" || c.Header != nil):
			t.Errorf("shard %s, not crosslinked yet, reports crosslinked data: %s", s.Shard, rec.Body)
		case crosslinked && (c.EndEpoch == "0" || c.Header == nil):
			t.Errorf("shard %s, crosslinked, reports no crosslinked data: %s", s.Shard, rec.Body)
		}
	}
}
