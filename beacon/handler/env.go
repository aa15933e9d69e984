package handler

import (
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardlab/shardlab/beacon/types"
)

// Env is what a Handler needs from its host. Every method is called from
// inside a Handler call; callbacks and timer functions are run by the host
// later, never from inside the call that scheduled them, and serialised
// with every other Handler call.
type Env interface {
	// Now is the host's time (real or virtual).
	Now() time.Time
	// Publish gossips the SSZ bytes data on topic (fire and forget).
	Publish(topic string, data []byte)
	// Request sends req to p on protocol and calls done once with the
	// response chunks (at most maxChunks) or an error (timeout included).
	Request(p peer.ID, protocol string, req []byte, maxChunks int, done func(chunks [][]byte, err error))
	// AfterFunc runs f after d of host time.
	AfterFunc(d time.Duration, f func()) Timer
	// Peers are the connected peers, sorted.
	Peers() []peer.ID
	// Rand is the node's randomness source (seeded in simulations).
	Rand() *rand.Rand
	// Logger is the node's logger.
	Logger() *slog.Logger
}

// Timer is a scheduled AfterFunc.
type Timer interface {
	// Stop cancels the timer; false if it already fired or was stopped.
	Stop() bool
}

// Verdict is the outcome of validating a gossip message: Accept forwards
// it, Ignore drops it, Reject drops it and penalises the sender.
type Verdict int

// The gossip verdicts.
const (
	Accept Verdict = iota
	Ignore
	Reject
)

// String names v.
func (v Verdict) String() string {
	switch v {
	case Accept:
		return "accept"
	case Ignore:
		return "ignore"
	case Reject:
		return "reject"
	}
	return "unknown"
}

// Hooks observe the Handler for the host's metrics, arrival log and slasher;
// a nil func is skipped.
type Hooks struct {
	// BlockSeen is the first sight of a block: gossip arrival (before
	// validation) or own proposal.
	BlockSeen func(root types.Root, at time.Time)
	// Proposal counts a proposer duty by result: published, refused,
	// failed.
	Proposal func(result string)
	// Attestations counts attester duties by result: published, refused,
	// failed.
	Attestations func(result string, n int)
	// Syncing reports a range sync starting or ending.
	Syncing func(on bool)
	// SyncDistance is the current slot minus the head slot at slot start.
	SyncDistance func(slots uint64)
	// SyncedBlock counts a block imported by range or root requests.
	SyncedBlock func()
	// AttestationVerified is a gossip attestation the chain verified.
	AttestationVerified func(ia *types.IndexedAttestation)
	// PeerStatus reports a peer's new status, or (known false) that the
	// peer is forgotten, for readers outside the handler.
	PeerStatus func(p peer.ID, st Status, known bool)
}

func (k *Hooks) blockSeen(root types.Root, at time.Time) {
	if k.BlockSeen != nil {
		k.BlockSeen(root, at)
	}
}

func (k *Hooks) proposal(result string) {
	if k.Proposal != nil {
		k.Proposal(result)
	}
}

func (k *Hooks) attestations(result string, n int) {
	if k.Attestations != nil {
		k.Attestations(result, n)
	}
}

func (k *Hooks) syncing(on bool) {
	if k.Syncing != nil {
		k.Syncing(on)
	}
}

func (k *Hooks) syncDistance(slots uint64) {
	if k.SyncDistance != nil {
		k.SyncDistance(slots)
	}
}

func (k *Hooks) syncedBlock() {
	if k.SyncedBlock != nil {
		k.SyncedBlock()
	}
}

func (k *Hooks) attestationVerified(ia *types.IndexedAttestation) {
	if k.AttestationVerified != nil {
		k.AttestationVerified(ia)
	}
}

func (k *Hooks) peerStatus(p peer.ID, st Status, known bool) {
	if k.PeerStatus != nil {
		k.PeerStatus(p, st, known)
	}
}
