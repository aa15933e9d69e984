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
	// Seed seeds the participation draws.
	Seed uint64
	// GenesisTime is the requested genesis time (see
	// validator.InteropGenesis for how it maps to genesis_time); zero means
	// the chain's MIN_GENESIS_TIME.
	GenesisTime uint64
	// SkipDepositSignatures builds genesis without deposit signatures (see
	// validator.SkipDepositSignatures): much faster for large registries.
	SkipDepositSignatures bool
	// OutDir, if set, is where the run is written as a sanity/blocks test
	// case (see WriteCase). It must not exist or be empty.
	OutDir string
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
	return errors.Join(errs...)
}
