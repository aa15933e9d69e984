package core

import (
	"crypto/ed25519"
	"encoding/binary"

	"github.com/shardlab/shardlab/beacon/params"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/hash"
)

// Interop accounts: like interop validator keys, every account's key is
// derived from public data so that simulations and testnets need no key
// files: the ed25519 seed of account j of shard s is
// sha256("shardlab account" ++ uint64_le(s) ++ uint64_le(j)).

// AccountKey returns the private key of account j of shard.
func AccountKey(shard bt.Shard, j uint64) ed25519.PrivateKey {
	var buf [16 + 16]byte
	copy(buf[:16], "shardlab account")
	binary.LittleEndian.PutUint64(buf[16:], uint64(shard))
	binary.LittleEndian.PutUint64(buf[24:], j)
	seed := hash.Hash(buf[:])
	return ed25519.NewKeyFromSeed(seed[:])
}

// AccountPubkeys returns the public keys of a shard's interop accounts.
func AccountPubkeys(cfg *params.Config, shard bt.Shard) [][32]byte {
	out := make([][32]byte, cfg.Shard.Accounts)
	for j := range out {
		copy(out[j][:], AccountKey(shard, uint64(j)).Public().(ed25519.PublicKey))
	}
	return out
}
