package core

import (
	"crypto/ed25519"

	"github.com/shardlab/shardlab/beacon/params"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/hash"
	"github.com/shardlab/shardlab/crypto/sigcache"
	st "github.com/shardlab/shardlab/shard/types"
)

// TxDomain is the domain of the shard transactions of one chain:
// compute_transaction_domain(genesis_root) (docs/protocol.md §2.5). It binds
// an account's signature to the domain type, SHARD_FORK_VERSION and the
// chain's beacon genesis, so a transaction signed for one network is invalid
// on every other. The zero TxDomain is never a chain's.
type TxDomain [32]byte

// IsZero reports whether d is the zero domain (not a chain's).
func (d TxDomain) IsZero() bool { return d == TxDomain{} }

// ComputeTxDomain is compute_transaction_domain: genesisRoot is the beacon
// genesis state's hash_tree_root (the state_root of the genesis block).
//
//	def compute_transaction_domain(genesis_root: Root) -> Bytes32:
//	    fork_data_root = hash_tree_root(ShardForkData(
//	        current_version=SHARD_FORK_VERSION, genesis_root=genesis_root))
//	    return DOMAIN_SHARD_TRANSACTION + fork_data_root[:28]
func ComputeTxDomain(cfg *params.Config, genesisRoot bt.Root) TxDomain {
	var version [32]byte
	copy(version[:], cfg.Shard.ForkVersion[:])
	forkData := hash.Hash64(version, genesisRoot)
	var d TxDomain
	copy(d[:4], cfg.Shard.DomainTransaction[:])
	copy(d[4:], forkData[:28])
	return d
}

// TxMessage is compute_transaction_message, the 32 bytes an account signs
// for tx:
//
//	def compute_transaction_message(tx: Transaction, domain: Bytes32) -> Bytes32:
//	    return hash(signing_root(tx) + domain)
func TxMessage(d TxDomain, tx *st.Transaction) bt.Root {
	return hash.Hash64(tx.SigningRoot(), d)
}

// SignTx sets tx.Signature with key, for the chain of d.
func SignTx(d TxDomain, tx *st.Transaction, key ed25519.PrivateKey) {
	m := TxMessage(d, tx)
	copy(tx.Signature[:], ed25519.Sign(key, m[:]))
}

// VerifyTx reports whether tx carries the signature of pubkey for the chain
// of d.
func VerifyTx(d TxDomain, pubkey [32]byte, tx *st.Transaction) bool {
	return VerifyTxCached(nil, d, pubkey, tx)
}

// VerifyTxCached is VerifyTx through c: the check is named by the public
// key, the transaction message (which covers the domain and every signed
// field) and the signature, so a hit is exactly a check that verified
// before. A nil c verifies every time.
func VerifyTxCached(c *sigcache.Cache, d TxDomain, pubkey [32]byte, tx *st.Transaction) bool {
	m := TxMessage(d, tx)
	return c.VerifyEd25519(pubkey[:], m[:], tx.Signature[:])
}

// VerifyTxsCached is VerifyTxCached for many transactions at once, with
// pubkeys[i] the key of txs[i]: the same answers and cache semantics, the
// uncached signatures verified in parallel (sigcache.VerifyEd25519Batch).
// It panics if the slices' lengths differ.
func VerifyTxsCached(c *sigcache.Cache, d TxDomain, pubkeys [][32]byte, txs []*st.Transaction) []bool {
	if len(pubkeys) != len(txs) {
		panic("shard/core: VerifyTxsCached: keys and transactions of different lengths")
	}
	checks := make([]sigcache.Ed25519Check, len(txs))
	for i, tx := range txs {
		m := TxMessage(d, tx)
		checks[i] = sigcache.Ed25519Check{Pub: pubkeys[i][:], Msg: m[:], Sig: tx.Signature[:]}
	}
	return c.VerifyEd25519Batch(checks)
}
