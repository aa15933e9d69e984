package testnet

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
)

// Attach returns a Testnet that watches nodes it did not start, such as the
// containers of a deployment rendered by sim/deploy: specs name them and
// give their HTTP ports on 127.0.0.1 (NodeSpec.URL), genesisDir is a copy
// of the genesis they run. Run then polls them, drives the workload and
// summarizes like for the processes of Start (the summary goes to
// cfg.Dir); Stop, Kill and Restart leave them alone, since their engine
// owns them. cfg.Binary is not used.
func Attach(cfg Config, genesisDir string, specs []NodeSpec, logger *slog.Logger) (*Testnet, error) {
	if cfg.Binary == "" {
		cfg.Binary = "(attached)"
	}
	if len(specs) == 0 {
		return nil, fmt.Errorf("%w: attach: no nodes", ErrInvalidConfig)
	}
	t, err := New(cfg, logger)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(t.cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("attach: %w", err)
	}
	if t.chain, t.genesis, err = loadGenesis(genesisDir); err != nil {
		return nil, fmt.Errorf("attach: %w", err)
	}
	for _, s := range specs {
		if s.HTTPPort <= 0 {
			return nil, fmt.Errorf("%w: attach %s: no HTTP port", ErrInvalidConfig, s.Name)
		}
		if s.Dir == "" {
			s.Dir = filepath.Join(t.cfg.Dir, s.Name)
		}
		t.procs = append(t.procs, &Process{Spec: s, external: true})
	}
	t.next = len(specs)
	return t, nil
}
