package params

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// field binds one YAML key of a consensus-specs config file to a Config field.
type field struct {
	key string
	u64 *uint64
	b   []byte // fixed-size byte value (domain types, address, prefix)
	// nonConsensus marks a key that cannot change a state transition's
	// result once the genesis state exists (see ConsensusRecord).
	nonConsensus bool
}

func (c *Config) fields() []field {
	return []field{
		{key: "SHARD_COUNT", u64: &c.ShardCount},
		{key: "TARGET_COMMITTEE_SIZE", u64: &c.TargetCommitteeSize},
		{key: "MAX_VALIDATORS_PER_COMMITTEE", u64: &c.MaxValidatorsPerCommittee},
		{key: "MIN_PER_EPOCH_CHURN_LIMIT", u64: &c.MinPerEpochChurnLimit},
		{key: "CHURN_LIMIT_QUOTIENT", u64: &c.ChurnLimitQuotient},
		{key: "SHUFFLE_ROUND_COUNT", u64: &c.ShuffleRoundCount},
		{key: "MIN_GENESIS_ACTIVE_VALIDATOR_COUNT", u64: &c.MinGenesisActiveValidatorCount, nonConsensus: true},
		{key: "MIN_GENESIS_TIME", u64: &c.MinGenesisTime, nonConsensus: true},
		{key: "DEPOSIT_CONTRACT_ADDRESS", b: c.DepositContractAddress[:], nonConsensus: true},
		{key: "MIN_DEPOSIT_AMOUNT", u64: &c.MinDepositAmount},
		{key: "MAX_EFFECTIVE_BALANCE", u64: &c.MaxEffectiveBalance},
		{key: "EJECTION_BALANCE", u64: &c.EjectionBalance},
		{key: "EFFECTIVE_BALANCE_INCREMENT", u64: &c.EffectiveBalanceIncrement},
		{key: "GENESIS_SLOT", u64: &c.GenesisSlot},
		{key: "BLS_WITHDRAWAL_PREFIX", b: c.BLSWithdrawalPrefix[:]},
		{key: "SECONDS_PER_SLOT", u64: &c.SecondsPerSlot},
		{key: "MIN_ATTESTATION_INCLUSION_DELAY", u64: &c.MinAttestationInclusionDelay},
		{key: "SLOTS_PER_EPOCH", u64: &c.SlotsPerEpoch},
		{key: "MIN_SEED_LOOKAHEAD", u64: &c.MinSeedLookahead},
		{key: "ACTIVATION_EXIT_DELAY", u64: &c.ActivationExitDelay},
		{key: "SLOTS_PER_ETH1_VOTING_PERIOD", u64: &c.SlotsPerEth1VotingPeriod},
		{key: "SLOTS_PER_HISTORICAL_ROOT", u64: &c.SlotsPerHistoricalRoot},
		{key: "MIN_VALIDATOR_WITHDRAWABILITY_DELAY", u64: &c.MinValidatorWithdrawabilityDelay},
		{key: "PERSISTENT_COMMITTEE_PERIOD", u64: &c.PersistentCommitteePeriod},
		{key: "MAX_EPOCHS_PER_CROSSLINK", u64: &c.MaxEpochsPerCrosslink},
		{key: "MIN_EPOCHS_TO_INACTIVITY_PENALTY", u64: &c.MinEpochsToInactivityPenalty},
		{key: "EARLY_DERIVED_SECRET_PENALTY_MAX_FUTURE_EPOCHS", u64: &c.EarlyDerivedSecretPenaltyMaxFutureEpochs, nonConsensus: true},
		{key: "EPOCHS_PER_HISTORICAL_VECTOR", u64: &c.EpochsPerHistoricalVector},
		{key: "EPOCHS_PER_SLASHINGS_VECTOR", u64: &c.EpochsPerSlashingsVector},
		{key: "HISTORICAL_ROOTS_LIMIT", u64: &c.HistoricalRootsLimit},
		{key: "VALIDATOR_REGISTRY_LIMIT", u64: &c.ValidatorRegistryLimit},
		{key: "BASE_REWARD_FACTOR", u64: &c.BaseRewardFactor},
		{key: "WHISTLEBLOWER_REWARD_QUOTIENT", u64: &c.WhistleblowerRewardQuotient},
		{key: "PROPOSER_REWARD_QUOTIENT", u64: &c.ProposerRewardQuotient},
		{key: "INACTIVITY_PENALTY_QUOTIENT", u64: &c.InactivityPenaltyQuotient},
		{key: "MIN_SLASHING_PENALTY_QUOTIENT", u64: &c.MinSlashingPenaltyQuotient},
		{key: "MAX_PROPOSER_SLASHINGS", u64: &c.MaxProposerSlashings},
		{key: "MAX_ATTESTER_SLASHINGS", u64: &c.MaxAttesterSlashings},
		{key: "MAX_ATTESTATIONS", u64: &c.MaxAttestations},
		{key: "MAX_DEPOSITS", u64: &c.MaxDeposits},
		{key: "MAX_VOLUNTARY_EXITS", u64: &c.MaxVoluntaryExits},
		{key: "MAX_TRANSFERS", u64: &c.MaxTransfers},
		{key: "DOMAIN_BEACON_PROPOSER", b: c.DomainBeaconProposer[:]},
		{key: "DOMAIN_RANDAO", b: c.DomainRandao[:]},
		{key: "DOMAIN_ATTESTATION", b: c.DomainAttestation[:]},
		{key: "DOMAIN_DEPOSIT", b: c.DomainDeposit[:]},
		{key: "DOMAIN_VOLUNTARY_EXIT", b: c.DomainVoluntaryExit[:]},
		{key: "DOMAIN_TRANSFER", b: c.DomainTransfer[:]},
		{key: "DOMAIN_CUSTODY_BIT_CHALLENGE", b: c.DomainCustodyBitChallenge[:], nonConsensus: true},
		{key: "DOMAIN_SHARD_PROPOSER", b: c.DomainShardProposer[:]},
		{key: "DOMAIN_SHARD_ATTESTER", b: c.DomainShardAttester[:], nonConsensus: true},
		// shardlab phase 1 keys.
		{key: "SHARD_FORK_VERSION", b: c.Shard.ForkVersion[:]},
		{key: "SHARD_FORK_EPOCH", u64: &c.Shard.ForkEpoch},
		{key: "SHARD_CHALLENGE_WINDOW", u64: &c.Shard.ChallengeWindow},
		{key: "SHARD_COMMITTEE_PERIOD", u64: &c.Shard.CommitteePeriod},
		{key: "SHARD_ACCOUNTS", u64: &c.Shard.Accounts},
		{key: "SHARD_GENESIS_BALANCE", u64: &c.Shard.GenesisBalance},
		{key: "DOMAIN_SHARD_TRANSACTION", b: c.Shard.DomainTransaction[:]},
		{key: "DOMAIN_SHARD_FRAUD_PROOF", b: c.Shard.DomainFraudProof[:]},
	}
}

// Parse reads a consensus-specs v0.8.3 style YAML config: a flat mapping of
// spec constant names to integers or 0x-prefixed hex bytes, with the same keys
// as configs/{minimal,mainnet}.yaml. The optional key PRESET_BASE (minimal or
// mainnet, default minimal) selects the preset whose values fill the keys the
// file leaves out; the optional CONFIG_NAME names the result. Unknown keys,
// malformed values and a config that fails Validate are errors.
func Parse(data []byte) (*Config, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: parse yaml: %w", ErrInvalidConfig, err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%w: config must be a YAML mapping of KEY: value", ErrInvalidConfig)
	}
	m := doc.Content[0]
	values := make(map[string]*yaml.Node, len(m.Content)/2)
	var order []string
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Kind != yaml.ScalarNode || v.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("%w: line %d: expected KEY: scalar", ErrInvalidConfig, k.Line)
		}
		if _, dup := values[k.Value]; dup {
			return nil, fmt.Errorf("%w: line %d: duplicate key %s", ErrInvalidConfig, k.Line, k.Value)
		}
		values[k.Value] = v
		order = append(order, k.Value)
	}
	c := Minimal()
	if v, ok := values["PRESET_BASE"]; ok {
		base, err := Preset(strings.Trim(v.Value, `'"`))
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", v.Line, err)
		}
		c = base
		delete(values, "PRESET_BASE")
	}
	if v, ok := values["CONFIG_NAME"]; ok {
		c.Name = v.Value
		delete(values, "CONFIG_NAME")
	} else {
		c.Name = "custom"
	}
	byKey := make(map[string]field)
	for _, f := range c.fields() {
		byKey[f.key] = f
	}
	for _, key := range order {
		v, ok := values[key]
		if !ok {
			continue
		}
		f, known := byKey[key]
		if !known {
			return nil, fmt.Errorf("%w: line %d: unknown key %s", ErrInvalidConfig, v.Line, key)
		}
		if err := f.set(v.Value); err != nil {
			return nil, fmt.Errorf("%w: line %d: %s: %w", ErrInvalidConfig, v.Line, key, err)
		}
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// value formats f's value as config.yaml spells it.
func (f field) value() string {
	if f.u64 != nil {
		return strconv.FormatUint(*f.u64, 10)
	}
	return "0x" + hex.EncodeToString(f.b)
}

func (f field) set(s string) error {
	if f.u64 != nil {
		v, err := strconv.ParseUint(s, 0, 64)
		if err != nil {
			return fmt.Errorf("want an unsigned 64-bit integer, got %q", s)
		}
		*f.u64 = v
		return nil
	}
	h, ok := strings.CutPrefix(s, "0x")
	if !ok {
		return fmt.Errorf("want 0x-prefixed hex bytes, got %q", s)
	}
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != len(f.b) {
		return fmt.Errorf("want %d bytes of hex, got %q", len(f.b), s)
	}
	copy(f.b, b)
	return nil
}

// MarshalYAML renders c in the consensus-specs format that Parse reads back.
func (c *Config) MarshalYAML() []byte {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# shardlab config (consensus-specs v0.8.3 keys)\nCONFIG_NAME: %s\n", c.Name)
	for _, f := range c.fields() {
		fmt.Fprintf(&buf, "%s: %s\n", f.key, f.value())
	}
	return buf.Bytes()
}
