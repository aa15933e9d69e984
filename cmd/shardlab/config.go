package main

import (
	"fmt"
	"os"

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
