package apitest

import (
	"fmt"
	"slices"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
)

// ChainOptions shape a test chain.
type ChainOptions struct {
	// Validators is the number of interop validators (default 64, the
	// minimal preset's MIN_GENESIS_ACTIVE_VALIDATOR_COUNT).
	Validators uint64
	// Slots is the slot of the last block (default 5 epochs and 3 slots,
	// enough to finalize an epoch).
	Slots types.Slot
	// Skip lists slots that get no block (default: slot 5).
	Skip []types.Slot
	// Orphan is the slot of an extra block that loses to the canonical one
	// at the same slot (default: slot 3; 0 for none).
	Orphan types.Slot
	// NoDefaults keeps zero Skip and Orphan as given.
	NoDefaults bool
}

// Chain is a chain of ShardBeaconBlocks on a minimal-preset interop
// genesis with the shard fork active from genesis, every block applied with
// StateTransitionShard (signatures and state roots checked). Its maps are
// not modified after NewChain returns.
type Chain struct {
	Config      *params.Config
	Transition  *core.Transition
	Keys        *validator.Keys
	Genesis     *types.BeaconState
	GenesisRoot types.Root
	// Blocks and States (post-states) by block root, orphans included.
	Blocks map[types.Root]types.AnyBlock
	States map[types.Root]*types.BeaconState
	// Canonical is the canonical block root of every slot that has one.
	Canonical map[types.Slot]types.Root
	HeadRoot  types.Root
	HeadSlot  types.Slot
	// Orphan is the root of the non-canonical block (zero when none).
	Orphan  types.Root
	Skipped []types.Slot
}

// NewChain builds a chain.
func NewChain(opts ChainOptions) (*Chain, error) {
	cfg := params.Minimal().WithShards()
	if opts.Validators == 0 {
		opts.Validators = cfg.MinGenesisActiveValidatorCount
	}
	if opts.Slots == 0 {
		opts.Slots = types.Slot(5*cfg.SlotsPerEpoch + 3)
	}
	if !opts.NoDefaults {
		if opts.Skip == nil {
			opts.Skip = []types.Slot{5}
		}
		if opts.Orphan == 0 {
			opts.Orphan = 3
		}
	}
	tr := core.New(cfg)
	keys, err := validator.NewInteropKeys(0, opts.Validators)
	if err != nil {
		return nil, fmt.Errorf("build test chain: %w", err)
	}
	gen, err := validator.InteropGenesis(tr, opts.Validators, cfg.MinGenesisTime, validator.WithKeys(keys))
	if err != nil {
		return nil, fmt.Errorf("build test chain: %w", err)
	}
	// The genesis block of get_genesis_store: every field zero but the
	// state root.
	genStateRoot, err := gen.HashTreeRoot()
	if err != nil {
		return nil, fmt.Errorf("build test chain: %w", err)
	}
	genBlock := &types.BeaconBlock{StateRoot: genStateRoot}
	genRoot, err := genBlock.SigningRoot()
	if err != nil {
		return nil, fmt.Errorf("build test chain: %w", err)
	}
	c := &Chain{
		Config: cfg, Transition: tr, Keys: keys, Genesis: gen, GenesisRoot: genRoot,
		Blocks:    map[types.Root]types.AnyBlock{genRoot: genBlock},
		States:    map[types.Root]*types.BeaconState{genRoot: gen},
		Canonical: map[types.Slot]types.Root{types.Slot(cfg.GenesisSlot): genRoot},
		HeadRoot:  genRoot,
		HeadSlot:  types.Slot(cfg.GenesisSlot),
		Skipped:   slices.Clone(opts.Skip),
	}
	var pool []*types.Attestation
	for slot := types.Slot(cfg.GenesisSlot) + 1; slot <= opts.Slots; slot++ {
		pre := c.States[c.HeadRoot]
		if opts.Orphan == slot {
			var graffiti types.Root
			copy(graffiti[:], "orphan")
			root, _, err := c.apply(pre, slot, nil, graffiti)
			if err != nil {
				return nil, err
			}
			c.Orphan = root
		}
		if !slices.Contains(opts.Skip, slot) {
			root, post, err := c.apply(pre, slot, pool, types.Root{})
			if err != nil {
				return nil, err
			}
			c.Canonical[slot], c.HeadRoot, c.HeadSlot = root, root, slot
			pre = post
		}
		if pool, err = c.attest(pre, slot); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// apply produces the block of slot on pre, checks it with
// StateTransitionShard and records it.
func (c *Chain) apply(pre *types.BeaconState, slot types.Slot, pool []*types.Attestation, graffiti types.Root) (types.Root, *types.BeaconState, error) {
	tr := c.Transition
	blk, post, err := validator.ProduceShardBeaconBlock(tr, pre, slot, c.Keys, pool, graffiti, nil)
	if err != nil {
		return types.Root{}, nil, fmt.Errorf("build test chain: %w", err)
	}
	check := pre.Copy()
	if err := tr.StateTransitionShard(check, blk, core.VerifySigs, true); err != nil {
		return types.Root{}, nil, fmt.Errorf("build test chain: apply block %d: %w", slot, err)
	}
	root, err := blk.SigningRoot()
	if err != nil {
		return types.Root{}, nil, fmt.Errorf("build test chain: %w", err)
	}
	c.Blocks[root], c.States[root] = blk, post
	return root, post, nil
}

// attest returns the attestations of every committee of slot, all members
// voting for the head, from head state st.
func (c *Chain) attest(st *types.BeaconState, slot types.Slot) ([]*types.Attestation, error) {
	tr := c.Transition
	view := st
	if view.Slot < slot {
		view = st.Copy()
		if err := tr.ProcessSlots(view, slot); err != nil {
			return nil, fmt.Errorf("build test chain: attest at %d: %w", slot, err)
		}
	}
	coms, err := validator.SlotCommittees(tr, view, slot)
	if err != nil {
		return nil, fmt.Errorf("build test chain: %w", err)
	}
	var out []*types.Attestation
	for _, com := range coms {
		data, err := validator.ProduceAttestationData(tr, view, c.HeadRoot, slot, com.Shard)
		if err != nil {
			return nil, fmt.Errorf("build test chain: %w", err)
		}
		att, err := validator.AggregateCommittee(tr, view, data, com.Committee, com.Committee, c.Keys)
		if err != nil {
			return nil, fmt.Errorf("build test chain: %w", err)
		}
		out = append(out, att)
	}
	return out, nil
}

// HeadState returns the post-state of the head block.
func (c *Chain) HeadState() *types.BeaconState { return c.States[c.HeadRoot] }

// CanonicalSlots returns the slots of the canonical blocks, ascending.
func (c *Chain) CanonicalSlots() []types.Slot {
	out := make([]types.Slot, 0, len(c.Canonical))
	for s := range c.Canonical {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}
