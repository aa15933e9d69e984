package node

import (
	"path/filepath"
	"slices"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardlab/shardlab/p2p"
)

// DataDirP2P returns pc with the files a node keeps in its data dir: the
// p2p key (dataDir/p2p.key) unless pc has a key or key file, and the
// remembered peers (dataDir/peers.json) unless pc names a peers file.
// With an empty dataDir pc is returned as it is.
func DataDirP2P(pc p2p.Config, dataDir string) p2p.Config {
	if dataDir == "" {
		return pc
	}
	if pc.KeyFile == "" && pc.PrivateKey == nil {
		pc.KeyFile = filepath.Join(dataDir, "p2p.key")
	}
	if pc.Discovery.PeersFile == "" {
		pc.Discovery.PeersFile = filepath.Join(dataDir, "peers.json")
	}
	return pc
}

// shardDirectory tells the p2p node's discovery which shards the peers
// serve (their statuses) and which shards the node wants a server of:
// every shard when the shard fork is on and the node attests (it may be
// assigned to any shard's crosslink committee) or serves shards (it syncs
// them from other servers); none otherwise.
type shardDirectory struct{ n *Node }

// PeerShards returns the shards of p's last status.
func (d shardDirectory) PeerShards(p peer.ID) []uint64 {
	st, ok := d.n.PeerStatus(p)
	if !ok {
		return nil
	}
	return slices.Clone(st.Shards)
}

// WantedShards returns every shard or none (see shardDirectory).
func (d shardDirectory) WantedShards() []uint64 {
	n := d.n
	if !n.pcfg.Shard.Enabled() || (n.cfg.Validators.Empty() && len(n.cfg.ServedShards) == 0) {
		return nil
	}
	out := make([]uint64, n.pcfg.ShardCount)
	for i := range out {
		out[i] = uint64(i)
	}
	return out
}
