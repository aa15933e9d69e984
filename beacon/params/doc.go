// Package params holds the chain configuration: the v0.8.3 presets (minimal,
// mainnet) as runtime values, custom configs loaded from consensus-specs style
// YAML files, and their validation.
//
// There is no package-level active config: a *Config is built once, validated,
// and passed explicitly. This package imports nothing from shardlab.
package params
