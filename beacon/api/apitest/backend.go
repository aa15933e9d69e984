package apitest

import (
	"fmt"
	"sync"

	"github.com/shardlab/shardlab/beacon/api"
	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
)

// Backend serves a Chain as an api.Backend and an api.NodeBackend. Its
// knobs (SetSync, SetPeers, SetGenesisKnown, SetFailure) may be turned while
// it serves.
type Backend struct {
	chain *Chain

	mu         sync.RWMutex
	sync       api.SyncStatus
	peers      []api.PeerInfo
	noGenesis  bool
	fail       error
	stateIndex map[types.Root]types.Root // state root -> block root
}

var (
	_ api.Backend     = (*Backend)(nil)
	_ api.NodeBackend = (*Backend)(nil)
)

// NewBackend returns a ready, synced backend of c with two peers.
func NewBackend(c *Chain) *Backend {
	idx := make(map[types.Root]types.Root, len(c.Blocks))
	for root, b := range c.Blocks {
		idx[b.GetStateRoot()] = root
	}
	return &Backend{
		chain: c,
		sync:  api.SyncStatus{HeadSlot: c.HeadSlot, Ready: true},
		peers: []api.PeerInfo{
			{PeerID: "16Uiu2HAmPeerOne", Addr: "/ip4/127.0.0.1/tcp/9001", Direction: "outbound"},
			{PeerID: "16Uiu2HAmPeerTwo", Addr: "/ip4/127.0.0.1/tcp/9002", Direction: "inbound"},
		},
		stateIndex: idx,
	}
}

// Chain returns the served chain.
func (b *Backend) Chain() *Chain { return b.chain }

// SetSync sets the sync status.
func (b *Backend) SetSync(s api.SyncStatus) { b.mu.Lock(); b.sync = s; b.mu.Unlock() }

// SetPeers sets the peers.
func (b *Backend) SetPeers(p []api.PeerInfo) { b.mu.Lock(); b.peers = p; b.mu.Unlock() }

// SetGenesisKnown makes GenesisRoot fail with ErrUnavailable when known is false.
func (b *Backend) SetGenesisKnown(known bool) { b.mu.Lock(); b.noGenesis = !known; b.mu.Unlock() }

// SetFailure makes Block, State and CanonicalRoot fail with err (nil: stop).
func (b *Backend) SetFailure(err error) { b.mu.Lock(); b.fail = err; b.mu.Unlock() }

func (b *Backend) failure() error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.fail
}

// Config implements api.Backend.
func (b *Backend) Config() *params.Config { return b.chain.Config }

// Transition implements api.Backend.
func (b *Backend) Transition() *core.Transition { return b.chain.Transition }

// GenesisRoot implements api.Backend.
func (b *Backend) GenesisRoot() (types.Root, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.noGenesis {
		return types.Root{}, fmt.Errorf("genesis: %w", api.ErrUnavailable)
	}
	return b.chain.GenesisRoot, nil
}

// Head implements api.Backend.
func (b *Backend) Head() (types.Root, types.Slot) { return b.chain.HeadRoot, b.chain.HeadSlot }

// Finality implements api.Backend: the head state's current justified and
// finalized checkpoints.
func (b *Backend) Finality() (justified, finalized types.Checkpoint) {
	st := b.chain.HeadState()
	return st.CurrentJustifiedCheckpoint, st.FinalizedCheckpoint
}

// Block implements api.Backend.
func (b *Backend) Block(root types.Root) (types.AnyBlock, error) {
	if err := b.failure(); err != nil {
		return nil, err
	}
	blk, ok := b.chain.Blocks[root]
	if !ok {
		return nil, fmt.Errorf("block %s: %w", root, api.ErrNotFound)
	}
	return blk, nil
}

// CanonicalRoot implements api.Backend.
func (b *Backend) CanonicalRoot(slot types.Slot) (types.Root, error) {
	if err := b.failure(); err != nil {
		return types.Root{}, err
	}
	root, ok := b.chain.Canonical[slot]
	if !ok {
		return types.Root{}, fmt.Errorf("canonical block at slot %d: %w", slot, api.ErrNotFound)
	}
	return root, nil
}

// State implements api.Backend.
func (b *Backend) State(blockRoot types.Root) (*types.BeaconState, error) {
	if err := b.failure(); err != nil {
		return nil, err
	}
	st, ok := b.chain.States[blockRoot]
	if !ok {
		return nil, fmt.Errorf("state of block %s: %w", blockRoot, api.ErrNotFound)
	}
	return st, nil
}

// PeerID implements api.NodeBackend.
func (b *Backend) PeerID() string { return "16Uiu2HAmTestNode" }

// Addrs implements api.NodeBackend.
func (b *Backend) Addrs() []string {
	return []string{"/ip4/127.0.0.1/tcp/9000/p2p/16Uiu2HAmTestNode"}
}

// Peers implements api.NodeBackend.
func (b *Backend) Peers() []api.PeerInfo {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return append([]api.PeerInfo(nil), b.peers...)
}

// SyncStatus implements api.NodeBackend.
func (b *Backend) SyncStatus() api.SyncStatus {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.sync
}

// Version implements api.NodeBackend.
func (b *Backend) Version() string { return "shardlab/test/apitest" }

// IndexedBackend is a Backend that also implements api.StateRootIndex.
type IndexedBackend struct{ *Backend }

var _ api.StateRootIndex = IndexedBackend{}

// WithStateRootIndex returns b with a state-root index.
func (b *Backend) WithStateRootIndex() IndexedBackend { return IndexedBackend{b} }

// BlockRootOfState implements api.StateRootIndex.
func (ib IndexedBackend) BlockRootOfState(stateRoot types.Root) (types.Root, error) {
	root, ok := ib.stateIndex[stateRoot]
	if !ok {
		return types.Root{}, fmt.Errorf("state %s: %w", stateRoot, api.ErrNotFound)
	}
	return root, nil
}
