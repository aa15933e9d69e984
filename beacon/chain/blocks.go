package chain

import (
	"errors"
	"fmt"

	"github.com/shardlab/shardlab/beacon/store"
	"github.com/shardlab/shardlab/beacon/store/kv"
	"github.com/shardlab/shardlab/beacon/types"
)

// Block persistence.
//
// beacon/store stores phase 0 BeaconBlocks only (Tx.SaveBlock, Store.Block).
// Until it handles both kinds, ShardBeaconBlocks are kept beside it, in the
// store's database under the prefix extraPrefix ("chain/"), which the store's
// key schema does not use:
//
//	chain/blk/<root>    ShardBeaconBlock (SSZ); root = signing_root(block)
//
// A shard-fork block is written (durably) just before the store update that
// indexes it, so a crash in between leaves an unindexed block, which is
// harmless: restore replays the canonical index only.
var (
	extraPrefix    = []byte("chain/")
	extraBlockPref = []byte("blk/")
)

func extraBlockKey(root types.Root) []byte {
	return append(append([]byte(nil), extraBlockPref...), root[:]...)
}

// saveExtraBlock stores a ShardBeaconBlock outside the store's schema; other
// kinds are saved in the store's transaction (saveBlockTx).
func (s *Service) saveExtraBlock(root types.Root, b types.AnyBlock) error {
	sb, ok := b.(*types.ShardBeaconBlock)
	if !ok {
		return nil
	}
	buf, err := sb.MarshalSSZ()
	if err != nil {
		return fmt.Errorf("encode block %s: %w", root, err)
	}
	if err := s.extra.Put(extraBlockKey(root), buf); err != nil {
		return fmt.Errorf("save block %s: %w", root, err)
	}
	return nil
}

// saveBlockTx adds a phase 0 block to tx.
func saveBlockTx(tx *store.Tx, b types.AnyBlock) error {
	if pb, ok := b.(*types.BeaconBlock); ok {
		if _, err := tx.SaveBlock(pb); err != nil {
			return err
		}
	}
	return nil
}

// loadBlock reads a block from the store or the extra keyspace.
func (s *Service) loadBlock(root types.Root) (types.AnyBlock, error) {
	b, err := s.store.Block(root)
	if err == nil {
		return b, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	buf, err := s.extra.Get(extraBlockKey(root))
	if err != nil {
		if errors.Is(err, kv.ErrNotFound) {
			return nil, fmt.Errorf("read block %s: %w", root, store.ErrNotFound)
		}
		return nil, fmt.Errorf("read block %s: %w", root, err)
	}
	sb := new(types.ShardBeaconBlock)
	if err := types.Decode(sb, buf); err != nil {
		return nil, fmt.Errorf("read block %s: %w: %w", root, store.ErrCorrupt, err)
	}
	return sb, nil
}
