package scenario

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/shardlab/shardlab/sim/netsim"
	"github.com/shardlab/shardlab/sim/statesim"
)

// export writes node opt.OutNode's canonical chain as a sanity/blocks test
// case in opt.Out (nothing without Out): the genesis state, every block
// from genesis to the head, and the head's post-state, so any v0.8.3
// implementation can replay the run, slashings, exits and penalties
// included. A scenario with network.config overrides also gets
// config.yaml: its case replays only under that config.
func export(s *netsim.Sim, sc *Scenario, opt Options) error {
	if opt.Out == "" {
		return nil
	}
	blocks, err := s.CanonicalChain(opt.OutNode)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	post, err := s.HeadState(opt.OutNode)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := statesim.WriteBlocksCase(opt.Out, s.GenesisState(), blocks, post); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if len(sc.Network.Config) > 0 {
		if err := os.WriteFile(filepath.Join(opt.Out, "config.yaml"), s.ChainConfig().MarshalYAML(), 0o644); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	return nil
}
