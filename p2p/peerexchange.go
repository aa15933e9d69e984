package p2p

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// PeerExchangeProtocol is the request/response protocol on which a node
// tells a peer which peers it is connected to (PeersRequest in, up to
// PeersRequest.Count PeerRecord chunks out). Discovery uses it to find
// peers beyond the bootnodes and servers of the shards it needs.
const PeerExchangeProtocol = "peer_exchange"

// ShardDirectory is what discovery needs to know about shards; the beacon
// node implements it from its peers' statuses. A node without one (plain
// p2p tests) exchanges peers without shard information.
type ShardDirectory interface {
	// PeerShards returns the shards connected peer p serves, as far as the
	// node knows (nil when unknown or none).
	PeerShards(p peer.ID) []uint64
	// WantedShards returns the shards the node wants at least one
	// connected server of (to ask for crosslink data or to sync a shard).
	WantedShards() []uint64
}

// SetShardDirectory sets the node's ShardDirectory (nil removes it). It may
// be called at any time.
func (n *Node) SetShardDirectory(d ShardDirectory) {
	n.mu.Lock()
	n.shardDir = d
	n.mu.Unlock()
}

func (n *Node) shardDirectory() ShardDirectory {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.shardDir
}

// peerShards returns the shards p serves according to the directory.
func (n *Node) peerShards(p peer.ID) []uint64 {
	if d := n.shardDirectory(); d != nil {
		return d.PeerShards(p)
	}
	return nil
}

// KnownPeer is a peer learnt from a peer-exchange answer.
type KnownPeer struct {
	Info   peer.AddrInfo
	Shards []uint64
}

// DecodePeerRecord decodes and checks one PeerExchangeProtocol answer
// chunk: a well-formed SSZ PeerRecord within the bounds, a valid peer ID,
// at least one valid multiaddr without a /p2p/ component, and shards
// strictly ascending. Every failure wraps ErrInvalidEncoding.
func DecodePeerRecord(b []byte) (KnownPeer, error) {
	var r PeerRecord
	if err := r.UnmarshalSSZ(b); err != nil {
		return KnownPeer{}, fmt.Errorf("decode peer record: %w: %w", ErrInvalidEncoding, err)
	}
	id, err := peer.IDFromBytes(r.ID)
	if err != nil {
		return KnownPeer{}, fmt.Errorf("decode peer record: %w: peer id: %w", ErrInvalidEncoding, err)
	}
	if len(r.Addrs) == 0 {
		return KnownPeer{}, fmt.Errorf("decode peer record %s: %w: no address", id, ErrInvalidEncoding)
	}
	kp := KnownPeer{Info: peer.AddrInfo{ID: id}, Shards: r.Shards}
	for _, raw := range r.Addrs {
		a, err := ma.NewMultiaddrBytes(raw)
		if err != nil {
			return KnownPeer{}, fmt.Errorf("decode peer record %s: %w: address: %w", id, ErrInvalidEncoding, err)
		}
		if _, err := a.ValueForProtocol(ma.P_P2P); err == nil {
			return KnownPeer{}, fmt.Errorf("decode peer record %s: %w: address %s names a peer", id, ErrInvalidEncoding, a)
		}
		kp.Info.Addrs = append(kp.Info.Addrs, a)
	}
	for i := 1; i < len(r.Shards); i++ {
		if r.Shards[i] <= r.Shards[i-1] {
			return KnownPeer{}, fmt.Errorf("decode peer record %s: %w: shards not ascending", id, ErrInvalidEncoding)
		}
	}
	return kp, nil
}

// encodePeerRecord builds the record of a connected peer, keeping the
// addresses that fit the bounds; ok is false when none does.
func encodePeerRecord(id peer.ID, addrs []ma.Multiaddr, shards []uint64) ([]byte, bool, error) {
	r := PeerRecord{ID: []byte(id)}
	if len(r.ID) > MaxPeerIDSize {
		return nil, false, nil
	}
	for _, a := range addrs {
		if len(r.Addrs) == MaxRecordAddrs {
			break
		}
		if raw := a.Bytes(); len(raw) <= MaxRecordAddrSize {
			if _, err := a.ValueForProtocol(ma.P_P2P); err != nil {
				r.Addrs = append(r.Addrs, raw)
			}
		}
	}
	if len(r.Addrs) == 0 {
		return nil, false, nil
	}
	r.Shards = ascendingShards(shards)
	buf, err := r.MarshalSSZ()
	if err != nil {
		return nil, false, fmt.Errorf("encode peer record %s: %w", id, err)
	}
	return buf, true, nil
}

// ascendingShards returns shards sorted, without duplicates, cut to
// MaxRecordShards.
func ascendingShards(shards []uint64) []uint64 {
	out := slices.Clone(shards)
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > MaxRecordShards {
		out = out[:MaxRecordShards]
	}
	return out
}

// servePeers answers a PeersRequest with the connected peers other than
// the requester (banned ones left out): those serving a requested shard
// first, the rest in random order.
func (n *Node) servePeers(_ context.Context, from peer.ID, req []byte, w ResponseWriter) error {
	var r PeersRequest
	if err := r.UnmarshalSSZ(req); err != nil || r.Count == 0 {
		return &ResponseError{Code: CodeInvalidRequest, Msg: "bad peers request"}
	}
	count := int(min(r.Count, MaxPeerRecords))
	type entry struct {
		id     peer.ID
		shards []uint64
		wanted bool
	}
	var entries []entry
	for _, p := range n.host.Network().Peers() {
		if p == from || n.isBanned(p) {
			continue
		}
		shards := n.peerShards(p)
		wanted := slices.ContainsFunc(shards, func(s uint64) bool { return slices.Contains(r.Shards, s) })
		entries = append(entries, entry{id: p, shards: shards, wanted: wanted})
	}
	rand.Shuffle(len(entries), func(i, j int) { entries[i], entries[j] = entries[j], entries[i] })
	slices.SortStableFunc(entries, func(a, b entry) int {
		switch {
		case a.wanted == b.wanted:
			return 0
		case a.wanted:
			return -1
		default:
			return 1
		}
	})
	written := 0
	for _, e := range entries {
		if written == count {
			break
		}
		buf, ok, err := encodePeerRecord(e.id, n.host.Peerstore().Addrs(e.id), e.shards)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if err := w.WriteChunk(buf); err != nil {
			return err
		}
		written++
	}
	return nil
}

// RequestPeers asks connected peer p for up to count (at most
// MaxPeerRecords) of its peers, those serving one of shards first. Records
// naming the node itself or p are dropped; a malformed record fails the
// whole answer (a hostile peer's answer is not used in part).
func (n *Node) RequestPeers(ctx context.Context, p peer.ID, count int, shards []uint64) ([]KnownPeer, error) {
	if count < 1 || count > MaxPeerRecords {
		return nil, fmt.Errorf("request peers from %s: %w: count %d not in [1, %d]", p, ErrInvalidArgument, count, MaxPeerRecords)
	}
	req := PeersRequest{Count: uint64(count), Shards: ascendingShards(shards)}
	buf, err := req.MarshalSSZ()
	if err != nil {
		return nil, fmt.Errorf("encode peers request: %w", err)
	}
	chunks, err := n.Request(ctx, p, PeerExchangeProtocol, buf, count)
	if err != nil {
		return nil, err
	}
	out := make([]KnownPeer, 0, len(chunks))
	for _, c := range chunks {
		kp, err := DecodePeerRecord(c)
		if err != nil {
			return nil, fmt.Errorf("peers from %s: %w", p, err)
		}
		if kp.Info.ID == n.host.ID() || kp.Info.ID == p {
			continue
		}
		if slices.ContainsFunc(out, func(o KnownPeer) bool { return o.Info.ID == kp.Info.ID }) {
			return nil, fmt.Errorf("peers from %s: %w: peer %s twice", p, ErrInvalidEncoding, kp.Info.ID)
		}
		out = append(out, kp)
	}
	return out, nil
}
