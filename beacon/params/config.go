package params

import (
	"errors"
	"fmt"
	"math/bits"
)

// Config holds every constant of the v0.8.3 phase 0 spec that a preset may set,
// plus shardlab's phase 1 (shard layer) settings. It is a plain value: build one
// with Minimal(), Mainnet() or Load(), adjust it, call Validate, then pass it
// (by pointer, never modified afterwards) to the code that needs it.
type Config struct {
	// Name is the preset the values came from: "minimal", "mainnet" or a custom name.
	Name string

	// Misc.
	ShardCount                     uint64
	TargetCommitteeSize            uint64
	MaxValidatorsPerCommittee      uint64
	MinPerEpochChurnLimit          uint64
	ChurnLimitQuotient             uint64
	ShuffleRoundCount              uint64
	MinGenesisActiveValidatorCount uint64
	MinGenesisTime                 uint64

	// Deposit contract.
	DepositContractAddress [20]byte

	// Gwei values.
	MinDepositAmount          uint64
	MaxEffectiveBalance       uint64
	EjectionBalance           uint64
	EffectiveBalanceIncrement uint64

	// Initial values.
	GenesisSlot         uint64
	BLSWithdrawalPrefix [1]byte

	// Time parameters.
	SecondsPerSlot                   uint64
	MinAttestationInclusionDelay     uint64
	SlotsPerEpoch                    uint64
	MinSeedLookahead                 uint64
	ActivationExitDelay              uint64
	SlotsPerEth1VotingPeriod         uint64
	SlotsPerHistoricalRoot           uint64
	MinValidatorWithdrawabilityDelay uint64
	PersistentCommitteePeriod        uint64
	MaxEpochsPerCrosslink            uint64
	MinEpochsToInactivityPenalty     uint64
	// EarlyDerivedSecretPenaltyMaxFutureEpochs is a phase 1 custody-game constant
	// that the v0.8.3 configs carry; shardlab reads and keeps it but does not use it.
	EarlyDerivedSecretPenaltyMaxFutureEpochs uint64

	// State list lengths.
	EpochsPerHistoricalVector uint64
	EpochsPerSlashingsVector  uint64
	HistoricalRootsLimit      uint64
	ValidatorRegistryLimit    uint64

	// Reward and penalty quotients.
	BaseRewardFactor            uint64
	WhistleblowerRewardQuotient uint64
	ProposerRewardQuotient      uint64
	InactivityPenaltyQuotient   uint64
	MinSlashingPenaltyQuotient  uint64

	// Max operations per block.
	MaxProposerSlashings uint64
	MaxAttesterSlashings uint64
	MaxAttestations      uint64
	MaxDeposits          uint64
	MaxVoluntaryExits    uint64
	MaxTransfers         uint64

	// Signature domain types.
	DomainBeaconProposer      DomainType
	DomainRandao              DomainType
	DomainAttestation         DomainType
	DomainDeposit             DomainType
	DomainVoluntaryExit       DomainType
	DomainTransfer            DomainType
	DomainCustodyBitChallenge DomainType
	DomainShardProposer       DomainType
	DomainShardAttester       DomainType

	// Shard is shardlab's phase 1 configuration (see docs/protocol.md).
	Shard ShardConfig
}

// DomainType is the 4-byte signature domain type of the spec.
type DomainType [4]byte

// Spec constants that no preset changes.
const (
	FarFutureEpoch           = ^uint64(0)
	BaseRewardsPerEpoch      = 5
	DepositContractTreeDepth = 32
	SecondsPerDay            = 86400
	JustificationBitsLength  = 4
)

// SSZ shapes that are fixed by the generated containers. A custom config may not
// change them, because only BeaconState and HistoricalBatch are sized at runtime.
const (
	FixedMaxValidatorsPerCommittee = 4096
	FixedMaxProposerSlashings      = 16
	FixedMaxAttesterSlashings      = 1
	FixedMaxAttestations           = 128
	FixedMaxDeposits               = 16
	FixedMaxVoluntaryExits         = 16
	FixedMaxTransfers              = 0
)

// ErrInvalidConfig is wrapped by every error Validate and Load return.
var ErrInvalidConfig = errors.New("invalid config")

// Minimal returns the v0.8.3 "minimal" preset.
func Minimal() *Config {
	c := base()
	c.Name = "minimal"
	c.ShardCount = 8
	c.TargetCommitteeSize = 4
	c.ShuffleRoundCount = 10
	c.MinGenesisActiveValidatorCount = 64
	c.SlotsPerEpoch = 8
	c.SlotsPerEth1VotingPeriod = 16
	c.SlotsPerHistoricalRoot = 64
	c.MaxEpochsPerCrosslink = 4
	c.EarlyDerivedSecretPenaltyMaxFutureEpochs = 4096
	c.EpochsPerHistoricalVector = 64
	c.EpochsPerSlashingsVector = 64
	return c
}

// Mainnet returns the v0.8.3 "mainnet" preset.
func Mainnet() *Config {
	c := base()
	c.Name = "mainnet"
	c.ShardCount = 1024
	c.TargetCommitteeSize = 128
	c.ShuffleRoundCount = 90
	c.MinGenesisActiveValidatorCount = 65536
	c.SlotsPerEpoch = 64
	c.SlotsPerEth1VotingPeriod = 1024
	c.SlotsPerHistoricalRoot = 8192
	c.MaxEpochsPerCrosslink = 64
	c.EarlyDerivedSecretPenaltyMaxFutureEpochs = 16384
	c.EpochsPerHistoricalVector = 65536
	c.EpochsPerSlashingsVector = 8192
	return c
}

// Preset returns the named built-in preset.
func Preset(name string) (*Config, error) {
	switch name {
	case "minimal":
		return Minimal(), nil
	case "mainnet":
		return Mainnet(), nil
	}
	return nil, fmt.Errorf("%w: unknown preset %q (want minimal or mainnet)", ErrInvalidConfig, name)
}

// base holds the values both presets share.
func base() *Config {
	return &Config{
		MaxValidatorsPerCommittee: 4096,
		MinPerEpochChurnLimit:     4,
		ChurnLimitQuotient:        65536,
		MinGenesisTime:            1578009600,
		DepositContractAddress: [20]byte{0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x34, 0x56, 0x78, 0x90,
			0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x34, 0x56, 0x78, 0x90},
		MinDepositAmount:                 1_000_000_000,
		MaxEffectiveBalance:              32_000_000_000,
		EjectionBalance:                  16_000_000_000,
		EffectiveBalanceIncrement:        1_000_000_000,
		GenesisSlot:                      0,
		BLSWithdrawalPrefix:              [1]byte{0},
		SecondsPerSlot:                   6,
		MinAttestationInclusionDelay:     1,
		MinSeedLookahead:                 1,
		ActivationExitDelay:              4,
		MinValidatorWithdrawabilityDelay: 256,
		PersistentCommitteePeriod:        2048,
		MinEpochsToInactivityPenalty:     4,
		HistoricalRootsLimit:             1 << 24,
		ValidatorRegistryLimit:           1 << 40,
		BaseRewardFactor:                 64,
		WhistleblowerRewardQuotient:      512,
		ProposerRewardQuotient:           8,
		InactivityPenaltyQuotient:        1 << 25,
		MinSlashingPenaltyQuotient:       32,
		MaxProposerSlashings:             16,
		MaxAttesterSlashings:             1,
		MaxAttestations:                  128,
		MaxDeposits:                      16,
		MaxVoluntaryExits:                16,
		MaxTransfers:                     0,
		DomainBeaconProposer:             DomainType{0, 0, 0, 0},
		DomainRandao:                     DomainType{1, 0, 0, 0},
		DomainAttestation:                DomainType{2, 0, 0, 0},
		DomainDeposit:                    DomainType{3, 0, 0, 0},
		DomainVoluntaryExit:              DomainType{4, 0, 0, 0},
		DomainTransfer:                   DomainType{5, 0, 0, 0},
		DomainCustodyBitChallenge:        DomainType{6, 0, 0, 0},
		DomainShardProposer:              DomainType{128, 0, 0, 0},
		DomainShardAttester:              DomainType{129, 0, 0, 0},
		Shard:                            DefaultShardConfig(),
	}
}

// Copy returns an independent copy of c.
func (c *Config) Copy() *Config {
	cp := *c
	return &cp
}

// GenesisEpoch is compute_epoch_of_slot(GENESIS_SLOT).
func (c *Config) GenesisEpoch() uint64 { return c.GenesisSlot / c.SlotsPerEpoch }

// MaxPendingAttestations is the limit of the state's pending attestation lists
// (MAX_ATTESTATIONS * SLOTS_PER_EPOCH).
func (c *Config) MaxPendingAttestations() uint64 { return c.MaxAttestations * c.SlotsPerEpoch }

// Validate checks that the values are usable: non-zero where the spec divides by
// them, powers of two where the SSZ shapes or the spec's modular indexing need
// them, and equal to the compiled-in SSZ limits where containers are generated.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf(format, args...))
	}
	nonZero := []struct {
		name string
		v    uint64
	}{
		{"SHARD_COUNT", c.ShardCount},
		{"TARGET_COMMITTEE_SIZE", c.TargetCommitteeSize},
		{"CHURN_LIMIT_QUOTIENT", c.ChurnLimitQuotient},
		{"MAX_EFFECTIVE_BALANCE", c.MaxEffectiveBalance},
		{"EFFECTIVE_BALANCE_INCREMENT", c.EffectiveBalanceIncrement},
		{"SECONDS_PER_SLOT", c.SecondsPerSlot},
		{"SLOTS_PER_EPOCH", c.SlotsPerEpoch},
		{"SLOTS_PER_ETH1_VOTING_PERIOD", c.SlotsPerEth1VotingPeriod},
		{"SLOTS_PER_HISTORICAL_ROOT", c.SlotsPerHistoricalRoot},
		{"EPOCHS_PER_HISTORICAL_VECTOR", c.EpochsPerHistoricalVector},
		{"EPOCHS_PER_SLASHINGS_VECTOR", c.EpochsPerSlashingsVector},
		{"HISTORICAL_ROOTS_LIMIT", c.HistoricalRootsLimit},
		{"VALIDATOR_REGISTRY_LIMIT", c.ValidatorRegistryLimit},
		{"BASE_REWARD_FACTOR", c.BaseRewardFactor},
		{"WHISTLEBLOWER_REWARD_QUOTIENT", c.WhistleblowerRewardQuotient},
		{"PROPOSER_REWARD_QUOTIENT", c.ProposerRewardQuotient},
		{"INACTIVITY_PENALTY_QUOTIENT", c.InactivityPenaltyQuotient},
		{"MIN_SLASHING_PENALTY_QUOTIENT", c.MinSlashingPenaltyQuotient},
		{"MAX_EPOCHS_PER_CROSSLINK", c.MaxEpochsPerCrosslink},
	}
	for _, f := range nonZero {
		if f.v == 0 {
			bad("%s must be > 0", f.name)
		}
	}
	pow2 := []struct {
		name string
		v    uint64
	}{
		{"SLOTS_PER_HISTORICAL_ROOT", c.SlotsPerHistoricalRoot},
		{"EPOCHS_PER_HISTORICAL_VECTOR", c.EpochsPerHistoricalVector},
		{"EPOCHS_PER_SLASHINGS_VECTOR", c.EpochsPerSlashingsVector},
		{"HISTORICAL_ROOTS_LIMIT", c.HistoricalRootsLimit},
		{"VALIDATOR_REGISTRY_LIMIT", c.ValidatorRegistryLimit},
	}
	for _, f := range pow2 {
		if f.v != 0 && bits.OnesCount64(f.v) != 1 {
			bad("%s must be a power of two, got %d", f.name, f.v)
		}
	}
	if c.SlotsPerEpoch == 1 {
		// Epoch processing runs in an epoch's last slot and reads the block
		// root of its first slot, which must lie in the past.
		bad("SLOTS_PER_EPOCH must be at least 2")
	}
	if c.SlotsPerEpoch != 0 && c.SlotsPerHistoricalRoot%c.SlotsPerEpoch != 0 {
		bad("SLOTS_PER_HISTORICAL_ROOT (%d) must be a multiple of SLOTS_PER_EPOCH (%d)",
			c.SlotsPerHistoricalRoot, c.SlotsPerEpoch)
	}
	if c.ShardCount != 0 && c.SlotsPerEpoch != 0 && c.ShardCount < c.SlotsPerEpoch {
		// get_committee_count would give fewer than one committee per slot,
		// and get_shard_delta's SHARD_COUNT - SHARD_COUNT // SLOTS_PER_EPOCH bound breaks.
		bad("SHARD_COUNT (%d) must be >= SLOTS_PER_EPOCH (%d)", c.ShardCount, c.SlotsPerEpoch)
	}
	if c.ShardCount > 1<<16 {
		bad("SHARD_COUNT (%d) must be <= 65536", c.ShardCount)
	}
	if c.ShuffleRoundCount > 255 {
		bad("SHUFFLE_ROUND_COUNT (%d) must fit in one byte", c.ShuffleRoundCount)
	}
	if c.MinSeedLookahead+1 > c.EpochsPerHistoricalVector {
		bad("MIN_SEED_LOOKAHEAD (%d) must be < EPOCHS_PER_HISTORICAL_VECTOR - 1", c.MinSeedLookahead)
	}
	if c.ActivationExitDelay+1 >= c.EpochsPerHistoricalVector {
		bad("ACTIVATION_EXIT_DELAY (%d) must be < EPOCHS_PER_HISTORICAL_VECTOR - 1", c.ActivationExitDelay)
	}
	if c.EjectionBalance > c.MaxEffectiveBalance {
		bad("EJECTION_BALANCE must be <= MAX_EFFECTIVE_BALANCE")
	}
	if c.MinAttestationInclusionDelay > c.SlotsPerEpoch {
		bad("MIN_ATTESTATION_INCLUSION_DELAY must be <= SLOTS_PER_EPOCH")
	}
	fixed := []struct {
		name      string
		got, want uint64
	}{
		{"MAX_VALIDATORS_PER_COMMITTEE", c.MaxValidatorsPerCommittee, FixedMaxValidatorsPerCommittee},
		{"MAX_PROPOSER_SLASHINGS", c.MaxProposerSlashings, FixedMaxProposerSlashings},
		{"MAX_ATTESTER_SLASHINGS", c.MaxAttesterSlashings, FixedMaxAttesterSlashings},
		{"MAX_ATTESTATIONS", c.MaxAttestations, FixedMaxAttestations},
		{"MAX_DEPOSITS", c.MaxDeposits, FixedMaxDeposits},
		{"MAX_VOLUNTARY_EXITS", c.MaxVoluntaryExits, FixedMaxVoluntaryExits},
		{"MAX_TRANSFERS", c.MaxTransfers, FixedMaxTransfers},
	}
	for _, f := range fixed {
		if f.got != f.want {
			bad("%s is %d, but shardlab's block containers are compiled with %d (only BeaconState and HistoricalBatch are sized at run time)",
				f.name, f.got, f.want)
		}
	}
	if err := c.Shard.validate(c); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, errors.Join(errs...))
	}
	return nil
}
