package forkchoice

import (
	"testing"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
)

// TestShardForkBlocks feeds shard-fork beacon blocks (on a phase 0 genesis
// block, as every chain has) and follows their tip.
func TestShardForkBlocks(t *testing.T) {
	cfg := params.Minimal().WithShards()
	tr := core.New(cfg)
	keys, err := validator.NewInteropKeys(0, 64)
	if err != nil {
		t.Fatal(err)
	}
	g, err := validator.InteropGenesis(tr, 64, cfg.MinGenesisTime, validator.WithKeys(keys), validator.SkipDepositSignatures())
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(tr, g)
	if err != nil {
		t.Fatal(err)
	}
	st := g
	var tip types.Root
	for slot := types.Slot(1); slot <= 5; slot++ {
		b, post, err := validator.ProduceShardBeaconBlock(tr, st, slot, keys, nil, types.Root{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		s.OnTick(g.GenesisTime + uint64(slot)*cfg.SecondsPerSlot)
		if err := s.OnBlock(b, core.VerifySigs); err != nil {
			t.Fatalf("slot %d: %v", slot, err)
		}
		st = post
		tip, _ = b.SigningRoot()
	}
	head, err := s.Head()
	if err != nil || head != tip {
		t.Fatalf("head %s, want the tip %s (%v)", head, tip, err)
	}
	blk, ok := s.Block(tip)
	if _, isShard := blk.(*types.ShardBeaconBlock); !ok || !isShard {
		t.Fatalf("stored block is %T", blk)
	}
}
