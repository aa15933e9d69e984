package store

import (
	"errors"
	"testing"

	"github.com/shardlab/shardlab/beacon/store/kv"
	bt "github.com/shardlab/shardlab/beacon/types"
	st "github.com/shardlab/shardlab/shard/types"
)

func testState() *st.ShardState {
	return &st.ShardState{
		Shard: 3, Slot: 9, BeaconSlot: 8,
		Accounts:     []st.Account{{Pubkey: [32]byte{1}, Balance: 5, Nonce: 2}, {Balance: 7}},
		OutboxNonces: []uint64{0, 1, 2, 3},
		InboxNonces:  []uint64{4, 0, 0, 1},
	}
}

// TestStore writes and reads back every kind of record, on Pebble's
// in-memory file system and on the map backend, and checks that a store
// opened with another genesis refuses.
func TestStore(t *testing.T) {
	t.Parallel()
	pebbleMem, err := kv.OpenPebbleMem()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pebbleMem.Close() })
	for name, db := range map[string]kv.DB{"pebble": pebbleMem, "memory": kv.NewMemory()} {
		t.Run(name, func(t *testing.T) {
			genesis := st.ShardBlockHeader{Shard: 3, StateRoot: bt.Root{9}}
			s, fresh, err := Open(db, 3, genesis)
			if err != nil || !fresh {
				t.Fatalf("open: %v, fresh %v", err, fresh)
			}
			if _, err := s.Anchor(); !errors.Is(err, ErrNotFound) {
				t.Fatalf("anchor of a fresh store: %v", err)
			}
			blk := &st.ShardBlock{Slot: 9, Shard: 3, ParentRoot: bt.Root{1}, Body: st.ShardBlockBody{
				Transactions: []*st.Transaction{{Shard: 3, From: 1, ToShard: 2, To: 4, Amount: 5}},
			}}
			root, _ := blk.SigningRoot()
			receipts := []st.Receipt{{SrcShard: 3, DstShard: 2, SrcSlot: 9, Recipient: 4, Amount: 5}, {SrcShard: 3, DstShard: 1, Nonce: 1}}
			cl := &CrosslinkRecord{Crosslink: bt.Crosslink{Shard: 3, StartEpoch: 1, EndEpoch: 2, DataRoot: bt.Root{5}}, Resolved: true, Headers: []bt.Root{root}}
			b := s.NewBatch()
			b.PutBlock(root, blk, receipts)
			b.PutState(root, testState())
			b.SetAnchor(root)
			b.SetHead(root)
			b.SetCanonical(9, root)
			b.PutCrosslink(cl)
			b.PutInvalid(bt.Root{6})
			if err := b.Commit(); err != nil {
				t.Fatal(err)
			}
			s, fresh, err = Open(db, 3, genesis)
			if err != nil || fresh {
				t.Fatalf("reopen: %v, fresh %v", err, fresh)
			}
			gotB, gotR, err := s.Block(root)
			if err != nil || gotB.Slot != 9 || len(gotB.Body.Transactions) != 1 || len(gotR) != 2 || gotR[1].Nonce != 1 {
				t.Fatalf("block %+v receipts %+v: %v", gotB, gotR, err)
			}
			gs, err := s.State(root)
			if err != nil || gs.Accounts[0].Nonce != 2 || gs.InboxNonces[0] != 4 {
				t.Fatalf("state %+v: %v", gs, err)
			}
			if a, err := s.Anchor(); err != nil || a != root {
				t.Fatalf("anchor %s: %v", a, err)
			}
			if c, err := s.Canonical(9); err != nil || c != root {
				t.Fatalf("canonical %s: %v", c, err)
			}
			if roots, err := s.StateRoots(); err != nil || len(roots) != 1 || roots[0] != root {
				t.Fatalf("state roots %v: %v", roots, err)
			}
			if cls, err := s.Crosslinks(); err != nil || len(cls) != 1 || cls[0].Crosslink != cl.Crosslink || !cls[0].Resolved || cls[0].Headers[0] != root {
				t.Fatalf("crosslinks %+v: %v", cls, err)
			}
			if inv, err := s.Invalid(); err != nil || len(inv) != 1 || inv[0] != (bt.Root{6}) {
				t.Fatalf("invalid %v: %v", inv, err)
			}
			b = s.NewBatch()
			b.DeleteBlock(root)
			b.DeleteCanonical(9)
			if err := b.Commit(); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.Block(root); !errors.Is(err, ErrNotFound) {
				t.Fatalf("deleted block: %v", err)
			}
			if _, err := s.State(root); !errors.Is(err, ErrNotFound) {
				t.Fatalf("deleted state: %v", err)
			}
			// Another shard is another namespace; another genesis refuses.
			if _, fresh, err := Open(db, 4, st.ShardBlockHeader{Shard: 4}); err != nil || !fresh {
				t.Fatalf("other shard: %v, fresh %v", err, fresh)
			}
			if _, _, err := Open(db, 3, st.ShardBlockHeader{Shard: 3}); !errors.Is(err, ErrGenesisMismatch) {
				t.Fatalf("other genesis: %v", err)
			}
		})
	}
}

// FuzzDecodeReceipts: decoding never panics, and what decodes re-encodes
// to the input.
func FuzzDecodeReceipts(f *testing.F) {
	f.Add(EncodeReceipts([]st.Receipt{{SrcShard: 1, Amount: 3}}))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := DecodeReceipts(data)
		if err != nil {
			return
		}
		if out := EncodeReceipts(rs); string(out) != string(data) {
			t.Fatalf("re-encoded %x, input %x", out, data)
		}
	})
}

// FuzzDecodeCrosslinkRecord: decoding never panics, and what decodes
// re-encodes to the input.
func FuzzDecodeCrosslinkRecord(f *testing.F) {
	seed, _ := (&CrosslinkRecord{Crosslink: bt.Crosslink{Shard: 2}, Resolved: true, Headers: []bt.Root{{1}}}).encode()
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := decodeCrosslinkRecord(data)
		if err != nil {
			return
		}
		out, err := r.encode()
		if err != nil || string(out) != string(data) {
			t.Fatalf("re-encoded %x (%v), input %x", out, err, data)
		}
	})
}
