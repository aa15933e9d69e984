package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shardlab/shardlab/beacon/chain"
	"github.com/shardlab/shardlab/beacon/clock"
	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/store"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
	"github.com/shardlab/shardlab/p2p"
)

// slotLoop drives the node's per-slot work: at each slot start it ticks the
// chain, imports blocks that waited for the slot, exchanges statuses every
// StatusInterval slots and runs the proposer duty; at one third of the slot
// it runs the attester duty.
func (n *Node) slotLoop(ctx context.Context) {
	c := n.slots.Clock()
	for ctx.Err() == nil {
		now := c.Now()
		slot, started := n.slots.SlotAt(now)
		var at time.Time
		attest := false
		switch {
		case !started:
			at = n.slots.Genesis()
		case now.Before(n.slots.SlotStart(slot).Add(n.slots.SlotDuration() / 3)):
			at, attest = n.slots.SlotStart(slot).Add(n.slots.SlotDuration()/3), true
		default:
			slot++
			at = n.slots.SlotStart(slot)
		}
		if err := clock.WaitUntil(ctx, c, at); err != nil {
			return
		}
		n.tick()
		if attest {
			n.attest(ctx, slot)
			continue
		}
		n.onSlotStart(ctx, slot)
	}
}

// onSlotStart is the slot-start work.
func (n *Node) onSlotStart(ctx context.Context, slot types.Slot) {
	n.importFuture(slot)
	head, headSlot := n.chain.Head()
	n.m.syncDistance.Set(float64(max(0, int64(slot)-int64(headSlot))))
	if uint64(slot)%n.cfg.Sync.StatusInterval == 0 {
		for _, p := range n.p2p.Peers() {
			n.exchangeStatus(ctx, p)
		}
	}
	if uint64(slot)%n.pcfg.SlotsPerEpoch == 0 {
		fin, just := n.chain.Finalized(), n.chain.Justified()
		n.log.Info("new epoch", "epoch", uint64(slot)/n.pcfg.SlotsPerEpoch, "slot", headSlot, "root", head,
			"justified_epoch", just.Epoch, "finalized_epoch", fin.Epoch, "peers", len(n.p2p.Peers()))
	}
	n.propose(ctx, slot)
}

// dutiesPaused reports whether the validator client skips its duties: while
// the node catches up with a peer, its head is stale.
func (n *Node) dutiesPaused() bool { return n.keys == nil || n.syncing.Load() }

// propose runs the proposer duty of slot when a hosted validator is the
// proposer. The block is produced (and signed) by beacon/validator, then
// its signing root is checked and recorded by slashing protection; only if
// that passes is the block imported and published.
func (n *Node) propose(ctx context.Context, slot types.Slot) {
	if n.dutiesPaused() {
		return
	}
	b, proposer, err := n.produceBlock(slot)
	if err != nil {
		n.m.proposals.WithLabelValues("failed").Inc()
		n.log.Warn("block production failed", "slot", slot, "err", err)
		return
	}
	if b == nil {
		return // not our duty
	}
	root, err := b.SigningRoot()
	if err != nil {
		n.m.proposals.WithLabelValues("failed").Inc()
		return
	}
	if err := n.store.CheckAndRecordProposal(proposer, slot, root); err != nil {
		n.m.proposals.WithLabelValues("refused").Inc()
		if errors.Is(err, store.ErrSlashable) {
			n.log.Warn("proposal refused by slashing protection", "slot", slot, "root", root, "validator", proposer, "err", err)
		} else {
			n.log.Error("slashing protection failed", "slot", slot, "validator", proposer, "err", err)
		}
		return
	}
	n.arrivals.record(root, n.slots.Now())
	if _, err := n.chain.ImportBlock(b, core.SkipSigs); err != nil {
		n.m.proposals.WithLabelValues("failed").Inc()
		n.log.Error("import own block failed", "slot", slot, "root", root, "err", err)
		return
	}
	if err := n.publish(ctx, p2p.BeaconBlockTopic, b); err != nil {
		n.log.Warn("publish block failed", "slot", slot, "root", root, "err", err)
	}
	n.m.proposals.WithLabelValues("published").Inc()
	body, proofs := types.BlockBody(b)
	n.log.Info("proposed block", "slot", slot, "root", root, "validator", proposer,
		"attestations", len(body.Attestations), "fraud_proofs", len(proofs))
}

// produceBlock builds the block of slot on the head if a hosted validator
// proposes it (nil otherwise), with the pooled attestations, fraud proofs
// and operations.
func (n *Node) produceBlock(slot types.Slot) (types.AnyBlock, types.ValidatorIndex, error) {
	_, headSlot := n.chain.Head()
	if headSlot >= slot {
		return nil, 0, nil
	}
	pre := n.chain.HeadState()
	st := pre.Copy()
	if err := n.tr.ProcessSlots(st, slot); err != nil {
		return nil, 0, fmt.Errorf("process slots: %w", err)
	}
	proposer, err := n.tr.BeaconProposerIndex(st)
	if err != nil {
		return nil, 0, fmt.Errorf("proposer: %w", err)
	}
	if _, ok := n.keys.SecretKeyOf(st.Validators[proposer].Pubkey); !ok {
		return nil, 0, nil
	}
	atts := n.chain.AttestationsForBlock(slot)
	var b types.AnyBlock
	if types.ShardForkAtSlot(n.pcfg, slot) {
		proofs := n.chain.FraudProofsForBlock(st)
		b, _, err = validator.ProduceShardBeaconBlock(n.tr, pre, slot, n.keys, atts, n.graffiti, proofs)
	} else {
		b, _, err = validator.ProduceBlock(n.tr, pre, slot, n.keys, atts, n.graffiti)
	}
	if err != nil {
		return nil, 0, err
	}
	if ops := n.chain.OperationsForBlock(st); !ops.Empty() {
		withOps, err := n.withOperations(pre, st, b, ops, proposer)
		if err != nil {
			n.log.Warn("leaving pooled operations out of the block", "slot", slot, "err", err)
		} else {
			b = withOps
		}
	}
	return b, proposer, nil
}

// withOperations returns a copy of b with the pooled slashings and exits
// added, its state root recomputed on pre and signed again by the proposer.
// beacon/validator's producers take only attestations and fraud proofs;
// st is pre processed to the block's slot.
func (n *Node) withOperations(pre, st *types.BeaconState, b types.AnyBlock, ops chain.Operations, proposer types.ValidatorIndex) (types.AnyBlock, error) {
	var out types.AnyBlock
	switch blk := b.(type) {
	case *types.BeaconBlock:
		cp := *blk
		cp.Body.ProposerSlashings, cp.Body.AttesterSlashings, cp.Body.VoluntaryExits = ops.ProposerSlashings, ops.AttesterSlashings, ops.VoluntaryExits
		out = &cp
	case *types.ShardBeaconBlock:
		cp := *blk
		cp.Body.ProposerSlashings, cp.Body.AttesterSlashings, cp.Body.VoluntaryExits = ops.ProposerSlashings, ops.AttesterSlashings, ops.VoluntaryExits
		out = &cp
	default:
		return nil, fmt.Errorf("add operations: block of type %T", b)
	}
	post := pre.Copy()
	if err := n.tr.StateTransitionAny(post, out, core.SkipSigs, false); err != nil {
		return nil, fmt.Errorf("add operations: %w", err)
	}
	stateRoot, err := post.HashTreeRoot()
	if err != nil {
		return nil, fmt.Errorf("add operations: %w", err)
	}
	sk, ok := n.keys.SecretKeyOf(st.Validators[proposer].Pubkey)
	if !ok {
		return nil, fmt.Errorf("add operations: no key for validator %d", proposer)
	}
	domain := n.tr.Domain(st, n.pcfg.DomainBeaconProposer, n.tr.CurrentEpoch(st))
	switch blk := out.(type) {
	case *types.BeaconBlock:
		blk.StateRoot = stateRoot
		r, err := blk.SigningRoot()
		if err != nil {
			return nil, err
		}
		blk.Signature = types.BLSSignature(sk.Sign(r, domain).Bytes())
	case *types.ShardBeaconBlock:
		blk.StateRoot = stateRoot
		r, err := blk.SigningRoot()
		if err != nil {
			return nil, err
		}
		blk.Signature = types.BLSSignature(sk.Sign(r, domain).Bytes())
	}
	return out, nil
}

// attest runs the attester duty of slot: for every committee of the slot
// with hosted members, the attestation data on the head (with the crosslink
// data root in the shard fork), each member checked and recorded by
// slashing protection, and one aggregate of the allowed members signed,
// added to the chain and published.
func (n *Node) attest(ctx context.Context, slot types.Slot) {
	if n.dutiesPaused() {
		return
	}
	head, _ := n.chain.Head()
	st := n.chain.HeadState()
	if st.Slot < slot {
		if err := n.tr.ProcessSlots(st, slot); err != nil {
			n.log.Warn("attestation failed", "slot", slot, "err", err)
			return
		}
	}
	coms, err := validator.SlotCommittees(n.tr, st, slot)
	if err != nil {
		n.log.Warn("attestation failed", "slot", slot, "err", err)
		return
	}
	for _, sc := range coms {
		var ours []types.ValidatorIndex
		for _, v := range sc.Committee {
			if _, ok := n.keys.SecretKeyOf(st.Validators[v].Pubkey); ok {
				ours = append(ours, v)
			}
		}
		if len(ours) == 0 {
			continue
		}
		if err := n.attestCommittee(ctx, st, head, slot, sc, ours); err != nil {
			n.m.attestations.WithLabelValues("failed").Add(float64(len(ours)))
			n.log.Warn("attestation failed", "slot", slot, "shard", sc.Shard, "err", err)
		}
	}
}

func (n *Node) attestCommittee(ctx context.Context, st *types.BeaconState, head types.Root, slot types.Slot, sc validator.SlotCommittee, ours []types.ValidatorIndex) error {
	var opts []validator.AttestationOption
	if types.ShardForkAtSlot(n.pcfg, slot) {
		opts = append(opts, validator.WithDataRoot(func(c types.Crosslink) (types.Root, error) {
			return n.crosslinkRoot(ctx, c), nil
		}))
	}
	data, err := validator.ProduceAttestationData(n.tr, st, head, slot, sc.Shard, opts...)
	if err != nil {
		return err
	}
	msg := (&types.AttestationDataAndCustodyBit{Data: *data}).TreeRoot()
	var allowed []types.ValidatorIndex
	for _, v := range ours {
		err := n.store.CheckAndRecordAttestation(v, data.Source.Epoch, data.Target.Epoch, msg)
		if err == nil {
			allowed = append(allowed, v)
			continue
		}
		n.m.attestations.WithLabelValues("refused").Inc()
		if errors.Is(err, store.ErrSlashable) {
			n.log.Warn("attestation refused by slashing protection", "slot", slot, "validator", v, "err", err)
		} else {
			n.log.Error("slashing protection failed", "slot", slot, "validator", v, "err", err)
		}
	}
	if len(allowed) == 0 {
		return nil
	}
	a, err := validator.AggregateCommittee(n.tr, st, data, sc.Committee, allowed, n.keys)
	if err != nil {
		return err
	}
	if err := n.chain.OnAttestation(a); err != nil && !errors.Is(err, chain.ErrDuplicate) {
		n.log.Warn("own attestation not accepted", "slot", slot, "shard", sc.Shard, "err", err)
	}
	if err := n.publish(ctx, p2p.BeaconAttestationTopic, a); err != nil {
		n.log.Warn("publish attestation failed", "slot", slot, "err", err)
	}
	n.m.attestations.WithLabelValues("published").Add(float64(len(allowed)))
	n.log.Debug("attested", "slot", slot, "shard", sc.Shard, "validators", len(allowed), "root", head)
	return nil
}

// crosslinkRoot asks the CrosslinkData source, falling back to the
// empty-range root with a warning.
func (n *Node) crosslinkRoot(ctx context.Context, c types.Crosslink) types.Root {
	// The attestation is due now: never wait more than a sixth of a slot.
	ctx, cancel := context.WithTimeout(ctx, min(n.cfg.CrosslinkDataTimeout, n.slots.SlotDuration()/6))
	defer cancel()
	root, err := n.crosslink.DataRoot(ctx, c)
	if err != nil {
		n.log.Warn("no crosslink data, voting the empty data root", "shard", c.Shard,
			"epoch", c.EndEpoch, "err", err)
		return EmptyCrosslinkDataRoot(n.pcfg)
	}
	return root
}

// publish encodes and publishes a message.
func (n *Node) publish(ctx context.Context, topic string, v interface{ MarshalSSZ() ([]byte, error) }) error {
	buf, err := v.MarshalSSZ()
	if err != nil {
		return fmt.Errorf("encode %s message: %w", topic, err)
	}
	return n.p2p.Publish(ctx, topic, buf)
}
