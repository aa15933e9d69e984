package validator

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
)

// InteropEth1BlockHash returns 0x42..42, the eth1 block hash of interop
// genesis states.
func InteropEth1BlockHash() types.Root {
	var r types.Root
	for i := range r {
		r[i] = 0x42
	}
	return r
}

// WithdrawalCredentials is BLS_WITHDRAWAL_PREFIX ++ sha256(pubkey)[1:].
func WithdrawalCredentials(cfg *params.Config, pk types.BLSPubkey) types.Root {
	wc := types.Root(sha256.Sum256(pk[:]))
	wc[0] = cfg.BLSWithdrawalPrefix[0]
	return wc
}

// genesisOptions are InteropDeposits' and InteropGenesis' knobs.
type genesisOptions struct {
	keys     *Keys
	unsigned bool
}

// GenesisOption adjusts InteropDeposits and InteropGenesis.
type GenesisOption func(*genesisOptions)

// WithKeys makes InteropGenesis use keys (which must hold key indices
// [0, n)) instead of deriving them, so a caller that needs the keys anyway
// derives them once.
func WithKeys(keys *Keys) GenesisOption {
	return func(o *genesisOptions) { o.keys = keys }
}

// SkipDepositSignatures is the fast path for benchmarks and large
// simulations: deposits carry a zero signature instead of a proof of
// possession, and InteropGenesis skips their verification (core.SkipSigs),
// as the spec does with BLS turned off. Signing and verifying cost about a
// millisecond per validator, which dominates genesis at mainnet sizes. The
// resulting state has the same validators and balances; only
// eth1_data.deposit_root differs (the deposit data roots cover the
// signatures). A state built this way must not be offered as a vector that
// replays the deposits with BLS on.
func SkipDepositSignatures() GenesisOption {
	return func(o *genesisOptions) { o.unsigned = true }
}

// InteropDeposits returns n deposits of MAX_EFFECTIVE_BALANCE for key indices
// 0..n-1 of keys, with withdrawal credentials BLS_WITHDRAWAL_PREFIX ++
// sha256(pubkey)[1:], a proof of possession signed with
// compute_domain(DOMAIN_DEPOSIT) (unless SkipDepositSignatures is given), and
// each deposit i's Merkle proof against the deposit tree of the first i+1
// deposits, as initialize_beacon_state_from_eth1 checks it. The proofs cost
// O(n * DEPOSIT_CONTRACT_TREE_DEPTH) hashes in all.
func InteropDeposits(cfg *params.Config, keys *Keys, n uint64, opts ...GenesisOption) ([]*types.Deposit, error) {
	var o genesisOptions
	for _, f := range opts {
		f(&o)
	}
	if keys == nil {
		return nil, fmt.Errorf("build interop deposits: %w: no key set", ErrNoKey)
	}
	if keys.Start() != 0 || uint64(keys.Len()) < n {
		return nil, fmt.Errorf("build interop deposits: %w: %d deposits need keys [0, %d), have %s", ErrNoKey, n, n, keys)
	}
	domain := core.ComputeDomain(cfg.DomainDeposit, types.Version{})
	deposits := make([]*types.Deposit, n)
	var acc depositAccumulator
	for i := range n {
		pk, _ := keys.Pubkey(i)
		d := &types.Deposit{Data: types.DepositData{
			Pubkey:                pk,
			WithdrawalCredentials: WithdrawalCredentials(cfg, pk),
			Amount:                types.Gwei(cfg.MaxEffectiveBalance),
		}}
		if !o.unsigned {
			sk, _ := keys.SecretKey(i)
			d.Data.Signature = types.BLSSignature(sk.Sign(d.Data.SigningRoot(), domain).Bytes())
		}
		d.Proof = acc.appendWithProof(d.Data.TreeRoot())
		deposits[i] = d
	}
	return deposits, nil
}

// InteropGenesis builds the interop genesis state of n validators holding
// key indices 0..n-1 (the eth2 interop "mocked start"):
// initialize_beacon_state_from_eth1 over InteropDeposits with eth1 block hash
// 0x42..42, all deposits verified (unless SkipDepositSignatures is given).
//
// Genesis time: v0.8.3 sets genesis_time = eth1_timestamp - eth1_timestamp %
// SECONDS_PER_DAY + 2 * SECONDS_PER_DAY, always a multiple of a day (UTC
// midnight). InteropGenesis passes eth1_timestamp = genesisTime - 2 *
// SECONDS_PER_DAY, so the state's genesis_time is genesisTime rounded down
// to a multiple of SECONDS_PER_DAY: exactly genesisTime when it is a UTC
// midnight (MIN_GENESIS_TIME of both presets is). A genesis_time below
// MIN_GENESIS_TIME, or fewer than MIN_GENESIS_ACTIVE_VALIDATOR_COUNT
// validators, would fail is_valid_genesis_state and is an error.
func InteropGenesis(tr *core.Transition, n uint64, genesisTime uint64, opts ...GenesisOption) (*types.BeaconState, error) {
	cfg := tr.Config()
	var o genesisOptions
	for _, f := range opts {
		f(&o)
	}
	if n < cfg.MinGenesisActiveValidatorCount {
		return nil, fmt.Errorf("build interop genesis: %d validators, %s needs at least MIN_GENESIS_ACTIVE_VALIDATOR_COUNT = %d",
			n, cfg.Name, cfg.MinGenesisActiveValidatorCount)
	}
	const day = params.SecondsPerDay
	rounded := genesisTime - genesisTime%day
	if rounded < cfg.MinGenesisTime || rounded < 2*day {
		return nil, fmt.Errorf("build interop genesis: genesis time %d (rounded down to a day: %d) is below MIN_GENESIS_TIME = %d",
			genesisTime, rounded, cfg.MinGenesisTime)
	}
	keys := o.keys
	if keys == nil {
		var err error
		if keys, err = NewInteropKeys(0, n); err != nil {
			return nil, fmt.Errorf("build interop genesis: %w", err)
		}
	}
	deposits, err := InteropDeposits(cfg, keys, n, opts...)
	if err != nil {
		return nil, fmt.Errorf("build interop genesis: %w", err)
	}
	sigs := core.VerifySigs
	if o.unsigned {
		sigs = core.SkipSigs
	}
	st, err := tr.InitializeBeaconStateFromEth1(InteropEth1BlockHash(), rounded-2*day, deposits, sigs)
	if err != nil {
		return nil, fmt.Errorf("build interop genesis: %w", err)
	}
	if st.GenesisTime != rounded {
		return nil, fmt.Errorf("build interop genesis: genesis time came out as %d, want %d", st.GenesisTime, rounded)
	}
	if !tr.IsValidGenesisState(st) {
		return nil, fmt.Errorf("build interop genesis: %w: state fails is_valid_genesis_state", core.ErrInvalidGenesis)
	}
	return st, nil
}

// depositAccumulator is the deposit contract's incremental Merkle tree,
// which yields the proof of each leaf as it is appended.
type depositAccumulator struct {
	branch [params.DepositContractTreeDepth]types.Root
	zero   [params.DepositContractTreeDepth]types.Root
	size   uint64
	init   bool
}

// appendWithProof appends leaf and returns its proof in the tree holding the
// leaves so far, itself included: DEPOSIT_CONTRACT_TREE_DEPTH siblings and the
// length mix-in. As the new leaf is the last one, its sibling at height h is
// the completed left subtree branch[h] when bit h of its index is set, and a
// zero subtree otherwise.
func (a *depositAccumulator) appendWithProof(leaf types.Root) [types.DepositProofLength]types.Root {
	if !a.init {
		for h := 1; h < len(a.zero); h++ {
			a.zero[h] = hashPair(a.zero[h-1], a.zero[h-1])
		}
		a.init = true
	}
	var proof [types.DepositProofLength]types.Root
	index := a.size
	for h := range params.DepositContractTreeDepth {
		if index>>h&1 == 1 {
			proof[h] = a.branch[h]
		} else {
			proof[h] = a.zero[h]
		}
	}
	a.size++
	binary.LittleEndian.PutUint64(proof[params.DepositContractTreeDepth][:8], a.size)
	// The deposit contract's deposit(): fold the new leaf into the branch.
	node, size := leaf, a.size
	for h := range params.DepositContractTreeDepth {
		if size&1 == 1 {
			a.branch[h] = node
			break
		}
		node = hashPair(a.branch[h], node)
		size >>= 1
	}
	return proof
}

func hashPair(a, b types.Root) types.Root {
	var buf [64]byte
	copy(buf[:32], a[:])
	copy(buf[32:], b[:])
	return sha256.Sum256(buf[:])
}
