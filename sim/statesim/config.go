package statesim

import (
	"errors"
	"fmt"
	"math"

	"github.com/shardlab/shardlab/beacon/params"
)

// Config describes a simulation run.
type Config struct {
	// Chain is the chain configuration (a preset or a custom config).
	Chain *params.Config
	// Validators is the number of interop validators at genesis; it must be
	// at least the chain's MIN_GENESIS_ACTIVE_VALIDATOR_COUNT.
	Validators uint64
	// Epochs is the number of epochs to run: blocks at slots 1 to
	// Epochs*SLOTS_PER_EPOCH - 1, one report per epoch.
	Epochs uint64
	// Participation is the probability, in (0, 1], that a committee member
	// attests at its slot.
	Participation float64
	// Seed seeds the participation draws and the shard workload.
	Seed uint64
	// GenesisTime is the requested genesis time (see
	// validator.InteropGenesis for how it maps to genesis_time); zero means
	// the chain's MIN_GENESIS_TIME.
	GenesisTime uint64
	// SkipDepositSignatures builds genesis without deposit signatures (see
	// validator.SkipDepositSignatures): much faster for large registries.
	SkipDepositSignatures bool
	// OutDir, if set, is where the run is written as a sanity/blocks test
	// case (see ReadCase; shard runs add their shard chains). It must not
	// exist or be empty.
	OutDir string

	// Shards, when non-zero, runs the shard layer: the chain gets
	// SHARD_COUNT = Shards and the shard fork from genesis (see
	// ChainConfig; Chain itself is not modified), every shard has a block
	// at every slot, and attesters vote crosslink data roots. Zero runs a
	// phase 0 chain, for which Chain must not enable the shard fork.
	Shards uint64
	// TxRate is the workload of a shard run in transactions per second of
	// simulated time: TxRate * SECONDS_PER_SLOT per slot (the fractional
	// part carried over), each on a shard drawn uniformly at random.
	TxRate float64
	// CrossShard is the probability, in [0, 1], that a transaction sends to
	// another shard (drawn uniformly among the others) instead of within
	// its own.
	CrossShard float64
	// FraudAt, if non-zero, is the slot at which a shard proposer publishes
	// a block with a wrong state root, and its shard's next crosslink
	// committee crosslinks it (see FraudReport). Shard runs only.
	FraudAt uint64
}

// DefaultConfig is 64 validators of the minimal preset, 8 epochs, full
// participation, seed 1.
func DefaultConfig() Config {
	return Config{
		Chain:         params.Minimal(),
		Validators:    64,
		Epochs:        8,
		Participation: 1,
		Seed:          1,
	}
}

// Validate reports every problem of c, each wrapping ErrInvalidConfig.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...))
	}
	if c.Chain == nil {
		bad("no chain config")
	} else {
		if err := c.Chain.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("%w: %w", ErrInvalidConfig, err))
		}
		if c.Chain.SlotsPerEpoch == 1 {
			// process_justification_and_finalization calls get_block_root
			// of the current epoch at its only slot, which the spec rejects.
			bad("SLOTS_PER_EPOCH 1 cannot run: epoch processing needs the block root of the epoch's first slot before it ends")
		}
		if c.Validators < c.Chain.MinGenesisActiveValidatorCount {
			bad("%d validators is below MIN_GENESIS_ACTIVE_VALIDATOR_COUNT of the %s config: at least %d are needed",
				c.Validators, c.Chain.Name, c.Chain.MinGenesisActiveValidatorCount)
		}
		if c.GenesisTime != 0 && c.GenesisTime-c.GenesisTime%params.SecondsPerDay < c.Chain.MinGenesisTime {
			bad("genesis time %d is below MIN_GENESIS_TIME %d", c.GenesisTime, c.Chain.MinGenesisTime)
		}
	}
	if math.IsNaN(c.Participation) || c.Participation <= 0 || c.Participation > 1 {
		bad("participation %v is outside (0, 1]", c.Participation)
	}
	if c.Epochs == 0 {
		bad("at least one epoch must be run")
	}
	if c.Chain != nil && c.Chain.SlotsPerEpoch != 0 && c.Epochs > math.MaxInt64/c.Chain.SlotsPerEpoch {
		bad("%d epochs is too many", c.Epochs)
	}
	errs = append(errs, c.validateShards()...)
	return errors.Join(errs...)
}

// ChainConfig returns the chain config the run uses: Chain itself for a
// phase 0 run, else a copy with SHARD_COUNT = Shards and the shard fork at
// genesis.
func (c *Config) ChainConfig() *params.Config {
	if c.Shards == 0 || c.Chain == nil {
		return c.Chain
	}
	cp := c.Chain.Copy()
	cp.ShardCount = c.Shards
	return cp.WithShards()
}

// validateShards checks the shard-layer settings.
func (c *Config) validateShards() []error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...))
	}
	if c.Shards == 0 {
		if c.TxRate != 0 || c.CrossShard != 0 || c.FraudAt != 0 {
			bad("a transaction rate, cross-shard fraction or fraud slot needs the shard layer (Shards > 0)")
		}
		if c.Chain != nil && c.Chain.Shard.Enabled() {
			bad("the %s config enables the shard fork (SHARD_FORK_EPOCH %d): a phase 0 run needs it off; set Shards to run the shard layer",
				c.Chain.Name, c.Chain.Shard.ForkEpoch)
		}
		return errs
	}
	if c.Chain == nil {
		return errs
	}
	spe := c.Chain.SlotsPerEpoch
	switch {
	case c.Shards < spe:
		bad("%d shards is below SLOTS_PER_EPOCH (%d) of the %s config: at least %d are needed", c.Shards, spe, c.Chain.Name, spe)
	case c.Shards > params.MaxShards:
		bad("%d shards is above the shard fork's limit of %d", c.Shards, params.MaxShards)
	default:
		if err := c.ChainConfig().Validate(); err != nil {
			errs = append(errs, fmt.Errorf("%w: with %d shards: %w", ErrInvalidConfig, c.Shards, err))
		}
	}
	if c.Validators < c.Shards {
		bad("%d validators for %d shards: every shard committee needs a member, so at least %d validators are needed",
			c.Validators, c.Shards, c.Shards)
	}
	if math.IsNaN(c.TxRate) || math.IsInf(c.TxRate, 0) || c.TxRate < 0 {
		bad("transaction rate %v must be a finite number >= 0", c.TxRate)
	} else if perSlot := c.TxRate * float64(c.Chain.SecondsPerSlot); perSlot > float64(c.Shards*params.MaxShardTransactions) {
		bad("transaction rate %v (%.0f per slot) exceeds the capacity of %d shards of %d transactions per block",
			c.TxRate, perSlot, c.Shards, params.MaxShardTransactions)
	}
	if math.IsNaN(c.CrossShard) || c.CrossShard < 0 || c.CrossShard > 1 {
		bad("cross-shard fraction %v is outside [0, 1]", c.CrossShard)
	}
	if c.FraudAt != 0 && spe != 0 && c.Epochs <= math.MaxInt64/spe && c.FraudAt >= c.Epochs*spe {
		bad("fraud slot %d is not before the run's end (slot %d)", c.FraudAt, c.Epochs*spe-1)
	}
	return errs
}
