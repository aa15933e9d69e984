package params

import "fmt"

// ShardConfig is shardlab's phase 1 configuration: the shard-chain fork of
// phase 0 described in docs/protocol.md. With ForkEpoch == FarFutureEpoch the
// chain is pure v0.8.3 phase 0.
type ShardConfig struct {
	// ForkVersion is the fork version the beacon state switches to at ForkEpoch.
	ForkVersion [4]byte
	// ForkEpoch is the epoch at which the shard fork activates (0: from genesis).
	ForkEpoch uint64
}

// DefaultShardConfig leaves the shard fork off: a plain v0.8.3 phase 0 chain.
func DefaultShardConfig() ShardConfig {
	return ShardConfig{
		ForkVersion: [4]byte{1, 0, 0, 0},
		ForkEpoch:   FarFutureEpoch,
	}
}

// Enabled reports whether the shard fork ever activates.
func (s ShardConfig) Enabled() bool { return s.ForkEpoch != FarFutureEpoch }

func (s ShardConfig) validate(c *Config) error {
	if s.Enabled() && s.ForkVersion == [4]byte{} {
		return fmt.Errorf("SHARD_FORK_VERSION must differ from the phase 0 version 0x00000000")
	}
	return nil
}
