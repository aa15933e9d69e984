package node

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"

	bstore "github.com/shardlab/shardlab/beacon/store"
	bt "github.com/shardlab/shardlab/beacon/types"
)

// The shard store's head markers: like the beacon node's (beacon/node
// MarkerFile), one file per served shard, DataDir/shard-<n>.head, records
// the shard head last known committed, so that a shard database that lost
// committed writes (a truncated WAL tail) says what it lost instead of
// starting silently from an older head. Shard blocks are only signed by
// proposers for slots the network moves past, so the node then syncs the
// lost blocks from peers.

func (n *Node) markerPath(s bt.Shard) string {
	return filepath.Join(n.cfg.DataDir, "shard-"+strconv.FormatUint(uint64(s), 10)+".head")
}

// checkShardMarkers reports, per shard, stored heads that the restored
// chain no longer has, then records the restored heads.
func (n *Node) checkShardMarkers() error {
	if n.cfg.DataDir == "" {
		return nil
	}
	for _, s := range n.shards {
		c := n.chains[s]
		path := n.markerPath(s)
		m, ok, err := bstore.ReadMarker(path)
		if errors.Is(err, bstore.ErrCorrupt) {
			n.log.Warn("ignoring unreadable head marker", "shard", s, "err", err)
		} else if err != nil {
			return err
		}
		h := c.Head()
		// A head proven invalid since was dropped on purpose.
		if ok && m.Root != h.Root && !c.HasBlock(m.Root) && !c.IsInvalid(m.Root) {
			how := "recorded by the head marker of a run that did not shut down cleanly"
			if m.Clean {
				how = "recorded by the last clean shutdown"
			}
			n.log.Error(fmt.Sprintf("shard %d store recovered to slot %d; slots %d..%d %s (%s) are gone, syncing from peers",
				s, h.Header.Slot, h.Header.Slot+1, m.Slot, how, path), "shard", s, "slot", h.Header.Slot, "lost_root", m.Root)
		}
	}
	return n.writeShardMarkers(false)
}

// writeShardMarkers records the heads that changed since the last call
// (all of them when clean, at shutdown).
func (n *Node) writeShardMarkers(clean bool) error {
	if n.cfg.DataDir == "" {
		return nil
	}
	n.markerMu.Lock()
	defer n.markerMu.Unlock()
	if n.marked == nil {
		n.marked = make(map[bt.Shard]bt.Root)
	}
	for _, s := range n.shards {
		h := n.chains[s].Head()
		if !clean && n.marked[s] == h.Root {
			continue
		}
		if err := bstore.WriteMarker(n.markerPath(s), bstore.Marker{Slot: h.Header.Slot, Root: h.Root, Clean: clean}); err != nil {
			return err
		}
		n.marked[s] = h.Root
	}
	return nil
}
