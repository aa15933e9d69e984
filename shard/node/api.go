package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	beaconapi "github.com/shardlab/shardlab/beacon/api"
	bnode "github.com/shardlab/shardlab/beacon/node"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p"
	shardapi "github.com/shardlab/shardlab/shard/api"
	"github.com/shardlab/shardlab/shard/chain"
	st "github.com/shardlab/shardlab/shard/types"
)

// The HTTP API is the embedded beacon node's server (beacon/node/api.go:
// the Beacon API endpoints, block arrivals, request metrics), which the
// beacon node builds when Config.HTTPPort > 0 and serves from its Run, with
// shard/api mounted under shardapi.Prefix. Without a port, newAPI builds
// the same handlers on a server that is never served, for HTTPHandler.

// newAPI returns the server with the shard endpoints mounted, and
// /metrics serving Config.Registerer when it is a Gatherer. The beacon
// node mounts /metrics itself when the registerer it was given (beaconReg)
// is one; a beacon follower's is wrapped with the role label, so the shard
// node mounts the registry then.
func (n *Node) newAPI(logger *slog.Logger, beaconReg prometheus.Registerer) *beaconapi.Server {
	srv := n.beacon.API()
	_, beaconMetrics := beaconReg.(prometheus.Gatherer)
	if srv == nil {
		alog := logger.With("component", "api")
		srv = beaconapi.NewServer(beaconapi.DefaultServerConfig(), n.beacon.APIBackend(), n.beacon.APINodeBackend(), alog)
		srv.Mount("GET "+bnode.BlockArrivalsPath, n.beacon.BlockArrivalsHandler(alog))
		beaconMetrics = false
	}
	if g, ok := n.cfg.Registerer.(prometheus.Gatherer); ok && !beaconMetrics {
		srv.Mount("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	}
	srv.Mount(shardapi.Prefix, shardapi.New(n.cfg.API, shardBackend{n: n}, n.beacon.APIBackend(), logger.With("component", "shard_api")))
	if n.cfg.Beacon.DebugAPI {
		n.mountDebug(srv, logger.With("component", "api"))
	}
	return srv
}

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
	out := shardapi.ReceiptList{Sent: sent, Claimed: claimed, Pending: sent - claimed, Received: c.Stats().ReceiptsReceived}
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
		out.ReceiptsReceived += cs.ReceiptsReceived
	}
	out.ReceiptsPending = out.ReceiptsSent - out.ReceiptsClaimed
	out.FraudProofsSeen = s.n.h.ProofsSeen()
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
