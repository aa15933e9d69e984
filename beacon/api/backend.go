package api

import (
	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
)

// Backend is what the beacon endpoints need from the beacon node: the chain
// as the node's fork choice and store see it. The API resolves block and
// state ids (head, genesis, finalized, justified, slots, roots) itself on
// top of these lookups, so every node answers them the same way.
//
// Concurrency: handlers run concurrently, so every method must be safe for
// concurrent use, and must not block on long operations.
//
// Ownership: blocks and states returned are shared with the node and are
// read-only for both sides from then on. The API never modifies them (it
// copies a state before advancing it through empty slots), and never hashes
// them (BeaconState.HashTreeRoot updates the state's Merkle cache); the node
// must not modify or hash a value it has handed out either: replace it with
// a new value (a Copy) instead.
type Backend interface {
	// Config returns the chain's config. It never changes.
	Config() *params.Config
	// Transition returns the node's state transition, whose shuffling and
	// public-key caches the API shares (committees, proposers, processing
	// empty slots). It is safe for concurrent use.
	Transition() *core.Transition
	// GenesisRoot returns the genesis block root (the signing root of
	// BeaconBlock(state_root=hash_tree_root(genesis_state))), whose block
	// and state Block and State serve like any other. Before the node knows
	// its genesis it returns an error wrapping ErrUnavailable (or
	// ErrNotFound). It is called on every request: keep it cheap.
	GenesisRoot() (types.Root, error)
	// Head returns the fork choice's head block root and its slot.
	Head() (root types.Root, slot types.Slot)
	// Finality returns the fork choice store's justified and finalized
	// checkpoints. A zero root (the state's checkpoints before the first
	// justification) is read as the genesis block root.
	Finality() (justified, finalized types.Checkpoint)
	// Block returns the block with the given root (its signing root), a
	// *types.BeaconBlock or a *types.ShardBeaconBlock, canonical or not,
	// the genesis block included. An unknown root is ErrNotFound.
	Block(root types.Root) (types.AnyBlock, error)
	// CanonicalRoot returns the root of the block at exactly slot on the
	// chain of the current head (the genesis block at GENESIS_SLOT). A slot
	// without a block, or past the head, is ErrNotFound.
	CanonicalRoot(slot types.Slot) (types.Root, error)
	// State returns the post-state of the block with the given root, at the
	// block's slot (not advanced through later empty slots); for the genesis
	// root, the genesis state, which must always be available. An unknown or
	// pruned state is ErrNotFound. The node may return a copy.
	State(blockRoot types.Root) (*types.BeaconState, error)
}

// StateRootIndex is an optional Backend extension: when the backend
// implements it, state ids given as a state root are looked up through it,
// so that the states of any known block are found by state root. Without
// it, state roots are found among the canonical states of the last
// SLOTS_PER_HISTORICAL_ROOT slots (through the head state's state_roots).
type StateRootIndex interface {
	// BlockRootOfState returns the root of the block whose post-state has
	// the given root, or ErrNotFound.
	BlockRootOfState(stateRoot types.Root) (types.Root, error)
}

// NodeBackend is what the /eth/v1/node endpoints need from the node's
// networking and sync services. Its methods must be safe for concurrent use.
type NodeBackend interface {
	// PeerID returns the node's libp2p peer id (base58).
	PeerID() string
	// Addrs returns the node's listen multiaddrs, each with its /p2p/<id>
	// suffix.
	Addrs() []string
	// Peers returns the peers the node is connected to (or was recently).
	Peers() []PeerInfo
	// SyncStatus returns the node's sync state.
	SyncStatus() SyncStatus
	// Version returns the node's version string, such as
	// "shardlab/v0.3.0/linux-amd64"; "" gives "shardlab/dev/<os>-<arch>".
	Version() string
}

// PeerInfo describes one peer, in the Beacon API's terms.
type PeerInfo struct {
	PeerID string
	// Addr is the peer's last seen multiaddr.
	Addr string
	// State is "connected" (the default when empty), "connecting",
	// "disconnected" or "disconnecting".
	State string
	// Direction is "inbound" or "outbound".
	Direction string
}

// SyncStatus is the node's sync state, as /eth/v1/node/syncing and
// /eth/v1/node/health report it.
type SyncStatus struct {
	// HeadSlot is the slot of the node's head block.
	HeadSlot types.Slot
	// SyncDistance is how many slots the head is behind the wall-clock slot.
	SyncDistance uint64
	// IsSyncing is set while the node catches up with its peers.
	IsSyncing bool
	// Ready is set once the node has its genesis and its services are up;
	// a node that is not ready answers /eth/v1/node/health with 503.
	Ready bool
}
