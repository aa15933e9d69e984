package statesim

import (
	"fmt"
	"time"

	"github.com/shardlab/shardlab/beacon/types"
)

// EpochReport describes the chain at the end of one epoch: after the last
// block of the epoch and the epoch processing that follows it (the state at
// the first slot of the next epoch, before that slot's block).
//
// Everything but Timing is a deterministic function of the Config; Timing
// holds wall-clock measurements. WithoutTiming drops them for comparisons.
type EpochReport struct {
	Epoch uint64 `json:"epoch"`
	// JustifiedEpoch and FinalizedEpoch are the state's
	// current_justified_checkpoint and finalized_checkpoint epochs after the
	// epoch processing of Epoch.
	JustifiedEpoch uint64 `json:"justified_epoch"`
	FinalizedEpoch uint64 `json:"finalized_epoch"`
	// CrosslinksUpdated is the number of shards whose current_crosslinks
	// entry the epoch processing changed; Shards is SHARD_COUNT.
	CrosslinksUpdated int `json:"crosslinks_updated"`
	Shards            int `json:"shards"`
	// Participation is the previous-epoch target participation that the
	// epoch processing of Epoch justifies with: the active balance of the
	// unslashed validators whose included attestations voted for the
	// correct target of epoch Epoch-1, over the total active balance. At
	// epoch 0 the previous epoch is epoch 0 itself (get_previous_epoch),
	// counted over the attestations included during epoch 0.
	Participation float64 `json:"participation"`
	// CurrentParticipation is the same fraction for epoch Epoch, counting
	// the attestations included by its last block (the last slot's
	// attestations are included in the next epoch and are missing here).
	CurrentParticipation float64 `json:"current_participation"`
	// Attesters is the number of committee members who attested during the
	// epoch; Duties is the number of committee seats of the epoch.
	Attesters int `json:"attesters"`
	Duties    int `json:"duties"`
	// Blocks and Attestations count the blocks of the epoch and the
	// attestations they include.
	Blocks       int `json:"blocks"`
	Attestations int `json:"attestations"`
	// StateRoot is the root of the reported state, 0x-prefixed hex.
	StateRoot string `json:"state_root"`
	// Shard is the shard layer's state, in shard runs only.
	Shard *ShardLayerReport `json:"shard,omitempty"`
	// Timing is wall-clock time, excluded from determinism checks.
	Timing Timing `json:"timing"`
}

// Timing holds an epoch's wall-clock measurements, in milliseconds.
type Timing struct {
	// SlotMeanMS is the mean time of the epoch's slots (building the
	// block, verifying and applying it, attesting); EpochMS is the whole
	// epoch, epoch processing included.
	SlotMeanMS float64 `json:"slot_mean_ms"`
	EpochMS    float64 `json:"epoch_ms"`
	// The parts: block production (ProposeMS), full verification and
	// application (VerifyMS), attestation production (AttestMS), and the
	// epoch processing at the end of the epoch (EpochProcessingMS).
	ProposeMS         float64 `json:"propose_ms"`
	VerifyMS          float64 `json:"verify_ms"`
	AttestMS          float64 `json:"attest_ms"`
	EpochProcessingMS float64 `json:"epoch_processing_ms"`
	// Shard runs only: drawing and signing the transactions and adding them
	// to the shard pools (WorkloadMS), and the shard handler's slot start
	// (ShardMS, wall clock): its proposals (ShardBuildMS, until the last
	// shard block was proposed) and what follows them, mostly the relayer's
	// claims (RelayMS).
	WorkloadMS   float64 `json:"workload_ms,omitempty"`
	RelayMS      float64 `json:"relay_ms,omitempty"`
	ShardMS      float64 `json:"shard_ms,omitempty"`
	ShardBuildMS float64 `json:"shard_build_ms,omitempty"`
}

// WithoutTiming returns r with its Timing zeroed: the deterministic part.
func (r EpochReport) WithoutTiming() EpochReport {
	r.Timing = Timing{}
	return r
}

// String renders r as one aligned line of text, followed in shard runs by
// the shard layer's lines.
func (r EpochReport) String() string {
	line := fmt.Sprintf("epoch %3d  justified %3d  finalized %3d  crosslinks %3d/%-3d  participation %5.1f%% (current %5.1f%%)  attesters %5d/%-5d  slot %8.2f ms  epoch %9.2f ms",
		r.Epoch, r.JustifiedEpoch, r.FinalizedEpoch, r.CrosslinksUpdated, r.Shards,
		100*r.Participation, 100*r.CurrentParticipation, r.Attesters, r.Duties,
		r.Timing.SlotMeanMS, r.Timing.EpochMS)
	if r.Shard != nil {
		line += "\n" + r.Shard.String()
	}
	return line
}

// Result is a finished run.
type Result struct {
	Reports []EpochReport
	// Genesis is the genesis state, Final the post-state of the last block
	// (the pre.ssz and post.ssz of the test case).
	Genesis *types.BeaconState
	Final   *types.BeaconState
	// Blocks is the number of blocks, HeadRoot the root of the last.
	Blocks   int
	HeadRoot types.Root
	// GenesisTime and RunTime are the wall-clock times of building genesis
	// (keys included) and of the slots.
	GenesisTime time.Duration
	RunTime     time.Duration
	// Shard is the shard layer's outcome, in shard runs only.
	Shard *ShardResult
}

// Deterministic returns the reports without their timings, for comparing
// runs.
func (r *Result) Deterministic() []EpochReport {
	out := make([]EpochReport, len(r.Reports))
	for i, rep := range r.Reports {
		out[i] = rep.WithoutTiming()
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
