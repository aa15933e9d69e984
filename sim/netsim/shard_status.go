package netsim

import (
	"fmt"
	"maps"

	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/shard/chain"
)

// ShardStatus is the shard layer now, for scenario expectations and
// report series.
type ShardStatus struct {
	// Crosslinks are the end epochs of the shards' current crosslinks in
	// the first beacon node's head state, by shard.
	Crosslinks []uint64
	// DataRoots are those crosslinks' data roots.
	DataRoots []types.Root
	// Sent and Claimed count receipts as ShardReport does.
	Sent, Claimed uint64
	// ClaimedBy counts the receipts each shard claimed (its head's inbox
	// nonces summed), by shard.
	ClaimedBy []uint64
	// ClaimedFrom counts the receipts of each shard claimed, by shard.
	ClaimedFrom []uint64
	// FraudProofs counts the fraud proofs in the first beacon node's
	// canonical blocks.
	FraudProofs uint64
	// Balances is the sum of every account on the shards' heads (the first
	// node serving each shard); InFlight the amounts of the receipts their
	// canonical chains sent and their destinations have not claimed;
	// Genesis the balances at genesis. Conserved says Balances + InFlight
	// = Genesis and no destination claimed more receipts than its source
	// sent (OverClaimed lists the pairs that did, "src->dst").
	Balances, InFlight, Genesis uint64
	Conserved                   bool
	OverClaimed                 []string
	// ClaimsSent counts the attack claims sent (ReplayClaim),
	// ClaimsAccepted those a node accepted, ClaimsRefused the others by
	// reason.
	ClaimsSent, ClaimsAccepted uint64
	ClaimsRefused              map[string]uint64
	// GarbageSent counts the garbage messages (GarbagePeer), Garbage their
	// deliveries by verdict: accepted, rejected, ignored.
	GarbageSent uint64
	Garbage     map[string]uint64
}

// ShardStatus returns the shard layer now (nil in a beacon-only run). The
// first call reads the genesis balances: make it before the first slot
// runs, or Conserved compares with the balances of that call.
func (s *Sim) ShardStatus() (*ShardStatus, error) {
	if s.cfg.Shard.Nodes == 0 {
		return nil, nil
	}
	r := s.shardReport()
	out := &ShardStatus{Sent: r.Sent, Claimed: r.Claimed, ClaimsSent: s.byz.claims.sent, ClaimsAccepted: s.byz.claims.accepted,
		ClaimsRefused: maps.Clone(s.byz.claims.refused), GarbageSent: s.byz.garbage.sent, Garbage: maps.Clone(s.byz.garbage.verdict)}
	b := s.nodes[0].chain
	for _, c := range b.HeadState().CurrentCrosslinks {
		out.Crosslinks = append(out.Crosslinks, uint64(c.EndEpoch))
		out.DataRoots = append(out.DataRoots, c.DataRoot)
	}
	_, headSlot := b.Head()
	for slot := types.Slot(1); slot <= headSlot; slot++ {
		blk, _, ok := b.CanonicalBlock(slot)
		if sb, isShard := blk.(*types.ShardBeaconBlock); ok && isShard {
			out.FraudProofs += uint64(len(sb.Body.ShardFraudProofs))
		}
	}
	chains := s.shardChains()
	for _, c := range chains {
		if c == nil {
			return nil, fmt.Errorf("shard status: a shard has no serving node")
		}
		for _, a := range c.HeadState().Accounts {
			out.Balances += uint64(a.Balance)
		}
	}
	if s.byz.initial == 0 {
		s.byz.initial = out.Balances
	}
	out.Genesis = s.byz.initial
	out.ClaimedBy, out.ClaimedFrom = make([]uint64, len(chains)), make([]uint64, len(chains))
	for src, c := range chains {
		for dst, d := range chains {
			if src == dst {
				continue
			}
			out.ClaimedBy[dst] += d.Inbox(types.Shard(src))
			out.ClaimedFrom[src] += d.Inbox(types.Shard(src))
			amount, over := inFlight(c, d, types.Shard(src), types.Shard(dst))
			out.InFlight += amount
			if over {
				out.OverClaimed = append(out.OverClaimed, fmt.Sprintf("%d->%d", src, dst))
			}
		}
	}
	out.Conserved = out.Balances+out.InFlight == out.Genesis && len(out.OverClaimed) == 0
	return out, nil
}

// ShardNodeCount returns the number of shard nodes (the last nodes).
func (s *Sim) ShardNodeCount() int { return s.cfg.Shard.Nodes }

// ShardBalance returns the balance of account j on shard's head (the
// first shard node serving it).
func (s *Sim) ShardBalance(shard types.Shard, j uint64) (uint64, error) {
	n := s.firstServing(shard)
	if n == nil {
		return 0, fmt.Errorf("shard balance: %w: no shard node serves shard %d", ErrInvalidConfig, shard)
	}
	a, ok := n.shard.chains[shard].Account(j, nil)
	if !ok {
		return 0, fmt.Errorf("shard balance: %w: shard %d has no account %d", ErrInvalidConfig, shard, j)
	}
	return uint64(a.Balance), nil
}

// inFlight is the amount of the receipts src's head sent to dst that dst's
// head has not claimed, and whether dst claimed more than src sent.
func inFlight(src, dst *chain.Service, s, d types.Shard) (uint64, bool) {
	sent := src.HeadState().OutboxNonces[d]
	claimed := dst.Inbox(s)
	if claimed > sent {
		return 0, true
	}
	var amount uint64
	for _, r := range src.SentReceipts(d, claimed, int(sent-claimed)) {
		amount += uint64(r.Receipt.Amount)
	}
	return amount, false
}
