package types

import (
	bt "github.com/shardlab/shardlab/beacon/types"
)

//go:generate go tool sszgen --path containers.go --include ../../beacon/types --objs Account,Transaction,Receipt,ShardBlockHeader,ShardBlockBody,ShardBlock,ReceiptClaim,Multiproof,CrosslinkEvidence,CrosslinkRollback,ShardFraudProof --output containers_encoding.go

// The containers of shardlab's shard layer (docs/protocol.md §2). Field order
// defines the SSZ encoding; the limits are the MAX_* constants of
// beacon/params.

// Account is one shard account: an ed25519 public key, a balance and the
// nonce of its next transaction.
type Account struct {
	Pubkey  [32]byte `ssz-size:"32"`
	Balance bt.Gwei
	Nonce   uint64
}

// Transaction moves Amount from account From of Shard to account To of
// ToShard: an intra-shard transfer when ToShard == Shard, else a cross-shard
// send that emits a Receipt. Signature is ed25519 over
// signing_root(transaction) ++ domain (docs/protocol.md).
type Transaction struct {
	Shard     bt.Shard
	From      uint64
	Nonce     uint64
	ToShard   bt.Shard
	To        uint64
	Amount    bt.Gwei
	Signature [64]byte `ssz-size:"64"`
}

// Receipt is the record a cross-shard send leaves in its block: claimable on
// DstShard, in Nonce order per source shard.
type Receipt struct {
	SrcShard  bt.Shard
	DstShard  bt.Shard
	Nonce     uint64
	SrcSlot   bt.Slot
	Sender    uint64
	Recipient uint64
	Amount    bt.Gwei
}

// ShardBlockHeader is a shard block with its body replaced by the body's root.
// Its signing root is the block root.
type ShardBlockHeader struct {
	Slot            bt.Slot
	Shard           bt.Shard
	ProposerIndex   bt.ValidatorIndex
	ParentRoot      bt.Root         `ssz-size:"32"`
	BeaconBlockRoot bt.Root         `ssz-size:"32"`
	StateRoot       bt.Root         `ssz-size:"32"`
	ReceiptsRoot    bt.Root         `ssz-size:"32"`
	BodyRoot        bt.Root         `ssz-size:"32"`
	Signature       bt.BLSSignature `ssz-size:"96"`
}

// ShardBlockBody holds a block's transactions and receipt claims.
type ShardBlockBody struct {
	Transactions []*Transaction  `ssz-max:"1024"`
	Claims       []*ReceiptClaim `ssz-max:"1024"`
}

// ShardBlock is a block of one shard chain.
type ShardBlock struct {
	Slot            bt.Slot
	Shard           bt.Shard
	ProposerIndex   bt.ValidatorIndex
	ParentRoot      bt.Root `ssz-size:"32"`
	BeaconBlockRoot bt.Root `ssz-size:"32"`
	StateRoot       bt.Root `ssz-size:"32"`
	ReceiptsRoot    bt.Root `ssz-size:"32"`
	Body            ShardBlockBody
	Signature       bt.BLSSignature `ssz-size:"96"`
}

// ReceiptClaim credits a receipt on its destination shard. It proves the
// receipt is in the receipts of a source block whose header is in the data
// root of a crosslink (Crosslinks[0]) from which a chain of crosslinks leads
// to the source shard's current crosslink in the beacon state the claiming
// block references; and that Crosslinks[WindowIndex], at or after
// Crosslinks[0] in that chain, was already the shard's current crosslink
// SHARD_CHALLENGE_WINDOW epochs before that state (WindowBranch, against the
// state root recorded in its state_roots).
type ReceiptClaim struct {
	Receipt       Receipt
	ReceiptIndex  uint64
	ReceiptBranch []bt.Root `ssz-max:"32" ssz-size:"?,32"`
	Header        ShardBlockHeader
	HeaderIndex   uint64
	HeaderBranch  []bt.Root       `ssz-max:"32" ssz-size:"?,32"`
	Crosslinks    []*bt.Crosslink `ssz-max:"16"`
	WindowIndex   uint64
	WindowBranch  []bt.Root `ssz-max:"32" ssz-size:"?,32"`
}

// Multiproof reveals some chunks of an SSZ object's tree: the chunks at the
// generalized indices Indices, and the Helpers that connect them to the root,
// in decreasing generalized-index order (crypto/hash.NewPartialTree).
type Multiproof struct {
	Indices []uint64  `ssz-max:"65536"`
	Leaves  []bt.Root `ssz-max:"65536" ssz-size:"?,32"`
	Helpers []bt.Root `ssz-max:"65536" ssz-size:"?,32"`
}

// CrosslinkEvidence shows that the validators of Attestation crosslinked a
// data root containing a block's header, at HeaderIndex.
type CrosslinkEvidence struct {
	Attestation  bt.IndexedAttestation
	HeaderIndex  uint64
	HeaderBranch []bt.Root `ssz-max:"32" ssz-size:"?,32"`
}

// CrosslinkRollback shows that a block's header is in a crosslink that is on
// the beacon state's current crosslink chain of its shard: Chain[0] contains
// the header, htr(Chain[i]) == Chain[i+1].parent_root, and the last element
// is the current crosslink. Parent is the crosslink before Chain[0], to which
// the shard is rolled back.
type CrosslinkRollback struct {
	Parent       bt.Crosslink
	Chain        []*bt.Crosslink `ssz-max:"16"`
	HeaderIndex  uint64
	HeaderBranch []bt.Root `ssz-max:"32" ssz-size:"?,32"`
}

// ShardFraudProof is a fisherman's proof that Block is invalid or commits to
// a wrong post-state or receipts root: with the parent's header (for the
// pre-state root), witnesses of every account, nonce and beacon crosslink the
// block touches, and, to slash its crosslinkers and roll the crosslink back,
// the attestations that crosslinked it and the crosslink chain.
type ShardFraudProof struct {
	Block         ShardBlock
	ParentHeader  ShardBlockHeader
	StateWitness  Multiproof
	BeaconHeader  bt.BeaconBlockHeader
	BeaconWitness Multiproof
	Evidence      []*CrosslinkEvidence `ssz-max:"16"` // MAX_FRAUD_EVIDENCE
	Rollbacks     []*CrosslinkRollback `ssz-max:"1"`  // MAX_FRAUD_ROLLBACKS
	Whistleblower bt.ValidatorIndex
	// Signature is the whistleblower's BLS signature over the proof's
	// signing root (DOMAIN_SHARD_FRAUD_PROOF), so that nobody else can claim
	// its reward.
	Signature bt.BLSSignature `ssz-size:"96"`
}
