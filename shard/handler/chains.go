package handler

import (
	"fmt"

	bchain "github.com/shardlab/shardlab/beacon/chain"
	"github.com/shardlab/shardlab/beacon/store/kv"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/shard/chain"
	shardcore "github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// Verifier returns the fraud-proof verifier of beacon's genesis (its
// genesis block's state root binds transaction signatures).
func Verifier(beacon *bchain.Service) (shardcore.FraudVerifier, error) {
	gb, ok := beacon.Block(beacon.GenesisRoot())
	if !ok {
		return shardcore.FraudVerifier{}, fmt.Errorf("open shard chains: the beacon chain has no genesis block %s", beacon.GenesisRoot())
	}
	return shardcore.FraudVerifier{GenesisRoot: gb.GetStateRoot()}, nil
}

// OpenChain opens shard's chain service on db, following beacon, with the
// pool bounds and caches of cc, the transaction domain of v and genesis
// (nil: the interop genesis of the shard).
func OpenChain(cc chain.Config, beacon *bchain.Service, db kv.DB, v shardcore.FraudVerifier, shard bt.Shard, genesis *st.ShardState) (*chain.Service, error) {
	pcfg := beacon.Config()
	if genesis == nil {
		var err error
		if genesis, err = st.GenesisState(pcfg, shard, shardcore.AccountPubkeys(pcfg, shard)); err != nil {
			return nil, fmt.Errorf("open shard %d: %w", shard, err)
		}
	}
	cc.Transition, cc.Shard, cc.Genesis, cc.DB, cc.Beacon = beacon.Transition(), shard, genesis, db, beacon
	cc.TxDomain = v.TxDomain(pcfg)
	c, err := chain.New(cc)
	if err != nil {
		return nil, fmt.Errorf("open shard %d: %w", shard, err)
	}
	return c, nil
}
