package node

import (
	"encoding/hex"
	"fmt"

	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p"
)

// NetworkName is the p2p network name of the chain that starts from
// genesis: "shardlab-" and the first four bytes of the genesis state's
// hash_tree_root in hex. Every gossip topic carries it, so nodes started
// from different genesis states (two local testnets, say) never share
// topics. It plays the part of a fork digest, which v0.8.3's networking
// had not defined yet. A node whose P2P.NetworkName is empty uses it.
func NetworkName(genesis *types.BeaconState) (string, error) {
	if genesis == nil {
		return "", fmt.Errorf("%w: no genesis state", ErrInvalidConfig)
	}
	root, err := genesis.HashTreeRoot()
	if err != nil {
		return "", fmt.Errorf("network name: %w", err)
	}
	return "shardlab-" + hex.EncodeToString(root[:4]), nil
}

// ResolveP2P returns pc with an empty NetworkName set from genesis
// (NetworkName).
func ResolveP2P(pc p2p.Config, genesis *types.BeaconState) (p2p.Config, error) {
	if pc.NetworkName != "" {
		return pc, nil
	}
	name, err := NetworkName(genesis)
	if err != nil {
		return pc, err
	}
	pc.NetworkName = name
	return pc, nil
}

// ValidateP2P checks a p2p configuration whose NetworkName may still be
// empty (to be derived from the genesis state).
func ValidateP2P(pc p2p.Config) error {
	if pc.NetworkName == "" {
		pc.NetworkName = "shardlab-00000000"
	}
	return pc.Validate()
}
