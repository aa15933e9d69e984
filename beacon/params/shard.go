package params

import "fmt"

// ShardConfig is shardlab's phase 1 configuration: the shard-chain fork of
// phase 0 specified in docs/protocol.md. With ForkEpoch == FarFutureEpoch the
// chain is pure v0.8.3 phase 0.
type ShardConfig struct {
	// ForkVersion is the fork version the beacon state switches to at ForkEpoch.
	ForkVersion [4]byte
	// ForkEpoch is the epoch at which the shard fork activates (0: from genesis).
	ForkEpoch uint64
	// ChallengeWindow is the number of epochs a crosslink must have been in
	// the beacon state before receipts of the blocks it covers may be
	// claimed, so that fraud proofs can land first (SHARD_CHALLENGE_WINDOW).
	ChallengeWindow uint64
	// CommitteePeriod is the number of epochs a shard committee (and so the
	// set of shard proposers) stays the same (SHARD_COMMITTEE_PERIOD).
	CommitteePeriod uint64
	// Accounts is the number of accounts of every shard, all created at
	// genesis (SHARD_ACCOUNTS).
	Accounts uint64
	// GenesisBalance is every account's balance at genesis, in Gwei
	// (SHARD_GENESIS_BALANCE).
	GenesisBalance uint64
	// DomainTransaction is the domain type of shard transaction signatures.
	DomainTransaction DomainType
	// DomainFraudProof is the domain type of a fisherman's signature on the
	// fraud proof it submits.
	DomainFraudProof DomainType
}

// Fixed limits of the shard containers (their SSZ shapes do not depend on
// the config).
const (
	MaxShards            = 1024    // SHARD_COUNT may not exceed it (nonce lists)
	MaxShardTransactions = 1024    // per shard block
	MaxShardClaims       = 1024    // per shard block, as many as its receipts (docs/protocol.md §2.1)
	MaxShardAccountsLog2 = 32      // the account list's SSZ limit is 2^32 accounts
	MaxShardAccounts     = 1 << 22 // SHARD_ACCOUNTS may not exceed it (fraud-proof size)
	// A fraud proof carries the whole block plus witnesses of everything it
	// touches; the block limits above keep the largest possible proof under
	// MaxShardFraudProofBytes (shard/core TestLargestFraudProof), so every
	// invalid block can be proven.
	MaxShardFraudProofs      = 2 // per beacon block
	MaxShardFraudProofBytes  = 8 << 20
	MaxCrosslinkChain        = 16 // crosslinks in a claim's or a rollback's chain
	MaxMerkleBranch          = 32
	MaxFraudEvidence         = 16 // crosslink attestations in one fraud proof
	MaxFraudRollbacks        = 1
	MaxMultiproofNodes       = 1 << 16
	DefaultShardAccounts     = 1024
	DefaultShardGenesisGwei  = 1_000_000_000_000 // 1,000 ETH-equivalents per account
	DefaultChallengeWindow   = 1
	DefaultCommitteePeriod   = 4
	shardDomainTransaction   = 0x82
	shardDomainFraudProof    = 0x83
	defaultShardForkVersion0 = 0x01
)

// DefaultShardConfig leaves the shard fork off: a plain v0.8.3 phase 0
// chain. The other values are the defaults once it is switched on.
func DefaultShardConfig() ShardConfig {
	return ShardConfig{
		ForkVersion:       [4]byte{defaultShardForkVersion0, 0, 0, 0},
		ForkEpoch:         FarFutureEpoch,
		ChallengeWindow:   DefaultChallengeWindow,
		CommitteePeriod:   DefaultCommitteePeriod,
		Accounts:          DefaultShardAccounts,
		GenesisBalance:    DefaultShardGenesisGwei,
		DomainTransaction: DomainType{shardDomainTransaction, 0, 0, 0},
		DomainFraudProof:  DomainType{shardDomainFraudProof, 0, 0, 0},
	}
}

// Enabled reports whether the shard fork ever activates.
func (s ShardConfig) Enabled() bool { return s.ForkEpoch != FarFutureEpoch }

// WithShards returns a copy of c with the shard fork active from genesis.
func (c *Config) WithShards() *Config {
	cp := c.Copy()
	cp.Shard.ForkEpoch = cp.GenesisEpoch()
	return cp
}

func (s ShardConfig) validate(c *Config) error {
	if !s.Enabled() {
		return nil
	}
	if s.ForkVersion == [4]byte{} {
		return fmt.Errorf("SHARD_FORK_VERSION must differ from the phase 0 version 0x00000000")
	}
	if c.ShardCount > MaxShards {
		return fmt.Errorf("SHARD_COUNT (%d) must be <= %d with the shard fork", c.ShardCount, MaxShards)
	}
	if s.CommitteePeriod == 0 {
		return fmt.Errorf("SHARD_COMMITTEE_PERIOD must be > 0")
	}
	// A shard committee is computed from the seed of its period's first
	// epoch, which must stay the same for the whole period: its RANDAO mix
	// (MIN_SEED_LOOKAHEAD + 1 epochs earlier) and its active index root
	// (written ACTIVATION_EXIT_DELAY + 1 epochs ahead) must not be
	// overwritten in the EPOCHS_PER_HISTORICAL_VECTOR rings meanwhile.
	if s.CommitteePeriod+c.MinSeedLookahead+2 > c.EpochsPerHistoricalVector ||
		s.CommitteePeriod+c.ActivationExitDelay+1 > c.EpochsPerHistoricalVector {
		return fmt.Errorf("SHARD_COMMITTEE_PERIOD (%d) is too long: the period's seed would change within it (EPOCHS_PER_HISTORICAL_VECTOR %d)",
			s.CommitteePeriod, c.EpochsPerHistoricalVector)
	}
	// The account tree is 2^32 leaves deep, but the witnesses of a full
	// block grow with its occupied depth: up to 2^22 accounts the largest
	// fraud proof stays under MAX_SHARD_FRAUD_PROOF_BYTES (shard/core
	// TestLargestFraudProof measures about 6.9 MB of 8 MiB there).
	if s.Accounts == 0 || s.Accounts > MaxShardAccounts {
		return fmt.Errorf("SHARD_ACCOUNTS must be between 1 and %d (2^22), so that every block stays fraud-provable", MaxShardAccounts)
	}
	// A claim proves its crosslink through state_roots of the slot
	// SHARD_CHALLENGE_WINDOW epochs back, which must be at least one slot
	// back and within SLOTS_PER_HISTORICAL_ROOT; fraud proofs look beacon
	// blocks up in block_roots, which reaches as far.
	if s.ChallengeWindow == 0 {
		return fmt.Errorf("SHARD_CHALLENGE_WINDOW must be at least 1 epoch")
	}
	// A fraud proof against the first block of a crosslink written as late
	// as possible (MAX_EPOCHS_PER_CROSSLINK of catch-up, included a epoch
	// late) must still find the block's beacon reference (up to an epoch
	// before the block) in block_roots when it lands at the end of the
	// window: W + MAX_EPOCHS_PER_CROSSLINK + 3 epochs in all.
	if (s.ChallengeWindow+c.MaxEpochsPerCrosslink+3)*c.SlotsPerEpoch > c.SlotsPerHistoricalRoot {
		return fmt.Errorf("SHARD_CHALLENGE_WINDOW (%d) + MAX_EPOCHS_PER_CROSSLINK + 3 epochs must fit in SLOTS_PER_HISTORICAL_ROOT",
			s.ChallengeWindow)
	}
	if s.DomainTransaction == s.DomainFraudProof {
		return fmt.Errorf("DOMAIN_SHARD_TRANSACTION and DOMAIN_SHARD_FRAUD_PROOF must differ")
	}
	return nil
}
