package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"

	beaconapi "github.com/shardlab/shardlab/beacon/api"
	bchain "github.com/shardlab/shardlab/beacon/chain"
	bcore "github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p"
	shardapi "github.com/shardlab/shardlab/shard/api"
	"github.com/shardlab/shardlab/shard/chain"
	st "github.com/shardlab/shardlab/shard/types"
)

// The HTTP API: beacon/api's server over the beacon follower (the Beacon
// API endpoints) with shard/api mounted under shardapi.Prefix. The adapters
// from the beacon chain service to beacon/api.Backend and from the node to
// NodeBackend duplicate the beacon node's own (beacon/node/api.go), written
// at the same time; one of them should go once both settle.

// newAPI builds the server (served by Run when Config.HTTPPort > 0).
func (n *Node) newAPI(logger *slog.Logger) *beaconapi.Server {
	sc := beaconapi.DefaultServerConfig()
	sc.Addr = net.JoinHostPort(n.cfg.HTTPHost, strconv.Itoa(n.cfg.HTTPPort))
	be := beaconBackend{c: n.bchain}
	srv := beaconapi.NewServer(sc, be, nodeBackend{n: n}, logger.With("component", "api"))
	srv.Mount(shardapi.Prefix, shardapi.New(n.cfg.API, shardBackend{n: n}, be, logger.With("component", "shard_api")))
	return srv
}

// beaconBackend adapts the beacon chain service to beacon/api.Backend and
// shard/api.BeaconReader.
type beaconBackend struct{ c *bchain.Service }

func (b beaconBackend) Config() *params.Config        { return b.c.Config() }
func (b beaconBackend) Transition() *bcore.Transition { return b.c.Transition() }

func (b beaconBackend) GenesisRoot() (bt.Root, error) { return b.c.GenesisRoot(), nil }

func (b beaconBackend) Head() (bt.Root, bt.Slot) { return b.c.Head() }

func (b beaconBackend) Finality() (justified, finalized bt.Checkpoint) {
	return b.c.Justified(), b.c.Finalized()
}

func (b beaconBackend) Block(root bt.Root) (bt.AnyBlock, error) {
	blk, ok := b.c.Block(root)
	if !ok {
		return nil, fmt.Errorf("beacon block %s: %w", root, beaconapi.ErrNotFound)
	}
	return blk, nil
}

func (b beaconBackend) CanonicalRoot(slot bt.Slot) (bt.Root, error) {
	if _, head := b.c.Head(); slot > head {
		return bt.Root{}, fmt.Errorf("slot %d after the head: %w", slot, beaconapi.ErrNotFound)
	}
	_, root, ok := b.c.CanonicalBlock(slot)
	if !ok {
		return bt.Root{}, fmt.Errorf("canonical beacon block at slot %d: %w", slot, beaconapi.ErrNotFound)
	}
	return root, nil
}

// State returns a copy (StateAt copies), so the API's use never races
// with the chain.
func (b beaconBackend) State(blockRoot bt.Root) (*bt.BeaconState, error) {
	s, ok := b.c.StateAt(blockRoot)
	if !ok {
		return nil, fmt.Errorf("state of beacon block %s: %w", blockRoot, beaconapi.ErrNotFound)
	}
	return s, nil
}

// nodeBackend adapts the node to beacon/api.NodeBackend.
type nodeBackend struct{ n *Node }

func (a nodeBackend) PeerID() string { return a.n.p2p.ID().String() }

func (a nodeBackend) Addrs() []string {
	var out []string
	for _, ad := range a.n.p2p.FullAddrs() {
		out = append(out, ad.String())
	}
	return out
}

func (a nodeBackend) Peers() []beaconapi.PeerInfo {
	peers := a.n.beacon.Peers()
	out := make([]beaconapi.PeerInfo, len(peers))
	for i, p := range peers {
		out[i] = beaconapi.PeerInfo{PeerID: p.ID.String(), Direction: p.Direction}
		if len(p.Addrs) > 0 {
			out[i].Addr = p.Addrs[0].String()
		}
	}
	return out
}

func (a nodeBackend) SyncStatus() beaconapi.SyncStatus {
	head, dist, syncing := a.n.beacon.SyncStatus()
	return beaconapi.SyncStatus{HeadSlot: head, SyncDistance: dist, IsSyncing: syncing, Ready: a.n.Ready()}
}

func (a nodeBackend) Version() string { return a.n.cfg.Version }

// shardBackend implements shard/api.ShardBackend over the shard chains.
type shardBackend struct{ n *Node }

var _ shardapi.ShardBackend = shardBackend{}

func (s shardBackend) chain(shard bt.Shard) (*chain.Service, error) {
	c, ok := s.n.chains[shard]
	if !ok {
		return nil, fmt.Errorf("shard %d: %w", shard, shardapi.ErrNotServed)
	}
	return c, nil
}

func (s shardBackend) Shards() []bt.Shard { return s.n.Shards() }

func (s shardBackend) Head(shard bt.Shard) (shardapi.Head, error) {
	c, err := s.chain(shard)
	if err != nil {
		return shardapi.Head{}, err
	}
	h := c.Head()
	return shardapi.Head{Slot: h.Header.Slot, Root: h.Root, StateRoot: h.Header.StateRoot, BeaconBlockRoot: h.Header.BeaconBlockRoot}, nil
}

func (s shardBackend) Block(shard bt.Shard, root bt.Root) (*st.ShardBlock, error) {
	c, err := s.chain(shard)
	if err != nil {
		return nil, err
	}
	b, _, ok := c.Block(root)
	if !ok {
		return nil, fmt.Errorf("shard %d block %s: %w", shard, root, beaconapi.ErrNotFound)
	}
	return b, nil
}

func (s shardBackend) CanonicalRoot(shard bt.Shard, slot bt.Slot) (bt.Root, error) {
	c, err := s.chain(shard)
	if err != nil {
		return bt.Root{}, err
	}
	r, ok := c.CanonicalRoot(slot)
	if !ok {
		return bt.Root{}, fmt.Errorf("shard %d slot %d: %w", shard, slot, beaconapi.ErrNotFound)
	}
	return r, nil
}

func (s shardBackend) CrosslinkHeader(shard bt.Shard, cl bt.Crosslink) (st.ShardBlockHeader, error) {
	c, err := s.chain(shard)
	if err != nil {
		return st.ShardBlockHeader{}, err
	}
	h, ok := c.CrosslinkHeader(cl)
	if !ok {
		return st.ShardBlockHeader{}, fmt.Errorf("crosslink of shard %d: %w", shard, beaconapi.ErrNotFound)
	}
	return h, nil
}

func (s shardBackend) Account(shard bt.Shard, index uint64, stateRoot *bt.Root) (st.Account, error) {
	c, err := s.chain(shard)
	if err != nil {
		return st.Account{}, err
	}
	a, ok := c.Account(index, stateRoot)
	if !ok {
		return st.Account{}, fmt.Errorf("account %d of shard %d: %w", index, shard, beaconapi.ErrNotFound)
	}
	return a, nil
}

func (s shardBackend) Receipts(shard bt.Shard, q shardapi.ReceiptQuery) (shardapi.ReceiptList, error) {
	c, err := s.chain(shard)
	if err != nil {
		return shardapi.ReceiptList{}, err
	}
	var filter *bool
	switch q.Status {
	case shardapi.ReceiptClaimed:
		t := true
		filter = &t
	case shardapi.ReceiptPending:
		f := false
		filter = &f
	}
	sent, claimed, list := c.Receipts(filter, max(q.Limit, 1))
	out := shardapi.ReceiptList{Sent: sent, Claimed: claimed, Pending: sent - claimed}
	for _, r := range list {
		status := shardapi.ReceiptPending
		if r.Claimed {
			status = shardapi.ReceiptClaimed
		}
		out.Receipts = append(out.Receipts, shardapi.ReceiptInfo{Receipt: r.Receipt, Status: status, BlockRoot: r.Block})
	}
	return out, nil
}

// SubmitTransaction validates tx against the shard's head state, pools it
// and gossips it. A transaction already pooled is accepted again.
func (s shardBackend) SubmitTransaction(ctx context.Context, tx *st.Transaction) error {
	return s.n.SubmitTransaction(ctx, tx)
}

func (s shardBackend) Stats() shardapi.Stats {
	var out shardapi.Stats
	for _, sh := range s.n.shards {
		cs := s.n.chains[sh].Stats()
		out.Transactions += cs.Transactions
		out.ReceiptsSent += cs.ReceiptsSent
		out.ReceiptsClaimed += cs.ReceiptsClaimed
	}
	out.ReceiptsPending = out.ReceiptsSent - out.ReceiptsClaimed
	out.FraudProofsSeen = s.n.fraud.seenCount()
	return out
}

// SubmitTransaction validates a transaction of a served shard against its
// head state (signature, nonce, balance), pools it and publishes it on the
// shard's transaction topic. Errors wrap beacon/core.ErrInvalid for an
// invalid or stale transaction, beacon/api.ErrUnavailable for a full pool,
// shard/api.ErrNotServed for another shard.
func (n *Node) SubmitTransaction(ctx context.Context, tx *st.Transaction) error {
	c, ok := n.chains[tx.Shard]
	if !ok {
		return fmt.Errorf("submit transaction: shard %d: %w", tx.Shard, shardapi.ErrNotServed)
	}
	err := c.AddTransaction(tx)
	switch {
	case errors.Is(err, chain.ErrDuplicate):
	case errors.Is(err, chain.ErrPoolFull):
		return fmt.Errorf("submit transaction: %w: %w", beaconapi.ErrUnavailable, err)
	case err != nil:
		return fmt.Errorf("submit transaction: %w", err)
	}
	if err := n.publish(ctx, p2p.ShardTxTopic(uint64(tx.Shard)), &ShardMessage{Transaction: []*st.Transaction{tx}}); err != nil {
		n.log.Warn("publish transaction failed", "shard", uint64(tx.Shard), "err", err)
	}
	return nil
}
