package forkchoice

import (
	"fmt"
	"math/bits"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
)

// LatestMessage is the spec's LatestMessage: the target epoch and the voted-for
// block root of a validator's most recent attestation.
type LatestMessage struct {
	Epoch types.Epoch
	Root  types.Root
}

// Store is the spec's Store:
//
//	time, justified_checkpoint, finalized_checkpoint,
//	blocks: Dict[Hash, BeaconBlock], block_states: Dict[Hash, BeaconState],
//	checkpoint_states: Dict[Checkpoint, BeaconState],
//	latest_messages: Dict[ValidatorIndex, LatestMessage]
//
// blocks and block_states share one map of tree nodes, each knowing its parent
// and children. A Store is not safe for concurrent use (see the package doc).
type Store struct {
	tr  *core.Transition
	cfg *params.Config

	time        uint64
	genesisRoot types.Root
	justified   types.Checkpoint
	finalized   types.Checkpoint

	nodes            map[types.Root]*node
	checkpointStates map[types.Checkpoint]*types.BeaconState
	views            map[types.Checkpoint]*core.StateView // of checkpointStates, made on first use
	latest           []vote                               // indexed by validator
	states           *StateCache                          // post-states shared with other stores; nil: none

	// gen stamps the nodes of the justified subtree during one Head call.
	gen   uint64
	order []*node // Head's scratch pre-order
}

// node is one block of the tree with its post-state.
type node struct {
	root     types.Root
	slot     types.Slot
	block    types.AnyBlock
	state    *types.BeaconState
	parent   *node // nil when the parent is unknown or pruned
	children []*node

	// Head scratch: the subtree weight, valid when gen == Store.gen.
	gen    uint64
	weight uint64
}

// vote is a latest message; set says whether the validator has one.
type vote struct {
	msg LatestMessage
	set bool
}

// New is get_genesis_store: a store whose only block is the genesis block
// BeaconBlock(state_root=hash_tree_root(genesis)), justified and finalized at
// (GENESIS_EPOCH, its signing root), at time genesis.genesis_time. The config
// is tr.Config(). genesis is copied; the caller keeps ownership of it.
func New(tr *core.Transition, genesis *types.BeaconState) (*Store, error) {
	if tr == nil || genesis == nil {
		return nil, fmt.Errorf("create store: %w", ErrNilArgument)
	}
	cfg := tr.Config()
	if uint64(genesis.Slot) != cfg.GenesisSlot {
		return nil, fmt.Errorf("create store: %w: genesis state at slot %d, GENESIS_SLOT is %d",
			core.ErrInvalidGenesis, genesis.Slot, cfg.GenesisSlot)
	}
	if err := checkShape(cfg, genesis); err != nil {
		return nil, fmt.Errorf("create store: %w", err)
	}
	st := genesis.Copy()
	stateRoot, err := st.HashTreeRoot()
	if err != nil {
		return nil, fmt.Errorf("hash genesis state: %w", err)
	}
	block := &types.BeaconBlock{StateRoot: stateRoot}
	root, err := block.SigningRoot()
	if err != nil {
		return nil, fmt.Errorf("hash genesis block: %w", err)
	}
	cp := types.Checkpoint{Epoch: types.Epoch(cfg.GenesisEpoch()), Root: root}
	s := &Store{
		tr:               tr,
		cfg:              cfg,
		time:             st.GenesisTime,
		genesisRoot:      root,
		justified:        cp,
		finalized:        cp,
		nodes:            map[types.Root]*node{root: {root: root, slot: block.Slot, block: block, state: st}},
		checkpointStates: map[types.Checkpoint]*types.BeaconState{cp: st}, // both never modified

		views: make(map[types.Checkpoint]*core.StateView),
	}
	return s, nil
}

// checkShape checks that st's vectors have the lengths cfg gives them, so
// that the transition, which indexes them by cfg, cannot go out of range.
func checkShape(cfg *params.Config, st *types.BeaconState) error {
	for _, f := range []struct {
		name string
		got  int
		want uint64
	}{
		{"block_roots", len(st.BlockRoots), cfg.SlotsPerHistoricalRoot},
		{"state_roots", len(st.StateRoots), cfg.SlotsPerHistoricalRoot},
		{"randao_mixes", len(st.RandaoMixes), cfg.EpochsPerHistoricalVector},
		{"active_index_roots", len(st.ActiveIndexRoots), cfg.EpochsPerHistoricalVector},
		{"compact_committees_roots", len(st.CompactCommitteesRoots), cfg.EpochsPerHistoricalVector},
		{"slashings", len(st.Slashings), cfg.EpochsPerSlashingsVector},
		{"previous_crosslinks", len(st.PreviousCrosslinks), cfg.ShardCount},
		{"current_crosslinks", len(st.CurrentCrosslinks), cfg.ShardCount},
	} {
		if uint64(f.got) != f.want {
			return fmt.Errorf("%w: %s has %d entries, the config says %d", core.ErrInvalidGenesis, f.name, f.got, f.want)
		}
	}
	if len(st.Balances) != len(st.Validators) {
		return fmt.Errorf("%w: %d balances for %d validators", core.ErrInvalidGenesis, len(st.Balances), len(st.Validators))
	}
	return nil
}

// OnTick is on_tick: store.time = time. As in the spec the time is taken as
// given, even when it goes backwards.
func (s *Store) OnTick(time uint64) { s.time = time }

// Time is store.time.
func (s *Store) Time() uint64 { return s.time }

// GenesisRoot is the root of the genesis block (remembered after pruning).
func (s *Store) GenesisRoot() types.Root { return s.genesisRoot }

// JustifiedCheckpoint is store.justified_checkpoint.
func (s *Store) JustifiedCheckpoint() types.Checkpoint { return s.justified }

// FinalizedCheckpoint is store.finalized_checkpoint.
func (s *Store) FinalizedCheckpoint() types.Checkpoint { return s.finalized }

// Len is the number of blocks in the store.
func (s *Store) Len() int { return len(s.nodes) }

// Block returns store.blocks[root]: a *types.BeaconBlock (the genesis block
// and phase 0 blocks) or a *types.ShardBeaconBlock. The block is the store's
// own: callers must not modify it.
func (s *Store) Block(root types.Root) (types.AnyBlock, bool) {
	n, ok := s.nodes[root]
	if !ok {
		return nil, false
	}
	return n.block, true
}

// State returns store.block_states[root], the post-state of the block. The
// state is the store's own: callers must Copy it before modifying it (or
// hashing it from another goroutine).
func (s *Store) State(root types.Root) (*types.BeaconState, bool) {
	n, ok := s.nodes[root]
	if !ok {
		return nil, false
	}
	return n.state, true
}

// CheckpointState returns store.checkpoint_states[cp]: the state of cp.Root
// advanced to the start of cp.Epoch. The state is the store's own: callers
// must Copy it before modifying it.
func (s *Store) CheckpointState(cp types.Checkpoint) (*types.BeaconState, bool) {
	st, ok := s.checkpointStates[cp]
	return st, ok
}

// Children returns the roots of the known children of root, in insertion order.
func (s *Store) Children(root types.Root) []types.Root {
	n, ok := s.nodes[root]
	if !ok {
		return nil
	}
	out := make([]types.Root, len(n.children))
	for i, c := range n.children {
		out[i] = c.root
	}
	return out
}

// LatestMessage returns store.latest_messages[i].
func (s *Store) LatestMessage(i types.ValidatorIndex) (LatestMessage, bool) {
	if uint64(i) >= uint64(len(s.latest)) || !s.latest[i].set {
		return LatestMessage{}, false
	}
	return s.latest[i].msg, true
}

// Ancestor is get_ancestor: the root of the ancestor of root (root itself
// included) at slot, or the zero root when the chain has no block at that
// slot. ok is false when root is unknown or the walk reaches a block that is
// not in the store (pruned history), where the spec's dictionary lookup would
// fail.
func (s *Store) Ancestor(root types.Root, slot types.Slot) (types.Root, bool) {
	n, ok := s.nodes[root]
	if !ok {
		return types.Root{}, false
	}
	return ancestor(n, slot)
}

// ancestor is get_ancestor from a node:
//
//	if block.slot > slot: return get_ancestor(store, block.parent_root, slot)
//	elif block.slot == slot: return root
//	else: return Bytes32()
func ancestor(n *node, slot types.Slot) (types.Root, bool) {
	for n.slot > slot {
		if n.parent == nil {
			return types.Root{}, false
		}
		n = n.parent
	}
	if n.slot == slot {
		return n.root, true
	}
	return types.Root{}, true
}

// slotTime is genesis + slot * SECONDS_PER_SLOT, with ok false when it does
// not fit in a uint64 (a time that never comes).
func (s *Store) slotTime(genesis uint64, slot uint64) (uint64, bool) {
	hi, lo := bits.Mul64(slot, s.cfg.SecondsPerSlot)
	if hi != 0 {
		return 0, false
	}
	sum, carry := bits.Add64(genesis, lo, 0)
	return sum, carry == 0
}

// epochStartSlot is compute_start_slot_of_epoch, with ok false on overflow.
func (s *Store) epochStartSlot(e types.Epoch) (types.Slot, bool) {
	hi, lo := bits.Mul64(uint64(e), s.cfg.SlotsPerEpoch)
	return types.Slot(lo), hi == 0
}

// reached reports whether the store's time is at or past the start of slot.
func (s *Store) reached(genesis uint64, slot uint64) bool {
	t, ok := s.slotTime(genesis, slot)
	return ok && s.time >= t
}

// checkpointState returns checkpoint_states[cp], computing it (without
// storing it; taking it from the shared state cache if another store did)
// when absent: the state of cp.Root advanced to the start of
// cp.Epoch, as on_attestation does. extra, when not nil, is a node not yet in
// the store that may be cp.Root. The second result says whether the state was
// computed.
func (s *Store) checkpointState(cp types.Checkpoint, extra *node) (*types.BeaconState, bool, error) {
	if st, ok := s.checkpointStates[cp]; ok {
		return st, false, nil
	}
	n := s.nodes[cp.Root]
	if n == nil && extra != nil && extra.root == cp.Root {
		n = extra
	}
	if n == nil {
		return nil, false, fmt.Errorf("compute checkpoint state %d/%s: %w: no block state", cp.Epoch, cp.Root, ErrMissingState)
	}
	start, ok := s.epochStartSlot(cp.Epoch)
	if !ok {
		return nil, false, fmt.Errorf("compute checkpoint state %d/%s: %w: epoch start overflows", cp.Epoch, cp.Root, core.ErrInvalidSlot)
	}
	key, share := s.checkpointKey(cp, n)
	if share {
		if st, ok := s.states.get(key); ok {
			return st, true, nil
		}
	}
	st := n.state.Copy()
	if err := s.tr.ProcessSlots(st, start); err != nil {
		return nil, false, fmt.Errorf("compute checkpoint state %d/%s: %w", cp.Epoch, cp.Root, err)
	}
	if share {
		st = s.states.add(key, st)
	}
	return st, true, nil
}
