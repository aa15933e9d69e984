package types

import "encoding/hex"

// Spec custom types (all SSZ uint64 or byte vectors).
type (
	Slot           uint64
	Epoch          uint64
	Shard          uint64
	ValidatorIndex uint64
	Gwei           uint64

	// Root is the spec's Hash (Bytes32).
	Root [32]byte
	// Version is a fork version (Bytes4).
	Version [4]byte
	// Domain is a signature domain (Bytes8): domain type ++ fork version.
	Domain [8]byte
	// BLSPubkey is a compressed G1 point (Bytes48).
	BLSPubkey [48]byte
	// BLSSignature is a compressed G2 point (Bytes96).
	BLSSignature [96]byte
)

// DepositProofLength is DEPOSIT_CONTRACT_TREE_DEPTH + 1 (the length mix-in).
const DepositProofLength = 33

// FarFutureEpoch is FAR_FUTURE_EPOCH.
const FarFutureEpoch = Epoch(^uint64(0))

// String renders r as 0x-prefixed hex.
func (r Root) String() string { return "0x" + hex.EncodeToString(r[:]) }

// IsZero reports whether r is all zero bytes.
func (r Root) IsZero() bool { return r == Root{} }

// String renders v as 0x-prefixed hex.
func (v Version) String() string { return "0x" + hex.EncodeToString(v[:]) }

// String renders p as 0x-prefixed hex.
func (p BLSPubkey) String() string { return "0x" + hex.EncodeToString(p[:]) }

// String renders s as 0x-prefixed hex.
func (s BLSSignature) String() string { return "0x" + hex.EncodeToString(s[:]) }
