package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/shardlab/shardlab/beacon/params"
)

// loadConfigFile reads a consensus-specs style YAML config (params.Parse).
func loadConfigFile(path string) (*params.Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	cfg, err := params.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("load config %s: %w", path, err)
	}
	return cfg, nil
}

// nameConfigFile adds the genesis directory's config file to a data dir's
// consensus config mismatch, which names only the database.
func nameConfigFile(err error, genesisDir string) error {
	if errors.Is(err, params.ErrConsensusMismatch) {
		return fmt.Errorf("%w (the config is %s)", err, filepath.Join(genesisDir, genesisConfigFile))
	}
	return err
}
