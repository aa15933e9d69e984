package netsim

import (
	"errors"
	"fmt"
	"time"

	"github.com/shardlab/shardlab/beacon/handler"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p"
	shardcore "github.com/shardlab/shardlab/shard/core"
	shardhandler "github.com/shardlab/shardlab/shard/handler"
	st "github.com/shardlab/shardlab/shard/types"
)

// The probe: what a load generator outside the package (sim/bench's
// --engine sim) needs to drive a simulation with its own transactions,
// scheduled with At, and to follow them through the shard chains, as it
// would through a node's HTTP API. Every method reads the first shard
// node serving the shard, and must be called from an At callback or
// between RunSlots calls (the simulation is single-threaded).

// ErrTxRefused is returned by SubmitTransaction when the node's pool does
// not take the transaction.
var ErrTxRefused = errors.New("transaction refused by the shard node's pool")

// Now is the virtual time.
func (s *Sim) Now() time.Time { return s.loop.now }

// GenesisTime is the virtual genesis time.
func (s *Sim) GenesisTime() time.Time { return s.genesis }

// TxDomain is the chain's transaction signing domain (docs/protocol.md
// §2.5); it needs shard nodes.
func (s *Sim) TxDomain() (shardcore.TxDomain, error) {
	for _, n := range s.nodes {
		if n.shard != nil {
			v, err := shardhandler.Verifier(n.chain)
			if err != nil {
				return shardcore.TxDomain{}, fmt.Errorf("tx domain: %w", err)
			}
			return v.TxDomain(s.pcfg), nil
		}
	}
	return shardcore.TxDomain{}, fmt.Errorf("%w: tx domain: no shard node", ErrInvalidConfig)
}

// SubmitTransaction hands a signed transaction to the first shard node
// serving its shard, which pools and gossips it as its API would. It
// returns ErrTxRefused when the pool does not take it.
func (s *Sim) SubmitTransaction(tx *st.Transaction) error {
	n := s.firstServing(tx.Shard)
	if n == nil {
		return fmt.Errorf("%w: no shard node serves shard %d", ErrInvalidConfig, tx.Shard)
	}
	if n.down {
		return fmt.Errorf("%w: the node serving shard %d is down", ErrTxRefused, tx.Shard)
	}
	pooled, err := s.submit(n, tx)
	if err != nil {
		return err
	}
	if !pooled {
		return ErrTxRefused
	}
	return nil
}

// submit hands tx to shard node n's pool, as its API would, and gossips
// it when pooled; it reports whether the pool took it.
func (s *Sim) submit(n *node, tx *st.Transaction) (bool, error) {
	data, err := (&shardhandler.ShardMessage{Transaction: []*st.Transaction{tx}}).MarshalSSZ()
	if err != nil {
		return false, fmt.Errorf("submit transaction: %w", err)
	}
	topic := p2p.ShardTxTopic(uint64(tx.Shard))
	s.trace.record(recGossip, s.loop.now, n.index, n.index, "submit "+topic, data)
	if n.shard.h.ValidateMessage(tx.Shard, data) != handler.Accept {
		return false, nil
	}
	s.sh.txAccepted++
	s.publish(n.index, topic, data)
	return true, nil
}

// ShardNonce is an account's nonce in the head state of its shard (false
// when no node serves the shard or the account does not exist).
func (s *Sim) ShardNonce(shard, index uint64) (uint64, bool) {
	n := s.firstServing(types.Shard(shard))
	if n == nil {
		return 0, false
	}
	a, ok := n.shard.chains[types.Shard(shard)].Account(index, nil)
	return a.Nonce, ok
}

// ShardHeadSlot is the slot of a shard's head block.
func (s *Sim) ShardHeadSlot(shard uint64) (uint64, bool) {
	n := s.firstServing(types.Shard(shard))
	if n == nil {
		return 0, false
	}
	return uint64(n.shard.chains[types.Shard(shard)].Head().Header.Slot), true
}

// ShardBlock is a shard's canonical block at slot (false: none).
func (s *Sim) ShardBlock(shard, slot uint64) (*st.ShardBlock, bool) {
	n := s.firstServing(types.Shard(shard))
	if n == nil {
		return nil, false
	}
	c := n.shard.chains[types.Shard(shard)]
	root, ok := c.CanonicalRoot(types.Slot(slot))
	if !ok {
		return nil, false
	}
	b, _, ok := c.Block(root)
	if !ok || uint64(b.Slot) != slot {
		return nil, false // the genesis header of slot 0
	}
	return b, true
}

// CrosslinkedSlot is the slot of the last shard block the shard's current
// crosslink covers, in the beacon head state of the node serving it
// (false: no crosslink past genesis, or its header unknown).
func (s *Sim) CrosslinkedSlot(shard uint64) (uint64, bool) {
	n := s.firstServing(types.Shard(shard))
	if n == nil {
		return 0, false
	}
	head := n.chain.HeadState()
	if shard >= uint64(len(head.CurrentCrosslinks)) {
		return 0, false
	}
	c := head.CurrentCrosslinks[shard]
	if c.EndEpoch == 0 {
		return 0, false
	}
	h, ok := n.shard.chains[types.Shard(shard)].CrosslinkHeader(c)
	if !ok {
		return 0, false
	}
	return uint64(h.Slot), true
}

// FinalizedEpoch is the finalized checkpoint's epoch in the first beacon
// node's head state.
func (s *Sim) FinalizedEpoch() uint64 {
	return uint64(s.nodes[0].chain.HeadState().FinalizedCheckpoint.Epoch)
}
