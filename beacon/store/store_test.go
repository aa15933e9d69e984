package store_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/store"
	"github.com/shardlab/shardlab/beacon/store/kv"
	"github.com/shardlab/shardlab/beacon/types"
)

// TestBlockRoundTrip saves and reads back blocks of both kinds in a store
// whose shard fork starts at epoch 1: phase 0 BeaconBlocks before it,
// ShardBeaconBlocks (with their fraud proofs) from it on.
func TestBlockRoundTrip(t *testing.T) {
	cfg := shardForkConfig(1)
	fork := types.Slot(cfg.SlotsPerEpoch) // the first shard-fork slot
	largest := bytes.Repeat([]byte{0xfd}, params.MaxShardFraudProofBytes)
	cases := []struct {
		name  string
		block types.AnyBlock
	}{
		{"genesis", &types.BeaconBlock{}},
		{"phase 0, no attestations", testBlock(5, root(1), 0)},
		{"phase 0, one attestation", testBlock(fork-1, root(2), 1)},
		{"phase 0, full attestations", testBlock(3, root(3), int(params.FixedMaxAttestations))},
		{"shard fork, no fraud proofs", testShardBlock(fork, root(4), 0, nil)},
		{"shard fork, fraud proofs", testShardBlock(fork+1, root(5), 2, [][]byte{{1, 2, 3}, {}})},
		{"shard fork, largest fraud proofs", testShardBlock(100, root(6), int(params.FixedMaxAttestations),
			[][]byte{largest, append(slices.Clone(largest[1:]), 0x01)})},
	}
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			s, db := newStoreOn(t, be.open(t), cfg)
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					want, err := c.block.SigningRoot()
					if err != nil {
						t.Fatal(err)
					}
					if ok, err := s.HasBlock(want); err != nil || ok {
						t.Fatalf("HasBlock before save = %v, %v", ok, err)
					}
					r, err := s.SaveBlock(c.block)
					if err != nil {
						t.Fatalf("save: %v", err)
					}
					if r != want {
						t.Fatalf("SaveBlock root %s, signing root %s", r, want)
					}
					got, err := s.Block(r)
					if err != nil {
						t.Fatalf("read: %v", err)
					}
					if fmt.Sprintf("%T", got) != fmt.Sprintf("%T", c.block) {
						t.Fatalf("saved a %T, read a %T", c.block, got)
					}
					sameSSZ(t, "block", got, c.block)
					if ok, err := s.HasBlock(r); err != nil || !ok {
						t.Fatalf("HasBlock after save = %v, %v", ok, err)
					}
				})
			}
			if _, err := s.Block(root(0xee)); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("missing block: %v, want ErrNotFound", err)
			}
			// Blocks that could not be read back are refused, and nothing
			// is written.
			refused := []struct {
				name  string
				block types.AnyBlock
			}{
				{"nil", nil},
				{"nil BeaconBlock", (*types.BeaconBlock)(nil)},
				{"nil ShardBeaconBlock", (*types.ShardBeaconBlock)(nil)},
				{"phase 0 block at the fork", testBlock(fork, root(7), 0)},
				{"shard block before the fork", testShardBlock(fork-1, root(8), 0, [][]byte{{1}})},
				{"shard block at genesis", testShardBlock(0, types.Root{}, 0, nil)},
			}
			before := countKeys(t, db)
			for _, c := range refused {
				if _, err := s.SaveBlock(c.block); !errors.Is(err, store.ErrInvalidArgument) {
					t.Fatalf("%s: %v, want ErrInvalidArgument", c.name, err)
				}
			}
			if after := countKeys(t, db); after != before {
				t.Fatalf("refused blocks wrote %d keys", after-before)
			}
		})
	}
}

func TestStateRoundTrip(t *testing.T) {
	for _, cfg := range []*params.Config{params.Minimal(), params.Mainnet()} {
		for _, n := range []int{0, 4, 64} {
			t.Run(fmt.Sprintf("%s/%d validators", cfg.Name, n), func(t *testing.T) {
				s, _ := newStoreOn(t, backends[1].open(t), cfg)
				st := testState(cfg, n)
				r := root(byte(n))
				if err := s.SaveState(r, st); err != nil {
					t.Fatalf("save: %v", err)
				}
				got, err := s.State(r)
				if err != nil {
					t.Fatalf("read: %v", err)
				}
				sameSSZ(t, "state", got, st)
				h1, err1 := got.HashTreeRoot()
				h2, err2 := st.HashTreeRoot()
				if err1 != nil || err2 != nil || h1 != h2 {
					t.Fatalf("state root changed: %s vs %s (%v, %v)", h1, h2, err1, err2)
				}
				if got.Config() != cfg {
					t.Fatal("decoded state does not carry the store's config")
				}
				if ok, err := s.HasState(r); err != nil || !ok {
					t.Fatalf("HasState = %v, %v", ok, err)
				}
				if err := s.DeleteState(r); err != nil {
					t.Fatal(err)
				}
				if _, err := s.State(r); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("deleted state: %v, want ErrNotFound", err)
				}
				if ok, err := s.HasState(r); err != nil || ok {
					t.Fatalf("HasState after delete = %v, %v", ok, err)
				}
			})
		}
	}
}

func TestSaveStateConfigMismatch(t *testing.T) {
	s, _ := newStore(t)
	err := s.SaveState(root(1), testState(params.Mainnet(), 2))
	if !errors.Is(err, store.ErrConfigMismatch) {
		t.Fatalf("saving a mainnet state in a minimal store: %v, want ErrConfigMismatch", err)
	}
	// A different *Config with the same shape is fine.
	c := params.Minimal()
	c.Name = "custom"
	c.MinGenesisTime = 1
	if err := s.SaveState(root(1), testState(c, 2)); err != nil {
		t.Fatalf("same-shape config: %v", err)
	}
	if err := s.SaveState(root(1), nil); !errors.Is(err, store.ErrInvalidArgument) {
		t.Fatalf("nil state: %v", err)
	}
}

func TestCanonical(t *testing.T) {
	s, _ := newStore(t)
	slots := []types.Slot{0, 1, 2, 4, 7, 8, 255, 256, 100_000, math.MaxUint64}
	for _, sl := range slots {
		if err := s.SetCanonical(sl, root(byte(sl))); err != nil {
			t.Fatal(err)
		}
	}
	roots := func(ss ...types.Slot) []types.Root {
		var out []types.Root
		for _, sl := range ss {
			out = append(out, root(byte(sl)))
		}
		return out
	}
	cases := []struct {
		name         string
		start        types.Slot
		count        uint64
		want         []types.Root
		wantNotFound bool
	}{
		{"zero count", 0, 0, nil, false},
		{"first", 0, 1, roots(0), false},
		{"dense", 0, 3, roots(0, 1, 2), false},
		{"gaps skipped", 0, 9, roots(0, 1, 2, 4, 7, 8), false},
		{"start in a gap", 3, 5, roots(4, 7), false},
		{"only gaps", 9, 100, nil, false},
		{"byte boundary", 255, 2, roots(255, 256), false},
		{"far", 1000, 1 << 40, roots(100_000), false},
		{"overflowing end", 100_000, math.MaxUint64, roots(100_000, math.MaxUint64), false},
		{"last slot", math.MaxUint64, 1, roots(math.MaxUint64), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.CanonicalRange(c.start, c.count)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("CanonicalRange(%d, %d) = %d roots %v, want %v", c.start, c.count, len(got), got, c.want)
			}
		})
	}
	for _, sl := range slots {
		if r, err := s.CanonicalRoot(sl); err != nil || r != root(byte(sl)) {
			t.Fatalf("CanonicalRoot(%d) = %s, %v", sl, r, err)
		}
	}
	if _, err := s.CanonicalRoot(3); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("CanonicalRoot of an empty slot: %v", err)
	}
	// A reorg replaces and removes entries.
	if err := s.Update(func(tx *store.Tx) error {
		if err := tx.SetCanonical(2, root(0xaa)); err != nil {
			return err
		}
		return tx.DeleteCanonical(4)
	}); err != nil {
		t.Fatal(err)
	}
	got, err := s.CanonicalRange(0, 5)
	if err != nil {
		t.Fatal(err)
	}
	if want := []types.Root{root(0), root(1), root(0xaa)}; !slices.Equal(got, want) {
		t.Fatalf("after reorg: %v, want %v", got, want)
	}
}

func TestMetadata(t *testing.T) {
	s, _ := newStore(t)
	if _, err := s.Head(); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Head of an empty store: %v", err)
	}
	if _, err := s.Finalized(); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Finalized of an empty store: %v", err)
	}
	if _, err := s.Justified(); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Justified of an empty store: %v", err)
	}
	if _, err := s.GenesisRoot(); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GenesisRoot of an empty store: %v", err)
	}
	if _, err := s.GenesisState(); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GenesisState of an empty store: %v", err)
	}
	for i := range 3 {
		head := root(byte(10 + i))
		fin := types.Checkpoint{Epoch: types.Epoch(i), Root: root(byte(20 + i))}
		just := types.Checkpoint{Epoch: types.Epoch(i + 1), Root: root(byte(30 + i))}
		if err := s.SaveHead(head); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveFinalized(fin); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveJustified(just); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Head(); err != nil || got != head {
			t.Fatalf("Head = %s, %v; want %s", got, err, head)
		}
		if got, err := s.Finalized(); err != nil || got != fin {
			t.Fatalf("Finalized = %v, %v; want %v", got, err, fin)
		}
		if got, err := s.Justified(); err != nil || got != just {
			t.Fatalf("Justified = %v, %v; want %v", got, err, just)
		}
	}
}

func TestGenesis(t *testing.T) {
	cfg := params.Minimal()
	s, _ := newStoreOn(t, kv.NewMemory(), cfg)
	gen := testState(cfg, 16)
	// The genesis root as get_genesis_store computes it.
	stateRoot, err := gen.Copy().HashTreeRoot()
	if err != nil {
		t.Fatal(err)
	}
	want, err := (&types.BeaconBlock{StateRoot: stateRoot}).SigningRoot()
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.SaveGenesis(gen)
	if err != nil {
		t.Fatal(err)
	}
	if r != want {
		t.Fatalf("genesis root %s, want %s", r, want)
	}
	cp := types.Checkpoint{Epoch: 0, Root: r}
	checks := []struct {
		name string
		fn   func() (any, error)
		want any
	}{
		{"GenesisRoot", func() (any, error) { return s.GenesisRoot() }, r},
		{"Head", func() (any, error) { return s.Head() }, r},
		{"Justified", func() (any, error) { return s.Justified() }, cp},
		{"Finalized", func() (any, error) { return s.Finalized() }, cp},
		{"CanonicalRoot(0)", func() (any, error) { return s.CanonicalRoot(0) }, r},
		{"HasBlock", func() (any, error) { return s.HasBlock(r) }, true},
		{"HasState", func() (any, error) { return s.HasState(r) }, true},
	}
	for _, c := range checks {
		got, err := c.fn()
		if err != nil || got != c.want {
			t.Errorf("%s = %v, %v; want %v", c.name, got, err, c.want)
		}
	}
	gs, err := s.GenesisState()
	if err != nil {
		t.Fatal(err)
	}
	sameSSZ(t, "genesis state", gs, gen)

	// Saving the same genesis again (a restart) changes nothing.
	if err := s.SaveHead(root(0x99)); err != nil {
		t.Fatal(err)
	}
	if r2, err := s.SaveGenesis(testState(cfg, 16)); err != nil || r2 != r {
		t.Fatalf("second SaveGenesis = %s, %v", r2, err)
	}
	if h, _ := s.Head(); h != root(0x99) {
		t.Fatal("repeated SaveGenesis reset the head")
	}
	if _, err := s.SaveGenesis(testState(cfg, 17)); !errors.Is(err, store.ErrGenesisMismatch) {
		t.Fatalf("another genesis: %v, want ErrGenesisMismatch", err)
	}
	late := testState(cfg, 16)
	late.Slot = 5
	s2, _ := newStore(t)
	if _, err := s2.SaveGenesis(late); !errors.Is(err, store.ErrInvalidArgument) {
		t.Fatalf("genesis state at slot 5: %v", err)
	}
}

// TestUpdateAtomic checks that an Update's writes land together, and that an
// Update whose function fails writes nothing.
func TestUpdateAtomic(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			s, _ := newStoreOn(t, be.open(t), params.Minimal())
			b1 := testBlock(1, root(0), 2)
			var r1 types.Root
			err := s.Update(func(tx *store.Tx) error {
				var err error
				if r1, err = tx.SaveBlock(b1); err != nil {
					return err
				}
				if err := tx.SetCanonical(1, r1); err != nil {
					return err
				}
				if err := tx.SaveState(r1, testState(params.Minimal(), 3)); err != nil {
					return err
				}
				// Not visible before the Update returns.
				if ok, err := s.HasBlock(r1); err != nil || ok {
					return fmt.Errorf("block visible inside the update: %v, %v", ok, err)
				}
				return tx.SaveHead(r1)
			})
			if err != nil {
				t.Fatal(err)
			}
			if h, err := s.Head(); err != nil || h != r1 {
				t.Fatalf("head = %s, %v", h, err)
			}

			boom := errors.New("boom")
			b2 := testBlock(2, r1, 1)
			var r2 types.Root
			var kept *store.Tx
			err = s.Update(func(tx *store.Tx) error {
				kept = tx
				var err error
				if r2, err = tx.SaveBlock(b2); err != nil {
					return err
				}
				_ = tx.SetCanonical(2, r2)
				_ = tx.SaveHead(r2)
				_ = tx.SaveFinalized(types.Checkpoint{Epoch: 1, Root: r2})
				_ = tx.DeleteState(r1)
				_ = tx.DeleteBlock(r1)
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("Update returned %v, want the function's error", err)
			}
			if ok, _ := s.HasBlock(r2); ok {
				t.Fatal("rolled-back block was written")
			}
			if _, err := s.CanonicalRoot(2); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("rolled-back canonical entry: %v", err)
			}
			if h, _ := s.Head(); h != r1 {
				t.Fatal("rolled-back head was written")
			}
			if _, err := s.Finalized(); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("rolled-back finalized checkpoint: %v", err)
			}
			if ok, _ := s.HasState(r1); !ok {
				t.Fatal("rolled-back state deletion was applied")
			}
			if ok, _ := s.HasBlock(r1); !ok {
				t.Fatal("rolled-back block deletion was applied")
			}
			if err := kept.SaveHead(r2); !errors.Is(err, store.ErrTxDone) {
				t.Fatalf("Tx used after Update: %v, want ErrTxDone", err)
			}
			// A failed write inside the Tx fails the Update even if fn
			// ignores it.
			err = s.Update(func(tx *store.Tx) error {
				_ = tx.SaveHead(r2)
				_ = tx.SaveState(r2, testState(params.Mainnet(), 1))
				return nil
			})
			if !errors.Is(err, store.ErrConfigMismatch) {
				t.Fatalf("update with an ignored failed write: %v", err)
			}
			if h, _ := s.Head(); h != r1 {
				t.Fatal("head of a failed update was written")
			}
		})
	}
}

// TestReopen writes a chain across the shard fork (epoch 1) to Pebble on
// disk, closes it and checks that a new store on the reopened directory sees
// all of it.
func TestReopen(t *testing.T) {
	cfg := shardForkConfig(1)
	dir := t.TempDir()
	db, err := kv.OpenPebble(dir, kv.PebbleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := store.New(db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	gen := testState(cfg, 64)
	genRoot, err := s.SaveGenesis(gen)
	if err != nil {
		t.Fatal(err)
	}
	parent := genRoot
	var roots []types.Root
	blocks := make(map[types.Root]types.AnyBlock)
	for slot := types.Slot(1); slot <= 20; slot++ {
		if slot%5 == 0 {
			continue // empty slot
		}
		b := testAnyBlock(cfg, slot, parent, int(slot%4))
		err := s.Update(func(tx *store.Tx) error {
			r, err := tx.SaveBlock(b)
			if err != nil {
				return err
			}
			parent = r
			if err := tx.SetCanonical(slot, r); err != nil {
				return err
			}
			return tx.SaveHead(r)
		})
		if err != nil {
			t.Fatal(err)
		}
		roots = append(roots, parent)
		blocks[parent] = b
	}
	headState := testState(cfg, 65)
	headState.Slot = 20
	if err := s.SaveState(parent, headState); err != nil {
		t.Fatal(err)
	}
	fin := types.Checkpoint{Epoch: 1, Root: roots[5]}
	if err := s.SaveFinalized(fin); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckAndRecordAttestation(7, 0, 2, root(1)); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckAndRecordProposal(7, 17, root(2)); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = kv.OpenPebble(dir, kv.PebbleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err = store.New(db, cfg)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	if got, err := s.GenesisRoot(); err != nil || got != genRoot {
		t.Fatalf("genesis root after reopen: %s, %v", got, err)
	}
	gs, err := s.GenesisState()
	if err != nil {
		t.Fatal(err)
	}
	sameSSZ(t, "genesis state", gs, gen)
	if h, err := s.Head(); err != nil || h != parent {
		t.Fatalf("head after reopen: %s, %v", h, err)
	}
	hs, err := s.State(parent)
	if err != nil {
		t.Fatal(err)
	}
	sameSSZ(t, "head state", hs, headState)
	if got, err := s.Finalized(); err != nil || got != fin {
		t.Fatalf("finalized after reopen: %v, %v", got, err)
	}
	got, err := s.CanonicalRange(1, 20)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, roots) {
		t.Fatalf("canonical range after reopen: %d roots, want %d", len(got), len(roots))
	}
	shardBlocks := 0
	for _, r := range roots {
		b, err := s.Block(r)
		if err != nil {
			t.Fatal(err)
		}
		if br, _ := b.SigningRoot(); br != r {
			t.Fatalf("block %s reads back with root %s", r, br)
		}
		if fmt.Sprintf("%T", b) != fmt.Sprintf("%T", blocks[r]) {
			t.Fatalf("block at slot %d: saved a %T, read a %T", b.GetSlot(), blocks[r], b)
		}
		sameSSZ(t, "block", b, blocks[r])
		if _, ok := b.(*types.ShardBeaconBlock); ok {
			shardBlocks++
		}
	}
	if shardBlocks == 0 || shardBlocks == len(roots) {
		t.Fatalf("%d of %d blocks are shard-fork blocks: the chain does not cross the fork", shardBlocks, len(roots))
	}
	if err := s.CheckAndRecordAttestation(7, 0, 2, root(3)); !errors.Is(err, store.ErrSlashable) {
		t.Fatalf("double vote after reopen: %v", err)
	}
	if err := s.CheckAndRecordProposal(7, 18, root(4)); !errors.Is(err, store.ErrSlashable) {
		t.Fatalf("second proposal in the epoch after reopen: %v", err)
	}
}

func TestSchema(t *testing.T) {
	u64 := func(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
	cases := []struct {
		name    string
		prepare func(t *testing.T, db kv.DB) // on a database that New initialised
		fresh   func(t *testing.T, db kv.DB) // instead, on an empty database
		create  *params.Config               // the config New initialised the database with (minimal)
		cfg     *params.Config               // the config it is reopened with (minimal)
		want    error
		msg     string // in the error text
	}{
		{name: "reopen", want: nil},
		{name: "unknown version", prepare: func(t *testing.T, db kv.DB) {
			_ = db.Put([]byte("meta/schema"), u64(store.SchemaVersion+1))
		}, want: store.ErrSchemaVersion},
		{name: "version 0", prepare: func(t *testing.T, db kv.DB) {
			_ = db.Put([]byte("meta/schema"), u64(0))
		}, want: store.ErrSchemaVersion},
		{name: "corrupt version", prepare: func(t *testing.T, db kv.DB) {
			_ = db.Put([]byte("meta/schema"), []byte{1})
		}, want: store.ErrCorrupt},
		{name: "missing shape", prepare: func(t *testing.T, db kv.DB) {
			_ = db.Delete([]byte("meta/shape"))
		}, want: store.ErrNotFound},
		{name: "corrupt shape", prepare: func(t *testing.T, db kv.DB) {
			_ = db.Put([]byte("meta/shape"), []byte("short"))
		}, want: store.ErrCorrupt},
		{name: "other preset", cfg: params.Mainnet(), want: store.ErrConfigMismatch},
		// The shard fork epoch decides how stored blocks decode.
		{name: "shard fork enabled", cfg: params.Minimal().WithShards(), want: store.ErrConfigMismatch, msg: "SHARD_FORK_EPOCH"},
		{name: "shard fork disabled", create: shardForkConfig(2), want: store.ErrConfigMismatch, msg: "SHARD_FORK_EPOCH"},
		{name: "other shard fork epoch", create: shardForkConfig(2), cfg: shardForkConfig(3), want: store.ErrConfigMismatch, msg: "SHARD_FORK_EPOCH"},
		{name: "same shard fork epoch, other shard params", create: shardForkConfig(2), cfg: func() *params.Config {
			c := shardForkConfig(2)
			c.Shard.ChallengeWindow++
			c.Shard.Accounts *= 2
			return c
		}(), want: store.ErrConfigMismatch, msg: "SHARD_ACCOUNTS is 1024 in the database but 2048 in the config; SHARD_CHALLENGE_WINDOW is 1 in the database but 2"},
		// Every consensus parameter is bound to the database, not only the
		// shape; settings no transition reads are not.
		{name: "other slot time", cfg: func() *params.Config {
			c := params.Minimal()
			c.SecondsPerSlot = 2
			return c
		}(), want: params.ErrConsensusMismatch, msg: "SECONDS_PER_SLOT is 6 in the database but 2 in the config"},
		{name: "other reward factor", cfg: func() *params.Config {
			c := params.Minimal()
			c.BaseRewardFactor = 32
			return c
		}(), want: store.ErrConfigMismatch, msg: "BASE_REWARD_FACTOR"},
		{name: "non-consensus settings", cfg: func() *params.Config {
			c := params.Minimal()
			c.Name, c.MinGenesisTime, c.MinGenesisActiveValidatorCount = "renamed", 1, 1
			return c
		}(), want: nil},
		{name: "corrupt consensus record", prepare: func(t *testing.T, db kv.DB) {
			_ = db.Put([]byte("meta/config"), []byte("garbage"))
		}, want: store.ErrCorrupt},
		// A database written before meta/config existed gets the config it
		// is opened with recorded, and is bound to it from then on.
		{name: "record added to an older database", prepare: func(t *testing.T, db kv.DB) {
			_ = db.Delete([]byte("meta/config"))
			if _, err := store.New(db, params.Minimal()); err != nil {
				t.Fatal(err)
			}
		}, cfg: func() *params.Config {
			c := params.Minimal()
			c.SecondsPerSlot = 3
			return c
		}(), want: store.ErrConfigMismatch, msg: "SECONDS_PER_SLOT is 6 in the database but 3"},
		// Version 1 kept shard-fork blocks outside the store and had no
		// SHARD_FORK_EPOCH in its shape: refused, not read with blocks missing.
		{name: "version 1 database", fresh: func(t *testing.T, db kv.DB) {
			c := params.Minimal().WithShards()
			shape := slices.Concat(u64(c.SlotsPerHistoricalRoot), u64(c.EpochsPerHistoricalVector), u64(c.EpochsPerSlashingsVector),
				u64(c.ShardCount), u64(c.HistoricalRootsLimit), u64(c.ValidatorRegistryLimit), u64(c.MaxAttestations),
				u64(c.SlotsPerEth1VotingPeriod), u64(c.SlotsPerEpoch), u64(c.GenesisSlot))
			_ = db.Put([]byte("meta/schema"), u64(1))
			_ = db.Put([]byte("meta/shape"), shape)
			blk := testShardBlock(1, root(0), 0, nil)
			r, _ := blk.SigningRoot()
			_ = db.Put(append([]byte("chain/blk/"), r[:]...), encode(t, blk))
		}, cfg: params.Minimal().WithShards(), want: store.ErrSchemaVersion, msg: "schema version 1"},
		{name: "data without schema", fresh: func(t *testing.T, db kv.DB) {
			_ = db.Put([]byte("foreign"), []byte("data"))
		}, want: store.ErrSchemaVersion},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := kv.NewMemory()
			defer db.Close()
			if c.fresh != nil {
				c.fresh(t, db)
			} else {
				create := c.create
				if create == nil {
					create = params.Minimal()
				}
				if _, err := store.New(db, create); err != nil {
					t.Fatal(err)
				}
				if c.prepare != nil {
					c.prepare(t, db)
				}
			}
			cfg := c.cfg
			if cfg == nil {
				cfg = params.Minimal()
			}
			_, err := store.New(db, cfg)
			if c.want == nil {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("New: %v, want %v", err, c.want)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("New: %q does not mention %q", err, c.msg)
			}
		})
	}
	if _, err := store.New(nil, params.Minimal()); !errors.Is(err, store.ErrInvalidArgument) {
		t.Fatalf("nil db: %v", err)
	}
	if _, err := store.New(kv.NewMemory(), nil); !errors.Is(err, store.ErrInvalidArgument) {
		t.Fatalf("nil config: %v", err)
	}
	// A store under a prefix of a shared database.
	shared := kv.NewMemory()
	_ = shared.Put([]byte("shard/x"), []byte("other store's data"))
	if _, err := store.New(kv.Prefix(shared, []byte("beacon/")), params.Minimal()); err != nil {
		t.Fatalf("store on a prefix of a shared database: %v", err)
	}
}

// TestCorruptValues overwrites stored values with damaged ones: every read
// returns an error wrapping ErrCorrupt, never panics.
func TestCorruptValues(t *testing.T) {
	s, db := newStore(t)
	blk := testBlock(3, root(1), 3)
	br, err := s.SaveBlock(blk)
	if err != nil {
		t.Fatal(err)
	}
	st := testState(params.Minimal(), 8)
	if err := s.SaveState(br, st); err != nil {
		t.Fatal(err)
	}
	blockBytes, stateBytes := encode(t, blk), encode(t, st)
	cpBytes := encode(t, &types.Checkpoint{Epoch: 1})

	blockKey := append([]byte("blk/"), br[:]...)
	stateKey := append([]byte("st/"), br[:]...)
	readBlock := func() error { _, err := s.Block(br); return err }
	readState := func() error { _, err := s.State(br); return err }
	type damage struct {
		name  string
		key   []byte
		value []byte
		read  func() error
	}
	cases := []damage{
		{"block garbage", blockKey, []byte("garbage"), readBlock},
		{"block empty", blockKey, nil, readBlock},
		{"block trailing byte", blockKey, append(slices.Clone(blockBytes), 0), readBlock},
		{"block of the other kind", blockKey, encode(t, testShardBlock(3, root(1), 3, [][]byte{{1}})), readBlock},
		{"state garbage", stateKey, []byte("garbage"), readState},
		{"state empty", stateKey, nil, readState},
		{"state trailing byte", stateKey, append(slices.Clone(stateBytes), 0), readState},
		{"head short", []byte("meta/head"), []byte{1, 2, 3}, func() error { _, err := s.Head(); return err }},
		{"genesis long", []byte("meta/genesis"), make([]byte, 33), func() error { _, err := s.GenesisRoot(); return err }},
		{"finalized short", []byte("meta/finalized"), cpBytes[:39], func() error { _, err := s.Finalized(); return err }},
		{"justified long", []byte("meta/justified"), append(slices.Clone(cpBytes), 1), func() error { _, err := s.Justified(); return err }},
		{"canonical root short", append([]byte("idx/"), make([]byte, 8)...), []byte{1}, func() error { _, err := s.CanonicalRoot(0); return err }},
		{"canonical range root short", append([]byte("idx/"), make([]byte, 8)...), []byte{1}, func() error { _, err := s.CanonicalRange(0, 10); return err }},
		{"canonical key malformed", append([]byte("idx/"), 0, 0, 0, 0, 0, 0, 0, 5, 0), make([]byte, 32), func() error { _, err := s.CanonicalRange(0, 10); return err }},
		{"proposal record", []byte("sp/b/\x00\x00\x00\x00\x00\x00\x00\x05"), []byte{1}, func() error { return s.CheckAndRecordProposal(5, 100, root(1)) }},
		{"attestation record", []byte("sp/a/\x00\x00\x00\x00\x00\x00\x00\x05"), make([]byte, 47), func() error { return s.CheckAndRecordAttestation(5, 1, 2, root(1)) }},
	}
	// Every truncation of a valid encoding.
	for _, n := range []int{1, 8, 84, 100, len(blockBytes) / 2, len(blockBytes) - 1} {
		cases = append(cases, damage{fmt.Sprintf("block truncated to %d", n), blockKey, blockBytes[:n], readBlock})
	}
	for _, n := range []int{1, 100, len(stateBytes) / 2, len(stateBytes) - 1} {
		cases = append(cases, damage{fmt.Sprintf("state truncated to %d", n), stateKey, stateBytes[:n], readState})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := db.Put(c.key, c.value); err != nil {
				t.Fatal(err)
			}
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("read panicked: %v", r)
				}
			}()
			err := c.read()
			if !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("read of a damaged value: %v, want ErrCorrupt", err)
			}
			if errors.Is(err, store.ErrSlashable) {
				t.Fatal("corruption reported as slashable")
			}
			_ = db.Delete(c.key)
		})
	}
}
