package statesim

import (
	"errors"
	"testing"
	"time"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/types"
	shardcore "github.com/shardlab/shardlab/shard/core"
)

// newTestShardNode opens the shard node of a small shard run's genesis.
func newTestShardNode(t *testing.T) *shardNode {
	t.Helper()
	cfg := shardConfig(1, 1)
	cfg.Chain = cfg.ChainConfig()
	r := &run{cfg: cfg, tr: core.New(cfg.Chain)}
	genesis, err := r.genesis()
	if err != nil {
		t.Fatal(err)
	}
	fv, err := shardcore.NewFraudVerifier(genesis)
	if err != nil {
		t.Fatal(err)
	}
	r.tr.WithShardFork(fv)
	n, err := newShardNode(r.tr, genesis, r.keys, cfg.Seed)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.close)
	return n
}

// TestShardNodeEnv: the node serves every shard from its genesis; its
// timers fire at the first slot start at or after their time unless
// stopped; a request fails with errNoPeers at the next slot start, never
// inside the call.
func TestShardNodeEnv(t *testing.T) {
	t.Parallel()
	n := newTestShardNode(t)
	if got, want := len(n.chains), int(n.beacon.Config().ShardCount); got != want || len(n.h.Shards()) != want {
		t.Fatalf("%d chains, handler serves %d shards, want %d", got, len(n.h.Shards()), want)
	}
	for i, c := range n.chains {
		if c.Shard() != types.Shard(i) || c.Head().Header.Slot != 0 {
			t.Fatalf("chain %d: shard %d, head at slot %d", i, c.Shard(), c.Head().Header.Slot)
		}
	}
	env := nodeEnv{n}
	slot := time.Duration(n.slotSeconds) * time.Second
	var fired []string
	env.AfterFunc(slot/2, func() { fired = append(fired, "half") })
	stopped := env.AfterFunc(slot/2, func() { fired = append(fired, "stopped") })
	env.AfterFunc(2*slot, func() { fired = append(fired, "two") })
	var reqErr error
	env.Request("peer", "protocol", nil, 1, func(_ [][]byte, err error) { reqErr = err })
	if reqErr != nil || len(fired) != 0 {
		t.Fatalf("ran inside the call: request error %v, timers %v", reqErr, fired)
	}
	if !stopped.Stop() || stopped.Stop() {
		t.Fatal("Stop of a pending timer must report true once")
	}
	n.startSlot(1)
	if !errors.Is(reqErr, errNoPeers) {
		t.Fatalf("request error %v, want errNoPeers", reqErr)
	}
	if len(fired) != 1 || fired[0] != "half" {
		t.Fatalf("fired %v at slot 1, want [half]", fired)
	}
	if got := env.Now(); got != time.Unix(int64(n.genesisTime), 0).Add(slot) {
		t.Fatalf("now %v at slot 1", got)
	}
	n.startSlot(2)
	if len(fired) != 2 || fired[1] != "two" {
		t.Fatalf("fired %v at slot 2, want [half two]", fired)
	}
}
