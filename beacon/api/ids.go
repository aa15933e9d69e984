package api

import (
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"

	"github.com/shardlab/shardlab/beacon/types"
)

// IDKind is the form of a block or state id.
type IDKind int

// The id forms of the Beacon API.
const (
	IDHead IDKind = iota
	IDGenesis
	IDFinalized
	IDJustified
	IDSlot
	IDRoot
)

// BlockID is a parsed block_id: head | genesis | finalized | justified |
// <slot> | 0x<block root>.
type BlockID struct {
	Kind IDKind
	Slot types.Slot // IDSlot
	Root types.Root // IDRoot
}

// StateID is a parsed state_id: head | genesis | finalized | justified |
// <slot> | 0x<root>, the root being a block root or a state root.
type StateID BlockID

// ParseBlockID parses a block_id path segment; a malformed one is a 400.
func ParseBlockID(s string) (BlockID, error) {
	id, err := parseID(s)
	if err != nil {
		return BlockID{}, Errorf(http.StatusBadRequest, "invalid block id %q: %s", truncate(s), err.Error())
	}
	return id, nil
}

// ParseStateID parses a state_id path segment; a malformed one is a 400.
func ParseStateID(s string) (StateID, error) {
	id, err := parseID(s)
	if err != nil {
		return StateID{}, Errorf(http.StatusBadRequest, "invalid state id %q: %s", truncate(s), err.Error())
	}
	return StateID(id), nil
}

func parseID(s string) (BlockID, error) {
	switch s {
	case "head":
		return BlockID{Kind: IDHead}, nil
	case "genesis":
		return BlockID{Kind: IDGenesis}, nil
	case "finalized":
		return BlockID{Kind: IDFinalized}, nil
	case "justified":
		return BlockID{Kind: IDJustified}, nil
	}
	if strings.HasPrefix(s, "0x") {
		r, err := ParseRoot(s)
		if err != nil {
			return BlockID{}, err
		}
		return BlockID{Kind: IDRoot, Root: r}, nil
	}
	slot, err := ParseUint(s)
	if err != nil {
		return BlockID{}, Errorf(http.StatusBadRequest, "want head, genesis, finalized, justified, a slot or a 0x-prefixed 32-byte root")
	}
	return BlockID{Kind: IDSlot, Slot: types.Slot(slot)}, nil
}

// ParseUint parses a decimal uint64 (digits only: no sign, no spaces).
func ParseUint(s string) (uint64, error) {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, Errorf(http.StatusBadRequest, "want a decimal unsigned integer, got %q", truncate(s))
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, Errorf(http.StatusBadRequest, "want a decimal unsigned 64-bit integer, got %q", truncate(s))
	}
	return v, nil
}

// ParseRoot parses a 0x-prefixed 32-byte hex root.
func ParseRoot(s string) (types.Root, error) {
	var r types.Root
	if err := parseHex(s, r[:]); err != nil {
		return r, err
	}
	return r, nil
}

// parseHex parses 0x-prefixed hex of exactly len(dst) bytes into dst.
func parseHex(s string, dst []byte) error {
	h, ok := strings.CutPrefix(s, "0x")
	if !ok || len(h) != 2*len(dst) {
		return Errorf(http.StatusBadRequest, "want 0x-prefixed hex of %d bytes", len(dst))
	}
	if _, err := hex.Decode(dst, []byte(h)); err != nil {
		return Errorf(http.StatusBadRequest, "want 0x-prefixed hex of %d bytes: %v", len(dst), err)
	}
	return nil
}

// ValidatorID is a parsed validator_id: an index or a 0x public key.
type ValidatorID struct {
	IsPubkey bool
	Index    types.ValidatorIndex
	Pubkey   types.BLSPubkey
}

// ParseValidatorID parses a validator_id; a malformed one is a 400.
func ParseValidatorID(s string) (ValidatorID, error) {
	if strings.HasPrefix(s, "0x") {
		var pk types.BLSPubkey
		if err := parseHex(s, pk[:]); err != nil {
			return ValidatorID{}, Errorf(http.StatusBadRequest, "invalid validator id %q: %s", truncate(s), err.Error())
		}
		return ValidatorID{IsPubkey: true, Pubkey: pk}, nil
	}
	i, err := ParseUint(s)
	if err != nil {
		return ValidatorID{}, Errorf(http.StatusBadRequest, "invalid validator id %q: want an index or a 0x-prefixed 48-byte public key", truncate(s))
	}
	return ValidatorID{Index: types.ValidatorIndex(i)}, nil
}
