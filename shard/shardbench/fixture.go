package shardbench

import (
	"crypto/ed25519"
	"fmt"
	"math/rand/v2"

	bcore "github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
	"github.com/shardlab/shardlab/crypto/bls"
	"github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// Chain is a beacon chain with the shard fork from genesis, as the shard
// tests build it, and the genesis states of the shards the benchmarks use.
// Shard states are hashed once, so their account trees are built, as a
// running node's are.
type Chain struct {
	Cfg          *params.Config
	Tr           *bcore.Transition
	Keys         *validator.Keys
	Beacon       *bt.BeaconState      // the genesis beacon state: post-state of the genesis block
	BeaconHeader bt.BeaconBlockHeader // the genesis block's header, state root filled in
	BeaconRoot   bt.Root              // its signing root
	// Verifier is the fraud-proof verifier of the genesis (Tr carries it);
	// its transaction domain signs and checks the transfers.
	Verifier core.FraudVerifier

	shards  map[bt.Shard]*st.ShardState
	headers map[bt.Shard]st.ShardBlockHeader
}

// NewChain builds the interop genesis of validators validators for cfg
// (nil: params.Minimal().WithShards()) with SHARD_ACCOUNTS = accounts.
func NewChain(cfg *params.Config, validators, accounts uint64) (*Chain, error) {
	if cfg == nil {
		cfg = params.Minimal().WithShards()
	} else {
		cfg = cfg.Copy()
	}
	if !cfg.Shard.Enabled() {
		cfg = cfg.WithShards()
	}
	cfg.Shard.Accounts = accounts
	if validators < cfg.MinGenesisActiveValidatorCount {
		cfg.MinGenesisActiveValidatorCount = validators
	}
	if cfg.ShardCount < 2 {
		return nil, fmt.Errorf("shard benchmarks: SHARD_COUNT %d: cross-shard sends need 2 shards", cfg.ShardCount)
	}
	keys, err := validator.NewInteropKeys(0, validators)
	if err != nil {
		return nil, err
	}
	g, err := validator.InteropGenesis(bcore.New(cfg), validators, cfg.MinGenesisTime, validator.WithKeys(keys))
	if err != nil {
		return nil, err
	}
	fv, err := core.NewFraudVerifier(g)
	if err != nil {
		return nil, err
	}
	tr := bcore.New(cfg).WithShardFork(fv)
	if err := validator.WarmPubkeys(tr, g, 1); err != nil {
		return nil, err
	}
	hdr := g.LatestBlockHeader
	hdr.StateRoot = fv.GenesisRoot
	return &Chain{Cfg: cfg, Tr: tr, Keys: keys, Beacon: g, BeaconHeader: hdr, BeaconRoot: hdr.SigningRoot(), Verifier: fv,
		shards: map[bt.Shard]*st.ShardState{}, headers: map[bt.Shard]st.ShardBlockHeader{}}, nil
}

// Opts are the execution options of the chain: signatures checked against
// its transaction domain, or skipped.
func (c *Chain) Opts(skipTxSignatures bool) core.ExecOptions {
	return core.ExecOptions{TxDomain: c.Verifier.TxDomain(c.Cfg), SkipTxSignatures: skipTxSignatures}
}

// Shard returns the genesis state of shard (hashed; do not modify it) and
// its genesis header.
func (c *Chain) Shard(shard bt.Shard) (*st.ShardState, *st.ShardBlockHeader, error) {
	if s, ok := c.shards[shard]; ok {
		h := c.headers[shard]
		return s, &h, nil
	}
	s, err := st.GenesisState(c.Cfg, shard, core.AccountPubkeys(c.Cfg, shard))
	if err != nil {
		return nil, nil, err
	}
	h, err := core.GenesisHeader(s) // hashes s: builds its account tree
	if err != nil {
		return nil, nil, err
	}
	c.shards[shard], c.headers[shard] = s, h
	return s, &h, nil
}

// Context is the block context of a block on shard's genesis referencing the
// genesis beacon block.
func (c *Chain) Context(shard bt.Shard) (core.BlockContext, error) {
	_, h, err := c.Shard(shard)
	if err != nil {
		return core.BlockContext{}, err
	}
	return core.BlockContext{Parent: h, BeaconRoot: c.BeaconRoot, Beacon: c.Beacon}, nil
}

// ProposerKey returns the secret key of the proposer of shard at slot.
func (c *Chain) ProposerKey(shard bt.Shard, slot bt.Slot) (*bls.SecretKey, error) {
	p, err := core.ShardProposerIndex(c.Tr, c.Beacon, shard, slot)
	if err != nil {
		return nil, err
	}
	sk, ok := c.Keys.SecretKey(uint64(p))
	if !ok {
		return nil, fmt.Errorf("no key for shard proposer %d", p)
	}
	return sk, nil
}

// Transfers is a generator of signed transfers on one shard: senders and
// recipients drawn uniformly from the shard's accounts, nonces tracked.
type Transfers struct {
	cfg    *params.Config
	domain core.TxDomain
	shard  bt.Shard
	pre    *st.ShardState
	rng    *rand.Rand
	nonces map[uint64]uint64
	keys   map[uint64]ed25519.PrivateKey
}

// NewTransfers generates transfers applicable to pre, signed for c's chain,
// deterministically from seed.
func (c *Chain) NewTransfers(pre *st.ShardState, seed uint64) *Transfers {
	return &Transfers{cfg: c.Cfg, domain: c.Verifier.TxDomain(c.Cfg), shard: pre.Shard, pre: pre, rng: rand.New(rand.NewPCG(seed, 0x5ead_be4c)),
		nonces: map[uint64]uint64{}, keys: map[uint64]ed25519.PrivateKey{}}
}

// Next returns a signed transfer of a random amount from a random sender
// (From, if from >= 0) to a random other account, of shard toShard.
func (g *Transfers) Next(from int64, toShard bt.Shard) *st.Transaction {
	n := uint64(len(g.pre.Accounts))
	f := uint64(from)
	if from < 0 {
		f = g.rng.Uint64N(n)
	}
	var to uint64
	if toShard == g.shard {
		to = g.rng.Uint64N(n - 1)
		if to >= f {
			to++ // never to itself
		}
	} else {
		to = g.rng.Uint64N(n)
	}
	nonce, ok := g.nonces[f]
	if !ok {
		nonce = g.pre.Accounts[f].Nonce
	}
	g.nonces[f] = nonce + 1
	tx := &st.Transaction{Shard: g.shard, From: f, Nonce: nonce, ToShard: toShard, To: to, Amount: bt.Gwei(1 + g.rng.Uint64N(1_000_000))}
	key, ok := g.keys[f]
	if !ok {
		key = core.AccountKey(g.shard, f)
		g.keys[f] = key
	}
	core.SignTx(g.domain, tx, key)
	return tx
}

// Mixed returns n transfers from random senders, crossPercent of them
// cross-shard sends to a random other shard (in a deterministic pattern).
func (g *Transfers) Mixed(n, crossPercent int) []*st.Transaction {
	out := make([]*st.Transaction, n)
	for i := range out {
		to := g.shard
		// Spread the cross-shard sends evenly: i*p/100 steps at each one.
		if (i+1)*crossPercent/100 != i*crossPercent/100 {
			to = bt.Shard(g.rng.Uint64N(g.cfg.ShardCount - 1))
			if to >= g.shard {
				to++
			}
		}
		out[i] = g.Next(-1, to)
	}
	return out
}

// buildBlock builds and signs the block of txs at slot 1 on shard's genesis;
// every transfer must be valid.
func (c *Chain) buildBlock(shard bt.Shard, txs []*st.Transaction) (*core.Built, error) {
	pre, _, err := c.Shard(shard)
	if err != nil {
		return nil, err
	}
	ctx, err := c.Context(shard)
	if err != nil {
		return nil, err
	}
	sk, err := c.ProposerKey(shard, 1)
	if err != nil {
		return nil, err
	}
	built, err := core.BuildBlock(c.Tr, ctx, pre, 1, txs, nil, sk, c.Opts(false))
	if err != nil {
		return nil, err
	}
	if len(built.Skipped) > 0 {
		return nil, fmt.Errorf("shard benchmark block: %d of %d transfers left out, first: %v", len(built.Skipped), len(txs), built.Skipped[0])
	}
	return built, nil
}
