package params

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// ErrConsensusMismatch is wrapped by CheckConsensus when a recorded consensus
// config differs from the one in use.
var ErrConsensusMismatch = errors.New("consensus config mismatch")

// ConsensusRecord maps each consensus parameter's config.yaml key to its
// value as config.yaml spells it (decimal integers, 0x-prefixed hex bytes).
//
// A consensus parameter is any key that can change the result of a state
// transition or of the clock that feeds it once the genesis state exists:
// every preset value, SECONDS_PER_SLOT (which slot a time is in), the
// signature domains that are checked, and all shard fork settings
// (SHARD_ACCOUNTS and SHARD_GENESIS_BALANCE build the shard genesis states).
// Left out, because editing them after genesis changes nothing:
// MIN_GENESIS_TIME and MIN_GENESIS_ACTIVE_VALIDATOR_COUNT (only
// `shardlab genesis` reads them; the genesis state itself is checked by its
// root), DEPOSIT_CONTRACT_ADDRESS, EARLY_DERIVED_SECRET_PENALTY_MAX_FUTURE_EPOCHS,
// DOMAIN_CUSTODY_BIT_CHALLENGE and DOMAIN_SHARD_ATTESTER (read by no code),
// and CONFIG_NAME. The genesis time is part of the genesis state.
type ConsensusRecord map[string]string

// Consensus returns c's consensus parameters.
func (c *Config) Consensus() ConsensusRecord {
	r := make(ConsensusRecord)
	for _, f := range c.fields() {
		if !f.nonConsensus {
			r[f.key] = f.value()
		}
	}
	return r
}

// Encode renders r as "KEY: value" lines in key order: the bytes Hash hashes
// and the stores keep.
func (r ConsensusRecord) Encode() []byte {
	var buf bytes.Buffer
	for _, k := range slices.Sorted(maps.Keys(r)) {
		fmt.Fprintf(&buf, "%s: %s\n", k, r[k])
	}
	return buf.Bytes()
}

// Hash is the SHA-256 of Encode.
func (r ConsensusRecord) Hash() [32]byte { return sha256.Sum256(r.Encode()) }

// DecodeConsensusRecord reads what Encode wrote.
func DecodeConsensusRecord(b []byte) (ConsensusRecord, error) {
	r := make(ConsensusRecord)
	for i, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		k, v, ok := strings.Cut(line, ": ")
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("decode consensus record: line %d: want KEY: value, got %q", i+1, line)
		}
		if _, dup := r[k]; dup {
			return nil, fmt.Errorf("decode consensus record: line %d: duplicate key %s", i+1, k)
		}
		r[k] = v
	}
	return r, nil
}

// CheckConsensus compares the consensus record kept in recordedIn (a file or
// a database) with cfg, loaded from cfgFrom. A difference is an error
// wrapping ErrConsensusMismatch that lists every differing key with both
// values and names both places.
func CheckConsensus(recorded ConsensusRecord, recordedIn string, cfg *Config, cfgFrom string) error {
	have := cfg.Consensus()
	keys := slices.Sorted(maps.Keys(recorded))
	for k := range have {
		if _, ok := recorded[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var diffs []string
	for _, k := range keys {
		a, aok := recorded[k]
		b, bok := have[k]
		switch {
		case !aok:
			a = "(absent)"
		case !bok:
			b = "(absent)"
		case a == b:
			continue
		}
		diffs = append(diffs, fmt.Sprintf("%s is %s in %s but %s in %s", k, a, recordedIn, b, cfgFrom))
	}
	if len(diffs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s; the chain was created with the first value: restore it in %s, or start a new chain (new genesis and data dir)",
		ErrConsensusMismatch, strings.Join(diffs, "; "), cfgFrom)
}
