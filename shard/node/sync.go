package node

import (
	"slices"

	"github.com/libp2p/go-libp2p/core/peer"

	bt "github.com/shardlab/shardlab/beacon/types"
)

// Shard sync by range and checkpoint sync run in the shard handler
// (shard/handler/sync.go) over the node's Env: the node carries its
// requests over libp2p and serves its protocols through serveHandler.

// Syncing reports whether a shard sync is running.
func (n *Node) Syncing(shard bt.Shard) bool {
	if n.h == nil {
		return false
	}
	return n.h.Syncing(shard)
}

// peersServing returns the connected peers whose beacon status lists
// shard, sorted.
func (n *Node) peersServing(shard bt.Shard) []peer.ID {
	var out []peer.ID
	for _, pi := range n.beacon.Peers() {
		if pi.HasStatus && slices.Contains(pi.Status.Shards, uint64(shard)) {
			out = append(out, pi.ID)
		}
	}
	slices.Sort(out)
	return out
}
