package statesim

import (
	"fmt"
	"strings"

	"github.com/shardlab/shardlab/beacon/types"
	st "github.com/shardlab/shardlab/shard/types"
)

// lastEpochsMargin is how many final epochs the summary leaves out when it
// asks whether every receipt was claimed: the crosslink covering a block of
// epoch e is voted in epoch e+1 and written at its end (or at the end of
// e+2, from votes included late), and the receipt is claimable once the
// crosslink has been in the beacon state for SHARD_CHALLENGE_WINDOW (1)
// epoch: from epoch e+3 or e+4.
const lastEpochsMargin = 4

// ShardLayerReport is the shard layer at the end of an epoch (the time of
// its EpochReport). Counts are totals over the run unless they say
// otherwise.
type ShardLayerReport struct {
	Shards []ShardReport `json:"shards"`
	// Transactions is the number of transactions in canonical shard blocks.
	Transactions uint64 `json:"transactions"`
	// ReceiptsSent counts the receipts of canonical blocks; ReceiptsClaimed
	// those claimed on their destination; ReceiptsPending the rest.
	ReceiptsSent    uint64 `json:"receipts_sent"`
	ReceiptsClaimed uint64 `json:"receipts_claimed"`
	ReceiptsPending uint64 `json:"receipts_pending"`
	// EpochClaims is the number of claims included during the epoch and
	// MeanClaimLatency their mean claim slot - source slot (0 without
	// claims).
	EpochClaims      uint64  `json:"epoch_claims"`
	MeanClaimLatency float64 `json:"mean_claim_latency_slots"`
	// ConservationOK says that the canonical account balances of all shards
	// plus the amounts of the unclaimed receipts of canonical blocks equal
	// the genesis total; ConservationDiff is their difference (sum - total)
	// at the first slot it broke, or 0.
	ConservationOK   bool  `json:"conservation_ok"`
	ConservationDiff int64 `json:"conservation_diff"`
	// FraudProofs counts the shard fraud proofs included in beacon blocks;
	// Slashed is the number of slashed validators in the beacon state.
	FraudProofs int `json:"fraud_proofs"`
	Slashed     int `json:"slashed"`
	// MissedSlots counts the epoch's slots without a beacon block, and
	// ShardSlotsMissed its shard slots without a shard block: their
	// proposer was slashed, so its block would be invalid.
	MissedSlots      int `json:"missed_slots"`
	ShardSlotsMissed int `json:"shard_slots_missed"`
}

// ShardReport is one shard at the end of an epoch.
type ShardReport struct {
	Shard uint64 `json:"shard"`
	// HeadSlot and HeadRoot (short hex) are the canonical head block's.
	HeadSlot uint64 `json:"head_slot"`
	HeadRoot string `json:"head_root"`
	// CrosslinkEnd is the end epoch of the shard's current crosslink in the
	// beacon state, and CrosslinkedStateRoot (short hex) the state root of
	// the last shard block the crosslink chain commits to (the genesis state
	// root before any).
	CrosslinkEnd         uint64 `json:"crosslink_end_epoch"`
	CrosslinkedStateRoot string `json:"crosslinked_state_root"`
	// Transactions in the shard's canonical blocks; receipts it sent, how
	// many of those were claimed, and how many are pending.
	Transactions    uint64 `json:"transactions"`
	ReceiptsSent    uint64 `json:"receipts_sent"`
	ReceiptsClaimed uint64 `json:"receipts_claimed"`
	ReceiptsPending uint64 `json:"receipts_pending"`
	// EpochClaims is the number of claims its blocks included during the
	// epoch, MeanClaimLatency their mean latency in slots.
	EpochClaims      uint64  `json:"epoch_claims"`
	MeanClaimLatency float64 `json:"mean_claim_latency_slots"`
}

// String renders the shard layer as indented lines, without a final newline.
func (r *ShardLayerReport) String() string {
	var b strings.Builder
	cons := "ok"
	if !r.ConservationOK {
		cons = fmt.Sprintf("BROKEN (%+d Gwei)", r.ConservationDiff)
	}
	fmt.Fprintf(&b, "  shards: txs %d  receipts sent %d claimed %d pending %d  claims %d (latency %.1f slots)  conservation %s  fraud proofs %d  slashed %d  missed slots %d beacon %d shard",
		r.Transactions, r.ReceiptsSent, r.ReceiptsClaimed, r.ReceiptsPending, r.EpochClaims, r.MeanClaimLatency,
		cons, r.FraudProofs, r.Slashed, r.MissedSlots, r.ShardSlotsMissed)
	for _, s := range r.Shards {
		fmt.Fprintf(&b, "\n    shard %3d  head %4d %s  crosslinked to %3d state %s  txs %7d  sent %6d claimed %6d pending %5d  claims %4d (latency %4.1f)",
			s.Shard, s.HeadSlot, s.HeadRoot, s.CrosslinkEnd, s.CrosslinkedStateRoot, s.Transactions,
			s.ReceiptsSent, s.ReceiptsClaimed, s.ReceiptsPending, s.EpochClaims, s.MeanClaimLatency)
	}
	return b.String()
}

// ShardSummary is the end of a shard run.
type ShardSummary struct {
	Shards       int    `json:"shards"`
	Transactions uint64 `json:"transactions"`
	// ReceiptsSent, ReceiptsClaimed and ReceiptsPending are totals at the end.
	ReceiptsSent    uint64 `json:"receipts_sent"`
	ReceiptsClaimed uint64 `json:"receipts_claimed"`
	ReceiptsPending uint64 `json:"receipts_pending"`
	// SentBeforeLastEpochs counts the receipts of blocks before the run's
	// last four epochs, ClaimedBeforeLastEpochs how many of them were claimed
	// (all, unless crosslinks or claims stall).
	SentBeforeLastEpochs    uint64 `json:"sent_before_last_4_epochs"`
	ClaimedBeforeLastEpochs uint64 `json:"claimed_of_those"`
	// ShardsCrosslinked counts the shards whose current crosslink was ever
	// one covering at least one of their blocks.
	ShardsCrosslinked int `json:"shards_crosslinked"`
	// JustifiedEpoch and FinalizedEpoch are the final state's.
	JustifiedEpoch uint64 `json:"justified_epoch"`
	FinalizedEpoch uint64 `json:"finalized_epoch"`
	// ConservationOK held at every slot.
	ConservationOK bool `json:"conservation_ok"`
	// MissedSlots and ShardSlotsMissed count the beacon and shard slots
	// without a block over the run.
	MissedSlots      int `json:"missed_slots"`
	ShardSlotsMissed int `json:"shard_slots_missed"`
	FraudProofs      int `json:"fraud_proofs"`
	// Slashed lists the slashed validators at the end.
	Slashed []uint64 `json:"slashed"`
	// Fraud describes the --fraud-at scenario, when there was one.
	Fraud *FraudReport `json:"fraud,omitempty"`
}

// String renders the summary as lines of text, without a final newline.
func (s *ShardSummary) String() string {
	var b strings.Builder
	cons := "ok at every slot"
	if !s.ConservationOK {
		cons = "BROKEN"
	}
	fmt.Fprintf(&b, "summary: %d shards, %d transactions, receipts sent %d claimed %d pending %d\n",
		s.Shards, s.Transactions, s.ReceiptsSent, s.ReceiptsClaimed, s.ReceiptsPending)
	fmt.Fprintf(&b, "  receipts sent before the last %d epochs: %d, claimed %d\n", lastEpochsMargin, s.SentBeforeLastEpochs, s.ClaimedBeforeLastEpochs)
	fmt.Fprintf(&b, "  shards ever crosslinked: %d/%d  justified %d  finalized %d  conservation %s  missed slots %d beacon %d shard\n",
		s.ShardsCrosslinked, s.Shards, s.JustifiedEpoch, s.FinalizedEpoch, cons, s.MissedSlots, s.ShardSlotsMissed)
	fmt.Fprintf(&b, "  fraud proofs %d  slashed %v", s.FraudProofs, s.Slashed)
	if s.Fraud != nil {
		b.WriteString("\n")
		b.WriteString(s.Fraud.String())
	}
	return b.String()
}

// FraudReport follows the --fraud-at scenario: a shard proposer publishes a
// block with a wrong state root; the shard handler's import rejects it and
// its fisherman proves it at once (slashing the proposer); the shard's next crosslink
// committee, complicit, votes a data root containing it; once those votes
// are in beacon blocks and the epoch that could crosslink them is
// processed, the fisherman proves the block again with the votes as
// evidence (slashing the attesters) and, if the crosslink was written,
// rolls it back.
type FraudReport struct {
	Slot uint64 `json:"slot"`
	// Published says that the block was made (there was a shard block at
	// Slot); the other fields are set only then.
	Published bool   `json:"published"`
	Shard     uint64 `json:"shard"`
	Proposer  uint64 `json:"proposer"`
	// BlockRoot is the fraudulent block's root, 0x-prefixed hex.
	BlockRoot string `json:"block_root"`
	Fisherman uint64 `json:"fisherman"`
	// Receipts is the number of receipts the fraudulent block emits, and
	// ReceiptsClaimed how many claims ever named its header (must be 0).
	Receipts        int `json:"receipts"`
	ReceiptsClaimed int `json:"receipts_claimed"`
	// ComplicitSlot is when the complicit committee voted (0: never) and
	// ComplicitAttesters who; ComplicitCrosslink the crosslink they voted.
	ComplicitSlot      uint64           `json:"complicit_slot"`
	ComplicitAttesters []uint64         `json:"complicit_attesters"`
	ComplicitCrosslink *CrosslinkReport `json:"complicit_crosslink,omitempty"`
	// IncludedSlots are the beacon slots whose blocks included the complicit
	// votes.
	IncludedSlots []uint64 `json:"included_slots"`
	// CrosslinkWritten says that the complicit crosslink became the shard's
	// current crosslink, WrittenSlot the first slot whose beacon state had
	// it. A claim through it is valid in blocks referencing a state at slot
	// WrittenSlot + SHARD_CHALLENGE_WINDOW * SLOTS_PER_EPOCH or later whose
	// chain still has it: the rollback must land by then (WindowEnd).
	CrosslinkWritten bool   `json:"crosslink_written"`
	WrittenSlot      uint64 `json:"written_slot,omitempty"`
	WindowEnd        uint64 `json:"window_end_slot,omitempty"`
	// RollbackLanded is the slot of the beacon block whose proof rolled the
	// complicit crosslink back (0: none), RollbackInWindow whether that was
	// at or before WindowEnd: then no beacon state in which a claim of the
	// crosslink's receipts is valid ever exists.
	RollbackLanded   uint64        `json:"rollback_landed,omitempty"`
	RollbackInWindow bool          `json:"rollback_in_window"`
	Proofs           []ProofReport `json:"proofs"`
}

// ProofReport is one fraud proof of the scenario.
type ProofReport struct {
	// Kind is "proposer" (the block alone) or "crosslinkers" (with the
	// complicit votes as evidence, and the rollback if any).
	Kind string `json:"kind"`
	// Built is the slot the shard handler's fisherman built it at, Landed
	// the slot of the beacon block that included it (0: not yet).
	Built  uint64 `json:"built"`
	Landed uint64 `json:"landed"`
	// Evidence is the number of attestations it carries.
	Evidence int `json:"evidence"`
	// Slashed lists the validators its block slashed: the proof's offenders
	// and, for a rollback, PendingVoters, the attesters of pending votes for
	// the voided crosslink that the rollback rule slashed (those the
	// evidence did not name).
	Slashed       []uint64 `json:"slashed"`
	PendingVoters []uint64 `json:"pending_voters_slashed"`
	// PendingVotes counts the pending attestations (previous and current
	// epoch) of the including block's pre-state that voted the crosslink a
	// rollback voided: the votes the rollback rule looks at.
	PendingVotes int `json:"pending_votes"`
	// Rollback, when set, is the crosslink change it caused.
	Rollback *RollbackReport `json:"rollback,omitempty"`
}

// CrosslinkReport describes a crosslink.
type CrosslinkReport struct {
	Shard      uint64 `json:"shard"`
	StartEpoch uint64 `json:"start_epoch"`
	EndEpoch   uint64 `json:"end_epoch"`
	// DataRoot is the data root, short hex.
	DataRoot string `json:"data_root"`
}

// String renders c briefly.
func (c CrosslinkReport) String() string {
	return fmt.Sprintf("shard %d [%d, %d) data %s", c.Shard, c.StartEpoch, c.EndEpoch, c.DataRoot)
}

// RollbackReport is a crosslink rolled back by a fraud proof: the shard's
// current crosslink went from From back to To.
type RollbackReport struct {
	From CrosslinkReport `json:"from"`
	To   CrosslinkReport `json:"to"`
	// Chain is the number of crosslinks the proof showed (the complicit one
	// and those built on it).
	Chain int `json:"chain"`
}

// String renders the report as indented lines, without a final newline.
func (f *FraudReport) String() string {
	var b strings.Builder
	if !f.Published {
		fmt.Fprintf(&b, "  fraud: no fraudulent block was published (no shard block at slot %d)", f.Slot)
		return b.String()
	}
	fmt.Fprintf(&b, "  fraud: shard %d block at slot %d (%.10s) by proposer %d with a wrong state root; fisherman %d",
		f.Shard, f.Slot, f.BlockRoot, f.Proposer, f.Fisherman)
	if f.ComplicitCrosslink != nil {
		fmt.Fprintf(&b, "\n    complicit vote at slot %d by %d attesters %v for %s, included at slots %v, crosslink written: %v",
			f.ComplicitSlot, len(f.ComplicitAttesters), f.ComplicitAttesters, f.ComplicitCrosslink, f.IncludedSlots, f.CrosslinkWritten)
		if f.CrosslinkWritten {
			fmt.Fprintf(&b, " (in the state from slot %d; claimable from slot %d)", f.WrittenSlot, f.WindowEnd)
		}
	} else {
		b.WriteString("\n    no complicit vote was cast before the run ended")
	}
	for _, p := range f.Proofs {
		landed := "not included"
		if p.Landed != 0 {
			landed = fmt.Sprintf("landed at slot %d", p.Landed)
		}
		fmt.Fprintf(&b, "\n    proof (%s): built at slot %d, %s, %d attestations as evidence, slashed %v",
			p.Kind, p.Built, landed, p.Evidence, p.Slashed)
		if p.Rollback != nil {
			fmt.Fprintf(&b, "\n      rollback: %s -> %s (chain of %d); %d pending votes for it, voters slashed by the rollback rule: %v",
				p.Rollback.From, p.Rollback.To, p.Rollback.Chain, p.PendingVotes, p.PendingVoters)
		}
	}
	if f.CrosslinkWritten {
		in := "within the challenge window"
		if !f.RollbackInWindow {
			in = "AFTER the challenge window"
		}
		if f.RollbackLanded == 0 {
			in = "never"
		}
		fmt.Fprintf(&b, "\n    rollback landed at slot %d: %s (window ends at slot %d)", f.RollbackLanded, in, f.WindowEnd)
	}
	fmt.Fprintf(&b, "\n    the block's %d receipts were claimed %d times", f.Receipts, f.ReceiptsClaimed)
	return b.String()
}

// ShardResult is what a shard run leaves besides its reports.
type ShardResult struct {
	Summary ShardSummary
	// Chains are the shards' canonical chains.
	Chains []ShardChainResult
	// Slots records every slot's check, in slot order from slot 1.
	Slots []SlotCheck
	// CurrentCrosslinks[slot] is the current crosslinks of the canonical
	// beacon state at slot (the state state_roots records), from slot 0.
	CurrentCrosslinks [][]types.Crosslink
}

// ShardChainResult is one shard's canonical chain.
type ShardChainResult struct {
	Genesis *st.ShardState
	Blocks  []*st.ShardBlock
	// BeaconSlots[i] is the slot of the beacon block Blocks[i] references.
	BeaconSlots []types.Slot
	Head        *st.ShardState
	// Missed are the slots at which the shard had no block because its
	// proposer was slashed.
	Missed []types.Slot
}

// SlotCheck is the bookkeeping of one slot, after its shard blocks.
type SlotCheck struct {
	Slot types.Slot
	// BeaconBlock says whether the slot had a beacon block.
	BeaconBlock bool
	// ConservationDiff is balances + unclaimed receipts - genesis total.
	ConservationDiff int64
	// Claims counts the claims the slot's shard blocks included.
	Claims int
}

// shortRoot is the first four bytes of r in hex.
func shortRoot(r types.Root) string { return fmt.Sprintf("0x%x", r[:4]) }

// crosslinkReport describes c, a crosslink of shard. The shard is given, not
// c.shard: the genesis crosslink Crosslink(), which a rollback may return
// to, says shard 0 for every shard.
func crosslinkReport(shard types.Shard, c types.Crosslink) CrosslinkReport {
	return CrosslinkReport{Shard: uint64(shard), StartEpoch: uint64(c.StartEpoch), EndEpoch: uint64(c.EndEpoch), DataRoot: shortRoot(c.DataRoot)}
}
