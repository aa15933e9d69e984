package api

import (
	"context"
	"fmt"

	beaconapi "github.com/shardlab/shardlab/beacon/api"
	"github.com/shardlab/shardlab/beacon/params"
	bt "github.com/shardlab/shardlab/beacon/types"
	st "github.com/shardlab/shardlab/shard/types"
)

// ErrNotServed is what a ShardBackend returns for a shard it does not
// follow. It wraps beacon/api.ErrUnavailable: the API answers 503.
var ErrNotServed = fmt.Errorf("%w: shard not served by this node", beaconapi.ErrUnavailable)

// ShardBackend is what the /shardlab/v1 endpoints need from the shard node.
//
// Errors: wrap beacon/api.ErrNotFound for unknown blocks, slots, state roots
// and accounts (404), ErrNotServed for shards the node does not follow and
// beacon/api.ErrUnavailable while it cannot answer (503), and
// beacon/api.ErrBadRequest, or an error wrapping beacon/core.ErrInvalid (as
// shard/core's rejections do), for invalid transactions (400). Anything else
// is an internal failure (500).
//
// Concurrency and ownership: handlers run concurrently, so every method
// must be safe for concurrent use. Returned blocks are read-only for both
// sides; the transaction given to SubmitTransaction belongs to the backend.
type ShardBackend interface {
	// Shards returns the shards the node serves, ascending.
	Shards() []bt.Shard
	// Head returns the head of a served shard's fork choice.
	Head(shard bt.Shard) (Head, error)
	// Block returns the shard block with the given root (its signing
	// root), canonical or not. The genesis header has no block: its root is
	// ErrNotFound.
	Block(shard bt.Shard, root bt.Root) (*st.ShardBlock, error)
	// CanonicalRoot returns the root of the block at exactly slot on the
	// shard's canonical chain, ErrNotFound for an empty slot.
	CanonicalRoot(shard bt.Shard, slot bt.Slot) (bt.Root, error)
	// CrosslinkHeader returns the header of the last shard block that
	// crosslink c covers (the last header under c.data_root), when the node
	// knows it, else ErrNotFound (or ErrNotServed).
	CrosslinkHeader(shard bt.Shard, c bt.Crosslink) (st.ShardBlockHeader, error)
	// Account returns account index in the shard state with the given root
	// (the head state when stateRoot is nil). An index out of range or a
	// state root the node does not keep is ErrNotFound.
	Account(shard bt.Shard, index uint64, stateRoot *bt.Root) (st.Account, error)
	// Receipts returns the counts of the receipts the shard's canonical
	// blocks sent, and at most q.Limit of them with status q.Status (any
	// when empty), oldest first. A receipt is claimed once its destination
	// shard's inbox nonce for this shard, as the node knows it, is past the
	// receipt's nonce, pending until then.
	Receipts(shard bt.Shard, q ReceiptQuery) (ReceiptList, error)
	// SubmitTransaction validates tx against the shard's head state
	// (shard, signature, nonce, balance) and adds it to the pool and to
	// the gossip. An invalid transaction is a 400 error (see above).
	SubmitTransaction(ctx context.Context, tx *st.Transaction) error
	// Stats returns the totals of the node's served shards.
	Stats() Stats
}

// BeaconReader is the part of the beacon node the shard endpoints read (the
// crosslinks of the head state). beacon/api.Backend implements it.
type BeaconReader interface {
	Config() *params.Config
	Head() (root bt.Root, slot bt.Slot)
	State(blockRoot bt.Root) (*bt.BeaconState, error)
}

// Head is a shard chain's head: the block its fork choice picks or, before
// the first block, the genesis header (slot GENESIS_SLOT, the header's
// signing root, the genesis state root, a zero beacon block root).
type Head struct {
	Slot            bt.Slot
	Root            bt.Root
	StateRoot       bt.Root
	BeaconBlockRoot bt.Root
}

// ReceiptStatus is "pending" or "claimed".
type ReceiptStatus string

// The receipt statuses.
const (
	ReceiptPending ReceiptStatus = "pending"
	ReceiptClaimed ReceiptStatus = "claimed"
)

// ReceiptQuery selects receipts.
type ReceiptQuery struct {
	Status ReceiptStatus // "" for any
	Limit  int           // at most this many receipts (>= 1)
}

// ReceiptInfo is a receipt a shard block sent.
type ReceiptInfo struct {
	Receipt st.Receipt
	Status  ReceiptStatus
	// BlockRoot is the root of the shard block that emitted the receipt.
	BlockRoot bt.Root
}

// ReceiptList is the answer to a ReceiptQuery.
type ReceiptList struct {
	// Sent, Claimed and Pending count all the receipts of the shard's
	// canonical chain (Sent == Claimed + Pending), whatever the query.
	Sent, Claimed, Pending uint64
	// Received counts the receipts of other shards that the shard's
	// canonical chain has claimed (its head state's inbox nonces). Summed
	// over all shards it is the number of receipts claimed network-wide,
	// which Claimed (what the node knows of the destinations) may trail.
	Received uint64
	Receipts []ReceiptInfo
}

// Stats are the totals /shardlab/v1/stats reports, over the served shards.
type Stats struct {
	// Transactions is the number of transactions in canonical blocks.
	Transactions uint64
	// ReceiptsSent, ReceiptsClaimed and ReceiptsPending count receipts sent
	// by the served shards, claimed on their destination, and not yet.
	ReceiptsSent    uint64
	ReceiptsClaimed uint64
	ReceiptsPending uint64
	// ReceiptsReceived counts the receipts of other shards the served
	// shards have claimed.
	ReceiptsReceived uint64
	// FraudProofsSeen counts the distinct fraud proofs the node has seen
	// (gossiped, built or included in beacon blocks).
	FraudProofsSeen uint64
}
