package handler

import (
	"errors"
	"fmt"

	"github.com/shardlab/shardlab/beacon/chain"
	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/store"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
	"github.com/shardlab/shardlab/p2p"
)

// OnSlotStart is the work at the start of slot: tick the chain, import the
// blocks that waited for the slot, exchange statuses every StatusInterval
// slots, look for a peer to sync from, and run the proposer duty.
func (h *Handler) OnSlotStart(slot types.Slot) {
	h.Tick()
	h.importFuture(slot)
	head, headSlot := h.chain.Head()
	h.cfg.Hooks.syncDistance(uint64(max(0, int64(slot)-int64(headSlot))))
	if uint64(slot)%h.cfg.Sync.StatusInterval == 0 {
		for _, p := range h.env.Peers() {
			h.exchangeStatus(p)
		}
	}
	if uint64(slot)%h.pcfg.SlotsPerEpoch == 0 {
		fin, just := h.chain.Finalized(), h.chain.Justified()
		h.log.Info("new epoch", "epoch", uint64(slot)/h.pcfg.SlotsPerEpoch, "slot", headSlot, "root", head,
			"justified_epoch", just.Epoch, "finalized_epoch", fin.Epoch, "peers", len(h.env.Peers()))
	}
	h.maybeSync()
	h.Propose(slot)
}

// OnAttestationDue is the work a third into slot: tick the chain and run
// the attester duty.
func (h *Handler) OnAttestationDue(slot types.Slot) {
	h.Tick()
	h.Attest(slot)
}

// dutiesPaused reports whether the validator client skips its duties: while
// the node catches up with a peer, its head is stale; while SetDuties took
// its validators offline.
func (h *Handler) dutiesPaused() bool { return h.cfg.Keys == nil || h.sync != nil || h.offline }

// SetDuties turns the hosted validators' duties on or off (a staged
// "validators offline" fault): off, the node keeps following and syncing
// the chain but neither proposes nor attests.
func (h *Handler) SetDuties(on bool) { h.offline = !on }

// DutiesOff reports whether SetDuties turned the duties off.
func (h *Handler) DutiesOff() bool { return h.offline }

// Syncing reports whether a range sync is running.
func (h *Handler) Syncing() bool { return h.sync != nil }

// Propose runs the proposer duty of slot when a hosted validator is the
// proposer. The block is produced (and signed) by beacon/validator, then
// its signing root is checked and recorded by slashing protection; only if
// that passes is the block imported and published.
func (h *Handler) Propose(slot types.Slot) {
	if h.dutiesPaused() {
		return
	}
	b, proposer, err := h.ProduceBlock(slot)
	if err != nil {
		h.cfg.Hooks.proposal("failed")
		h.log.Warn("block production failed", "slot", slot, "err", err)
		return
	}
	if b == nil {
		return // not our duty
	}
	root, err := b.SigningRoot()
	if err != nil {
		h.cfg.Hooks.proposal("failed")
		return
	}
	if err := h.st.CheckAndRecordProposal(proposer, slot, root); err != nil {
		h.cfg.Hooks.proposal("refused")
		if errors.Is(err, store.ErrSlashable) {
			h.log.Warn("proposal refused by slashing protection", "slot", slot, "root", root, "validator", proposer, "err", err)
		} else {
			h.log.Error("slashing protection failed", "slot", slot, "validator", proposer, "err", err)
		}
		return
	}
	h.cfg.Hooks.blockSeen(root, h.env.Now())
	if _, err := h.chain.ImportBlock(b, core.SkipSigs); err != nil {
		h.cfg.Hooks.proposal("failed")
		h.log.Error("import own block failed", "slot", slot, "root", root, "err", err)
		return
	}
	h.publish(p2p.BeaconBlockTopic, b)
	h.cfg.Hooks.proposal("published")
	body, proofs := types.BlockBody(b)
	h.log.Info("proposed block", "slot", slot, "root", root, "validator", proposer,
		"attestations", len(body.Attestations), "fraud_proofs", len(proofs))
}

// ProduceBlock builds the block of slot on the head if a hosted validator
// proposes it (nil otherwise), with the pooled attestations, operations and
// fraud proofs as inputs of one production. If the pooled operations make
// production fail, the block is produced without them.
func (h *Handler) ProduceBlock(slot types.Slot) (types.AnyBlock, types.ValidatorIndex, error) {
	if h.cfg.Keys == nil {
		return nil, 0, nil
	}
	_, headSlot := h.chain.Head()
	if headSlot >= slot {
		return nil, 0, nil
	}
	head, st, err := h.chain.HeadStateAt(slot) // read only: shared between simulated nodes
	if err != nil {
		return nil, 0, fmt.Errorf("process slots: %w", err)
	}
	proposer, err := h.tr.BeaconProposerIndex(st)
	if err != nil {
		return nil, 0, fmt.Errorf("proposer: %w", err)
	}
	if _, ok := h.cfg.Keys.SecretKeyOf(st.Validators[proposer].Pubkey); !ok || is(h.cfg.Behaviour.Offline, proposer) {
		return nil, 0, nil
	}
	pre, ok := h.chain.StateAt(head) // the proposer's own copy of the same head
	if !ok {
		return nil, 0, fmt.Errorf("head state %s is gone", head)
	}
	in := validator.Proposal{Attestations: h.cfg.Behaviour.uncensored(h.tr, st, h.chain.AttestationsForBlock(slot)),
		Graffiti: h.cfg.Graffiti, Eth1: h.cfg.Eth1}
	if types.ShardForkAtSlot(h.pcfg, slot) {
		in.FraudProofs = h.chain.FraudProofsForBlock(st)
	}
	ops := h.chain.OperationsForBlock(st)
	in.Operations = validator.Operations(ops)
	b, _, err := validator.ProduceAnyBlock(h.tr, pre, slot, h.cfg.Keys, in)
	if err != nil && !ops.Empty() {
		h.log.Warn("leaving pooled operations out of the block", "slot", slot, "err", err)
		in.Operations = validator.Operations{}
		b, _, err = validator.ProduceAnyBlock(h.tr, pre, slot, h.cfg.Keys, in)
	}
	if err != nil {
		return nil, 0, err
	}
	return b, proposer, nil
}

// Attest runs the attester duty of slot: for every committee of the slot
// with hosted members, the attestation data on the head (with the crosslink
// data root in the shard fork, asked of the crosslink source), each member
// checked and recorded by slashing protection, and one aggregate of the
// allowed members signed, added to the chain and published.
func (h *Handler) Attest(slot types.Slot) {
	if h.dutiesPaused() {
		return
	}
	head, st, err := h.chain.HeadStateAt(slot) // read only: shared between simulated nodes
	if err != nil {
		h.log.Warn("attestation failed", "slot", slot, "err", err)
		return
	}
	coms, err := validator.SlotCommittees(h.tr, st, slot)
	if err != nil {
		h.log.Warn("attestation failed", "slot", slot, "err", err)
		return
	}
	for _, sc := range coms {
		var ours []types.ValidatorIndex
		for _, v := range sc.Committee {
			if _, ok := h.cfg.Keys.SecretKeyOf(st.Validators[v].Pubkey); ok && !is(h.cfg.Behaviour.Offline, v) {
				ours = append(ours, v)
			}
		}
		if len(ours) == 0 {
			continue
		}
		data, err := validator.ProduceAttestationData(h.tr, st, head, slot, sc.Shard)
		if err != nil {
			h.cfg.Hooks.attestations("failed", len(ours))
			h.log.Warn("attestation failed", "slot", slot, "shard", sc.Shard, "err", err)
			continue
		}
		if !types.ShardForkAtSlot(h.pcfg, slot) {
			h.castVotes(st, data, sc, ours)
			continue
		}
		// The data root is asked for first; the vote is cast when it comes.
		h.crosslinkRoot(data.Crosslink, func(root types.Root) {
			data.Crosslink.DataRoot = root
			h.castVotes(st, data, sc, ours)
		})
	}
}

// castVote checks and records each hosted member's vote with slashing
// protection and signs, pools and publishes the aggregate of the allowed
// members.
func (h *Handler) castVote(st *types.BeaconState, data *types.AttestationData, sc validator.SlotCommittee, ours []types.ValidatorIndex, withhold bool) {
	slot := st.Slot
	msg := (&types.AttestationDataAndCustodyBit{Data: *data}).TreeRoot()
	var allowed []types.ValidatorIndex
	for _, v := range ours {
		err := h.st.CheckAndRecordAttestation(v, data.Source.Epoch, data.Target.Epoch, msg)
		if err == nil {
			allowed = append(allowed, v)
			continue
		}
		h.cfg.Hooks.attestations("refused", 1)
		if errors.Is(err, store.ErrSlashable) {
			h.log.Warn("attestation refused by slashing protection", "slot", slot, "validator", v, "err", err)
		} else {
			h.log.Error("slashing protection failed", "slot", slot, "validator", v, "err", err)
		}
	}
	if len(allowed) == 0 {
		return
	}
	a, err := validator.AggregateCommittee(h.tr, st, data, sc.Committee, allowed, h.cfg.Keys)
	if err != nil {
		h.cfg.Hooks.attestations("failed", len(allowed))
		h.log.Warn("attestation failed", "slot", slot, "shard", sc.Shard, "err", err)
		return
	}
	if err := h.chain.OnAttestation(a); err != nil && !errors.Is(err, chain.ErrDuplicate) {
		h.log.Warn("own attestation not accepted", "slot", slot, "shard", sc.Shard, "err", err)
	}
	if withhold {
		h.log.Debug("attestation withheld", "slot", slot, "shard", sc.Shard, "validators", len(allowed))
		return
	}
	h.publish(p2p.BeaconAttestationTopic, a)
	h.cfg.Hooks.attestations("published", len(allowed))
	h.log.Debug("attested", "slot", slot, "shard", sc.Shard, "validators", len(allowed), "root", data.BeaconBlockRoot)
}
