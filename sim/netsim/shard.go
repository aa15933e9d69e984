package netsim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	bchain "github.com/shardlab/shardlab/beacon/chain"
	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/handler"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
	"github.com/shardlab/shardlab/p2p"
	"github.com/shardlab/shardlab/shard/chain"
	shardcore "github.com/shardlab/shardlab/shard/core"
	shardhandler "github.com/shardlab/shardlab/shard/handler"
)

// ShardConfig configures the shard side of a simulation: shard nodes
// running shard/handler (each embedding a beacon handler without
// validators, as a real shard node embeds a beacon follower) and a
// transaction workload.
type ShardConfig struct {
	// Nodes is the number of shard nodes (0: a beacon-only run). They
	// split the shards as the testnet does and hold every validator's key
	// for shard proposer duty; with more nodes than shards, node k serves
	// shard k mod Shards and only the first server of a shard holds keys
	// (the others follow it).
	Nodes int
	// Shards is SHARD_COUNT, with the shard fork from genesis (at least
	// SLOTS_PER_EPOCH; required with shard nodes).
	Shards uint64
	// TxRate is the transactions per second submitted, to a node serving
	// the sender's shard; CrossShard the share sent to another shard.
	TxRate, CrossShard float64
}

// validate checks c for a chain of slotsPerEpoch slots an epoch.
func (c ShardConfig) validate(slotsPerEpoch uint64) error {
	switch {
	case c.Shards > 0 && c.Shards < slotsPerEpoch:
		return fmt.Errorf("%w: %d shards, want at least SLOTS_PER_EPOCH (%d)", ErrInvalidConfig, c.Shards, slotsPerEpoch)
	case c.Nodes < 0:
		return fmt.Errorf("%w: %d shard nodes", ErrInvalidConfig, c.Nodes)
	case c.Nodes > 0 && c.Shards == 0:
		return fmt.Errorf("%w: shard nodes without shards", ErrInvalidConfig)
	case c.Shards > params.MaxShards:
		return fmt.Errorf("%w: %d shards, at most %d", ErrInvalidConfig, c.Shards, params.MaxShards)
	case c.TxRate < 0 || math.IsNaN(c.TxRate) || math.IsInf(c.TxRate, 0):
		return fmt.Errorf("%w: tx rate %v", ErrInvalidConfig, c.TxRate)
	case c.TxRate > 0 && c.Nodes == 0:
		return fmt.Errorf("%w: a tx rate without shard nodes", ErrInvalidConfig)
	case c.CrossShard < 0 || c.CrossShard > 1 || math.IsNaN(c.CrossShard):
		return fmt.Errorf("%w: cross-shard share %v not in [0, 1]", ErrInvalidConfig, c.CrossShard)
	}
	return nil
}

// shardParams turns the shard fork on from genesis with c.Shards shards.
func (c ShardConfig) shardParams(pc *params.Config) (*params.Config, error) {
	if c.Shards == 0 {
		return pc, nil
	}
	if c.Shards < pc.SlotsPerEpoch {
		return nil, fmt.Errorf("%w: %d shards, want at least SLOTS_PER_EPOCH (%d)", ErrInvalidConfig, c.Shards, pc.SlotsPerEpoch)
	}
	pc.ShardCount = c.Shards
	return pc.WithShards(), nil
}

// shardTransition is tr with the fraud-proof verifier of genesis when
// the shard fork is on.
func shardTransition(tr *core.Transition, genesis *types.BeaconState) (*core.Transition, error) {
	if !tr.Config().Shard.Enabled() {
		return tr, nil
	}
	fv, err := shardcore.NewFraudVerifier(genesis)
	if err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	return core.New(tr.Config()).WithShardFork(fv), nil
}

// shardSim is the Sim's shard-side state.
type shardSim struct {
	allKeys    *validator.Keys // every validator's, for shard proposers
	txAccepted uint64
	txRng      *rand.Rand
	txDomain   shardcore.TxDomain
	nonces     map[[2]uint64]uint64 // next nonce by (shard, account)
	txGen      int                  // bumped by SetWorkload (workload.go)
}

// shardPart is the shard side of a simulated shard node.
type shardPart struct {
	shards []types.Shard
	chains map[types.Shard]*chain.Service
	h      *shardhandler.Handler
	events []bchain.Event // beacon events not yet handed to h
	unsub  func()
}

// isShardNode reports whether node i is a shard node (they follow the
// beacon nodes).
func (s *Sim) isShardNode(i int) bool { return i >= s.cfg.Nodes }

// servedShards are the shards of shard node k of the run (the testnet's
// split: contiguous ranges, or one shard each when nodes outnumber shards).
func servedShards(shards uint64, nodes, k int) []types.Shard {
	if uint64(nodes) > shards {
		return []types.Shard{types.Shard(uint64(k) % shards)}
	}
	var out []types.Shard
	for sh := shards * uint64(k) / uint64(nodes); sh < shards*uint64(k+1)/uint64(nodes); sh++ {
		out = append(out, types.Shard(sh))
	}
	return out
}

// openShard builds node n's shard chains and handler when n is a shard
// node, and makes its beacon handler serve their crosslink data.
func (s *Sim) openShard(n *node, hc *handler.Config) error {
	if !s.isShardNode(n.index) {
		return nil
	}
	sp := &shardPart{shards: servedShards(s.cfg.Shard.Shards, s.cfg.Shard.Nodes, n.index-s.cfg.Nodes),
		chains: make(map[types.Shard]*chain.Service)}
	v, err := shardhandler.Verifier(n.chain)
	if err != nil {
		return fmt.Errorf("open node %d: %w", n.index, err)
	}
	cc := chain.DefaultConfig()
	cc.Logger = n.log
	cc.VerifyCache, cc.TxCache = s.shared.verify, s.shared.tx // nil when unshared: each chain makes its own
	for _, sh := range sp.shards {
		if sp.chains[sh], err = shardhandler.OpenChain(cc, n.chain, n.db, v, sh, nil); err != nil {
			return fmt.Errorf("open node %d: %w", n.index, err)
		}
	}
	keys, err := s.shardKeys()
	if err != nil {
		return err
	}
	if uint64(n.index-s.cfg.Nodes) >= s.cfg.Shard.Shards {
		// With more shard nodes than shards, the first server of each
		// shard proposes; the others follow (without keys), or every
		// block would be proposed twice, an equivocation.
		keys = nil
	}
	sc := shardhandler.Config{
		Beacon: n.chain, Chains: sp.chains, Keys: keys, Verifier: v, MaxPendingBlocks: 256, ResendSlots: 4,
		BeaconSyncing: func() bool { return n.h.Syncing() },
		ServingPeers:  func(sh types.Shard) []peer.ID { return s.servingPeers(n, sh) },
		FishermanOff:  func() bool { return s.fishermanOff(n.index) },
		CensorClaims:  func(sh types.Shard) bool { return s.byz.censored[sh] },
	}
	if sp.h, err = shardhandler.New(sc, simEnv{n}); err != nil {
		return fmt.Errorf("open node %d shard handler: %w", n.index, err)
	}
	for _, sh := range sp.shards {
		hc.ServedShards = append(hc.ServedShards, uint64(sh))
	}
	hc.ServeCrosslinkData = sp.h.DataRoot
	hc.Keys = nil // shard nodes follow the beacon chain; their keys propose shard blocks
	sp.unsub = n.chain.Subscribe(func(ev bchain.Event) { s.beaconEvent(n, ev) })
	n.shard = sp
	return nil
}

// shardKeys are every validator's keys (built once): shard nodes propose
// for any of them, as the testnet's shard nodes do.
func (s *Sim) shardKeys() (*validator.Keys, error) {
	if s.sh.allKeys == nil {
		k, err := validator.NewInteropKeys(0, s.cfg.Validators)
		if err != nil {
			return nil, fmt.Errorf("simulate: %w", err)
		}
		s.sh.allKeys = k
	}
	return s.sh.allKeys, nil
}

// servingPeers are the peers whose beacon status, as n knows it, lists
// shard, sorted.
func (s *Sim) servingPeers(n *node, shard types.Shard) []peer.ID {
	var out []peer.ID
	for _, p := range s.peersOf(n.index) {
		if st, ok := n.h.PeerStatus(p); ok && slices.Contains(st.Shards, uint64(shard)) {
			out = append(out, p)
		}
	}
	return out
}

// beaconEvent queues a beacon chain event of a shard node; the first of a
// batch schedules the batch's delivery at the current time (after the
// event being run), as shard/node's event loop drains its channel.
func (s *Sim) beaconEvent(n *node, ev bchain.Event) {
	sp := n.shard
	sp.events = append(sp.events, ev)
	if len(sp.events) > 1 {
		return
	}
	s.loop.schedule(s.loop.now, func() {
		batch := sp.events
		sp.events = nil
		s.trace.record(recTimer, s.loop.now, n.index, n.index, "beacon-events", nil)
		sp.h.OnBeaconEvents(batch, false)
	})
}

// onGossip hands a gossip message to the node's handlers: shard topics to
// the shard handler, the others to the beacon handler.
func (n *node) onGossip(topic string, from peer.ID, data []byte) handler.Verdict {
	v := n.h.OnGossip
	if n.shard != nil && slices.Contains(n.shard.h.Topics(), topic) {
		v = n.shard.h.OnGossip
	}
	verdict := v(topic, from, data)
	n.s.judged(n.index, from, topic, verdict) // peer scoring (score.go)
	return verdict
}

// onRequest hands a request to the handler serving its protocol: the
// shard handler's (shard sync by range and by state root, inbox lookups)
// to it, the others to the beacon handler.
func (n *node) onRequest(from peer.ID, protocol string, req []byte) ([][]byte, error) {
	if slices.Contains(shardhandler.Protocols, protocol) {
		if n.shard == nil {
			return nil, &p2p.ResponseError{Code: p2p.CodeResourceUnavailable, Msg: "not a shard node"}
		}
		return n.shard.h.OnRequest(from, protocol, req)
	}
	return n.h.OnRequest(from, protocol, req)
}

// onSlotStart runs the node's slot-start work: the beacon handler's, then
// the shard handler's.
func (n *node) onSlotStart(slot types.Slot) {
	n.h.OnSlotStart(slot)
	if n.shard != nil {
		n.shard.h.OnSlotStart(slot)
	}
}

// closeShard ends the node's beacon event subscription.
func (n *node) closeShard() {
	if n.shard != nil && n.shard.unsub != nil {
		n.shard.unsub()
	}
}

// ShardReport is the shard side of an epoch line.
type ShardReport struct {
	// Crosslinked counts the shards whose current crosslink in the first
	// beacon node's head state is past genesis; Shards is SHARD_COUNT.
	Crosslinked, Shards int
	// Sent counts the receipts the shards' canonical chains sent, Claimed
	// those their destinations claimed (by the inbox nonces of the
	// destinations' head states), by the first node serving each shard.
	Sent, Claimed uint64
	// Transactions counts the workload's submissions accepted by a pool.
	Transactions uint64
}

// String formats r.
func (r ShardReport) String() string {
	return fmt.Sprintf("crosslinks %d/%d  receipts sent %d claimed %d  txs %d", r.Crosslinked, r.Shards, r.Sent, r.Claimed, r.Transactions)
}

// shardReport returns the shard side of the network now (nil for a
// beacon-only run).
func (s *Sim) shardReport() *ShardReport {
	if s.cfg.Shard.Nodes == 0 {
		return nil
	}
	r := &ShardReport{Shards: int(s.pcfg.ShardCount), Transactions: s.sh.txAccepted}
	head := s.nodes[0].chain.HeadState()
	for _, c := range head.CurrentCrosslinks {
		if c.EndEpoch > 0 {
			r.Crosslinked++
		}
	}
	first := s.shardChains()
	for src, c := range first {
		if c == nil {
			continue
		}
		for dst, d := range first {
			if dst != src && d != nil {
				r.Claimed += d.Inbox(types.Shard(src))
			}
		}
		sent, _, _ := c.Receipts(nil, 0)
		r.Sent += sent
	}
	return r
}

// shardChains returns, for every shard, the chain of the first shard node
// serving it (nil where none does).
func (s *Sim) shardChains() []*chain.Service {
	out := make([]*chain.Service, s.pcfg.ShardCount)
	for _, n := range s.nodes {
		if n.shard == nil {
			continue
		}
		for _, sh := range n.shard.shards {
			if out[sh] == nil {
				out[sh] = n.shard.chains[sh]
			}
		}
	}
	return out
}

// shardStateRoots appends every shard node's shard head state roots, in
// node and shard order, to roots.
func (s *Sim) shardStateRoots(roots []types.Root) ([]types.Root, error) {
	for _, n := range s.nodes {
		if n.shard == nil {
			continue
		}
		for _, sh := range n.shard.shards {
			r, err := n.shard.chains[sh].HeadState().HashTreeRoot()
			if err != nil {
				return nil, fmt.Errorf("simulate: hash node %d shard %d state: %w", n.index, sh, err)
			}
			roots = append(roots, r)
		}
	}
	return roots, nil
}

// txStart is when the workload starts: the first slot, so that proposers
// reference a beacon block.
func (s *Sim) txStart() time.Time { return s.genesis.Add(s.slot) }

// DefaultShardConfig is the shard side of issue 8's default network: 4
// shard nodes, 8 shards, 10 transactions a second, half cross-shard.
func DefaultShardConfig() ShardConfig {
	return ShardConfig{Nodes: 4, Shards: 8, TxRate: 10, CrossShard: 0.5}
}
