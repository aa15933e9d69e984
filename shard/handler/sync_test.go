package handler

import (
	"errors"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p"
)

// TestSyncAsksPeersInTurn: a catch-up sync asks the preferred peer first
// (then the others in order, at most three), moves on from a peer that fails or answers garbage (leaving it out of
// later lookups), follows the first peer that answers, pauses the shard's
// duties meanwhile, and runs once per shard at a time.
func TestSyncAsksPeersInTurn(t *testing.T) {
	peers := map[bt.Shard][]peer.ID{0: {"a", "b", "c", "d"}}
	h, env := newTestHandler(t, []bt.Shard{0}, peers, 4)
	env.now = env.now.Add(5 * time.Duration(h.pcfg.SecondsPerSlot) * time.Second)
	h.requestSync(0, "c", true)
	h.requestSync(0, "a", true) // one sync at a time
	if len(env.requests) != 1 || env.requests[0].peer != "c" {
		t.Fatalf("first requests %v, want one to the preferred peer c", env.requests)
	}
	if !h.Syncing(0) || !h.lagging(0) {
		t.Fatal("a catch-up sync does not pause the shard")
	}
	var r ShardBlocksByRangeRequest
	if err := bt.Decode(&r, env.requests[0].req); err != nil || r.Shard != 0 || r.StartSlot != 1 || r.Count != 5 {
		t.Fatalf("request %+v, %v; want shard 0 slots 1..5", r, err)
	}
	env.requests[0].done(nil, errors.New("timeout"))
	if len(env.requests) != 2 || env.requests[1].peer != "b" {
		t.Fatalf("after c failed: requests to %s", env.requests[len(env.requests)-1].peer)
	}
	env.requests[1].done([][]byte{{1, 2, 3}}, nil) // garbage
	if len(env.requests) != 3 || env.requests[2].peer != "a" {
		t.Fatalf("after b answered garbage: requests to %s", env.requests[len(env.requests)-1].peer)
	}
	env.requests[2].done(nil, nil) // a has nothing newer: followed
	if len(env.requests) != 3 || h.Syncing(0) || h.lagging(0) {
		t.Fatalf("after a answered: %d requests, syncing %v, lagging %v", len(env.requests), h.Syncing(0), h.lagging(0))
	}
	if left := h.syncPeers(0, ""); len(left) != 2 || left[0] != "a" || left[1] != "d" {
		t.Fatalf("peers after two failures: %v, want a and d", left)
	}
}

// TestServeSyncRequests: bad or unserved range and state requests get a
// clear response error; a range past the head and an unknown state get no
// chunk.
func TestServeSyncRequests(t *testing.T) {
	h, _ := newTestHandler(t, []bt.Shard{0}, nil, 4)
	enc := func(v interface{ MarshalSSZ() ([]byte, error) }) []byte {
		b, err := v.MarshalSSZ()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name, protocol string
		req            []byte
		code           p2p.ResponseCode
		chunks         int
	}{
		{"range garbage", p2p.ShardBlocksByRangeProtocol, []byte{1}, p2p.CodeInvalidRequest, 0},
		{"range of nothing", p2p.ShardBlocksByRangeProtocol, enc(&ShardBlocksByRangeRequest{Shard: 0, StartSlot: 0, Count: 0}), p2p.CodeInvalidRequest, 0},
		{"range unserved", p2p.ShardBlocksByRangeProtocol, enc(&ShardBlocksByRangeRequest{Shard: 3, StartSlot: 0, Count: 4}), p2p.CodeResourceUnavailable, 0},
		{"range past the head", p2p.ShardBlocksByRangeProtocol, enc(&ShardBlocksByRangeRequest{Shard: 0, StartSlot: 9, Count: 4}), 0, 0},
		{"range of an empty chain", p2p.ShardBlocksByRangeProtocol, enc(&ShardBlocksByRangeRequest{Shard: 0, StartSlot: 0, Count: 4}), 0, 0},
		{"state garbage", ShardStateByRootProtocol, []byte{1}, p2p.CodeInvalidRequest, 0},
		{"state unserved", ShardStateByRootProtocol, enc(&ShardStateRequest{Shard: 2}), p2p.CodeResourceUnavailable, 0},
		{"state unknown", ShardStateByRootProtocol, enc(&ShardStateRequest{Shard: 0, BlockRoot: bt.Root{9}}), 0, 0},
		{"unknown protocol", "nope", nil, p2p.CodeInvalidRequest, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			chunks, err := h.OnRequest("x", tc.protocol, tc.req)
			var re *p2p.ResponseError
			switch {
			case tc.code != 0 && (!errors.As(err, &re) || re.Code != tc.code):
				t.Fatalf("error %v, want code %d", err, tc.code)
			case tc.code == 0 && err != nil:
				t.Fatalf("error %v", err)
			case len(chunks) != tc.chunks:
				t.Fatalf("%d chunks, want %d", len(chunks), tc.chunks)
			}
		})
	}
}
