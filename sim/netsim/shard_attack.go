package netsim

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/shardlab/shardlab/beacon/handler"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p"
	shardhandler "github.com/shardlab/shardlab/shard/handler"
	st "github.com/shardlab/shardlab/shard/types"
)

// Attacks by a byzantine peer on the shard layer's gossip: replayed or
// misdirected receipt claims and garbage. The peer sends to its gossip
// neighbours only; the receiving handlers judge the messages as any gossip
// and forward what they accept.

// ClaimAttackKind is how a replayed claim is misused.
type ClaimAttackKind int

// The claim attacks.
const (
	// ClaimTwice sends a claim a destination block already included to
	// the destination again.
	ClaimTwice ClaimAttackKind = iota
	// ClaimWrongShard sends it to a shard that is not its destination.
	ClaimWrongShard
)

// String is the kind's scenario name.
func (k ClaimAttackKind) String() string {
	if k == ClaimWrongShard {
		return "wrong_shard"
	}
	return "twice"
}

// ParseClaimAttackKind reads a kind's scenario name.
func ParseClaimAttackKind(s string) (ClaimAttackKind, error) {
	for _, k := range []ClaimAttackKind{ClaimTwice, ClaimWrongShard} {
		if k.String() == s {
			return k, nil
		}
	}
	return 0, fmt.Errorf("%w: claim attack %q, expected twice or wrong_shard", ErrByzantine, s)
}

// claimStats counts the attack claims by outcome.
type claimStats struct {
	sent     uint64
	accepted uint64
	refused  map[string]uint64 // by reason
}

// garbageStats counts the garbage deliveries by verdict.
type garbageStats struct {
	rng     *rand.Rand
	sent    uint64
	verdict map[string]uint64
}

// ReplayClaim has node from (a byzantine peer) take the latest claim
// included on the canonical chain of shard dst (as its first serving node
// sees it) and gossip it again, at a third of the next slot: to dst
// (ClaimTwice) or to the next shard (ClaimWrongShard). The receiving
// node's verdict and the reason for it are counted (ShardStatus).
func (s *Sim) ReplayClaim(from int, dst types.Shard, kind ClaimAttackKind) error {
	if from < 0 || from >= len(s.nodes) {
		return fmt.Errorf("replay claim: %w: node %d of %d", ErrByzantine, from, len(s.nodes))
	}
	if uint64(dst) >= s.pcfg.ShardCount {
		return fmt.Errorf("replay claim: %w: shard %d of %d", ErrByzantine, dst, s.pcfg.ShardCount)
	}
	src := s.firstServing(dst)
	if src == nil {
		return fmt.Errorf("replay claim: %w: no shard node serves shard %d", ErrByzantine, dst)
	}
	claim, ok := shardhandler.LatestClaim(src.shard.chains[dst].Head().Root, src.shard.chains[dst].Block)
	if !ok {
		return fmt.Errorf("replay claim: %w: no claim on shard %d's chain yet", ErrByzantine, dst)
	}
	target := shardhandler.ReplayTarget(dst, claim, kind == ClaimWrongShard, s.pcfg.ShardCount)
	to := s.firstServing(target)
	if to == nil || to.index == from {
		return fmt.Errorf("replay claim: %w: node %d serves shard %d itself or none does", ErrByzantine, from, target)
	}
	data, err := (&shardhandler.ShardMessage{Claim: []*st.ReceiptClaim{claim}}).MarshalSSZ()
	if err != nil {
		return fmt.Errorf("replay claim: %w", err)
	}
	topic := p2p.ShardTxTopic(uint64(target))
	s.At(time.Duration(s.nextSlot)*s.slot+s.slot/3, func() {
		s.byz.claims.sent++
		s.send(from, to.index, topic, data, len(data), func() {
			s.trace.record(recGossip, s.loop.now, to.index, from, topic, data)
			v := to.onGossip(topic, s.net.peers[from], data)
			reason := shardhandler.ClaimReason(to.shard.chains[target], target, claim)
			if v == handler.Accept && reason == "" {
				s.byz.claims.accepted++
				return
			}
			if reason == "" {
				reason = shardhandler.ClaimRefusedByPool
			}
			if s.byz.claims.refused == nil {
				s.byz.claims.refused = make(map[string]uint64)
			}
			s.byz.claims.refused[reason]++
			to.log.Info("attack claim refused", "shard", uint64(target), "reason", reason)
		})
	})
	return nil
}

// GarbagePeer has node from send perSlot malformed or invalid gossip
// messages a slot, spread over the slot, for slots slots from the next
// one: random bytes, and transactions with random signatures, on the
// beacon and shard topics. Each goes to from's gossip neighbours, which
// judge it (verdicts counted in ShardStatus); what they accept they
// forward.
func (s *Sim) GarbagePeer(from, perSlot, slots int) error {
	if from < 0 || from >= len(s.nodes) || perSlot < 1 || slots < 1 {
		return fmt.Errorf("garbage peer: %w: node %d, %d a slot for %d slots", ErrByzantine, from, perSlot, slots)
	}
	g := &s.byz.garbage
	if g.rng == nil {
		g.rng = rand.New(rand.NewPCG(s.cfg.Seed, 0x67617262)) // "garb"
		g.verdict = make(map[string]uint64)
	}
	gap := s.slot / time.Duration(perSlot)
	for k := range slots * perSlot {
		at := time.Duration(s.nextSlot)*s.slot + time.Duration(k)*gap + gap/2
		s.At(at, func() { s.sendGarbage(from) })
	}
	return nil
}

// sendGarbage draws one garbage message and sends it to from's neighbours.
func (s *Sim) sendGarbage(from int) {
	g := &s.byz.garbage
	if s.nodes[from].down {
		return
	}
	r := g.rng
	var topic string
	var data []byte
	shard := r.Uint64N(max(1, s.pcfg.ShardCount))
	switch r.IntN(4) {
	case 0:
		topic = p2p.BeaconBlockTopic
	case 1:
		topic = p2p.BeaconAttestationTopic
	case 2:
		topic = p2p.ShardBlockTopic(shard)
	default:
		topic = p2p.ShardTxTopic(shard)
	}
	if topic == p2p.ShardTxTopic(shard) && r.IntN(2) == 0 {
		tx := &st.Transaction{Shard: types.Shard(shard), From: r.Uint64N(16), Nonce: r.Uint64N(4), ToShard: types.Shard(shard),
			To: r.Uint64N(16), Amount: types.Gwei(1 + r.Uint64N(1000))}
		for i := range tx.Signature {
			tx.Signature[i] = byte(r.Uint32())
		}
		data, _ = (&shardhandler.ShardMessage{Transaction: []*st.Transaction{tx}}).MarshalSSZ()
	} else {
		data = make([]byte, 1+r.IntN(512))
		for i := range data {
			data[i] = byte(r.Uint32())
		}
	}
	g.sent++
	id := newMsgID(topic, data)
	s.nodes[from].seen[id] = true
	for _, to := range s.meshOf(from) {
		s.send(from, to, topic, data, len(data), func() {
			n := s.nodes[to]
			if n.seen[id] {
				return
			}
			n.seen[id] = true
			s.trace.record(recGossip, s.loop.now, to, from, topic, data)
			v := n.onGossip(topic, s.net.peers[from], data)
			g.verdict[verdictName(v)]++
			if v == handler.Accept {
				s.forward(to, from, topic, data, id)
			}
		})
	}
}

// verdictName names a gossip verdict.
func verdictName(v handler.Verdict) string {
	switch v {
	case handler.Accept:
		return "accepted"
	case handler.Reject:
		return "rejected"
	}
	return "ignored"
}
