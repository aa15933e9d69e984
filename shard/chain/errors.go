package chain

import (
	"errors"
	"fmt"

	bcore "github.com/shardlab/shardlab/beacon/core"
	bt "github.com/shardlab/shardlab/beacon/types"
	shardcore "github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// Errors of the Service. The "not now" and "not new" ones do not wrap
// beacon/core.ErrInvalid: gossip ignores such messages instead of rejecting
// them.
var (
	// ErrUnknownParent: the block's parent is not known (fetch it).
	ErrUnknownParent = errors.New("unknown shard parent")
	// ErrUnknownBeaconBlock: the beacon block a shard block references is
	// not known yet (wait for it).
	ErrUnknownBeaconBlock = errors.New("unknown beacon block")
	// ErrTooOld: the block or its beacon reference is older than what the
	// node still holds states for.
	ErrTooOld = errors.New("too old")
	// ErrBeaconPruned: the post-state of the block's beacon reference is no
	// longer held (finalized history): the block cannot be validated, and a
	// node that needs it must restart from a crosslinked block
	// (Checkpoint). It wraps ErrTooOld.
	ErrBeaconPruned = fmt.Errorf("%w: beacon reference state pruned", ErrTooOld)
	// ErrDuplicate: the block, transaction or claim is already known.
	ErrDuplicate = errors.New("duplicate")
	// ErrPoolFull: a pool is at its bound.
	ErrPoolFull = errors.New("pool full")
	// ErrStale: a transaction or claim no longer applies to the head state
	// (nonce already used, not the next one, or funds lacking). It wraps
	// beacon/core.ErrInvalid for the API (a 400), but gossip ignores it: the
	// sender's view may just differ from ours.
	ErrStale = fmt.Errorf("%w: stale", bcore.ErrInvalid)
	// ErrInvalidHeader: the block's shard, beacon reference slot, proposer
	// or signature is wrong, or its parent was invalid. Such a block is not
	// fraud-proven (a bad signature does not even mark the block root
	// invalid: the root does not cover it).
	ErrInvalidHeader = fmt.Errorf("%w: invalid shard block header", shardcore.ErrInvalidShardBlock)
	// ErrFraudulent is wrapped by a *FraudError.
	ErrFraudulent = fmt.Errorf("%w: fraudulent shard block", shardcore.ErrInvalidShardBlock)
	// ErrInvalidTx and ErrInvalidClaim: malformed or badly signed input.
	ErrInvalidTx    = fmt.Errorf("%w: invalid shard transaction", bcore.ErrInvalid)
	ErrInvalidClaim = fmt.Errorf("%w: invalid receipt claim", bcore.ErrInvalid)
	// ErrNoData: the service cannot answer a crosslink data root (the range
	// is outside what it holds).
	ErrNoData = errors.New("no crosslink data")
	// ErrInvalidConfig is wrapped by Config.Validate.
	ErrInvalidConfig = errors.New("invalid shard chain config")
)

// FraudError is returned by ImportBlock for a block whose header checks
// pass but whose execution breaks a rule of docs/protocol.md §5 or gives
// another state or receipts root than it commits to: the fraud a
// fisherman proves with shard/core.BuildFraudProof from these fields, which
// are private copies.
type FraudError struct {
	Err          error
	Block        *st.ShardBlock
	Parent       st.ShardBlockHeader
	Pre          *st.ShardState // the parent's post-state
	BeaconHeader bt.BeaconBlockHeader
	Beacon       *bt.BeaconState // the referenced beacon block's post-state
}

func (e *FraudError) Error() string {
	return fmt.Sprintf("fraudulent shard block at slot %d: %v", e.Block.Slot, e.Err)
}

// Unwrap makes errors.Is see ErrFraudulent and the execution error.
func (e *FraudError) Unwrap() []error { return []error{ErrFraudulent, e.Err} }
