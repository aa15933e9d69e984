package store_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/store"
	"github.com/shardlab/shardlab/beacon/store/kv"
	"github.com/shardlab/shardlab/beacon/types"
)

// backends are the kv implementations every store test can run on.
var backends = []struct {
	name string
	open func(t testing.TB) kv.DB
}{
	{"memory", func(testing.TB) kv.DB { return kv.NewMemory() }},
	{"pebble-mem", func(t testing.TB) kv.DB {
		db, err := kv.OpenPebbleMem()
		if err != nil {
			t.Fatal(err)
		}
		return db
	}},
	{"pebble-disk", func(t testing.TB) kv.DB {
		db, err := kv.OpenPebble(t.TempDir(), kv.PebbleOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return db
	}},
}

// newStore returns a store with the minimal preset on an in-memory Pebble.
func newStore(t testing.TB) (*store.Store, kv.DB) {
	t.Helper()
	return newStoreOn(t, backends[1].open(t), params.Minimal())
}

func newStoreOn(t testing.TB, db kv.DB, cfg *params.Config) (*store.Store, kv.DB) {
	t.Helper()
	t.Cleanup(func() { _ = db.Close() })
	s, err := store.New(db, cfg)
	if err != nil {
		t.Fatalf("new store: %v", err)
	}
	return s, db
}

func root(b byte) types.Root {
	var r types.Root
	for i := range r {
		r[i] = b + byte(i)
	}
	return r
}

// testState returns a state for cfg with n validators and non-zero fields
// throughout.
func testState(cfg *params.Config, n int) *types.BeaconState {
	st := types.NewBeaconState(cfg)
	st.GenesisTime = 1_578_009_600
	st.Slot = types.Slot(cfg.GenesisSlot)
	st.Fork = types.Fork{PreviousVersion: types.Version{0, 0, 0, 1}, CurrentVersion: types.Version{0, 0, 0, 2}, Epoch: 3}
	st.LatestBlockHeader = types.BeaconBlockHeader{Slot: 0, ParentRoot: root(1), BodyRoot: root(2)}
	for i := range st.BlockRoots {
		st.BlockRoots[i] = root(byte(i))
	}
	for i := range st.RandaoMixes {
		st.RandaoMixes[i] = root(byte(3 * i))
	}
	st.HistoricalRoots = []types.Root{root(9), root(10)}
	st.Eth1Data = types.Eth1Data{DepositRoot: root(4), DepositCount: uint64(n), BlockHash: root(5)}
	st.Eth1DataVotes = []types.Eth1Data{st.Eth1Data}
	st.Eth1DepositIndex = uint64(n)
	for i := range n {
		var pk types.BLSPubkey
		binary.LittleEndian.PutUint64(pk[:], uint64(i)+1)
		pk[47] = 0xa0
		st.Validators = append(st.Validators, types.Validator{
			Pubkey:                pk,
			WithdrawalCredentials: root(byte(i)),
			EffectiveBalance:      types.Gwei(cfg.MaxEffectiveBalance),
			Slashed:               i%17 == 3,
			ExitEpoch:             types.FarFutureEpoch,
			WithdrawableEpoch:     types.FarFutureEpoch,
		})
		st.Balances = append(st.Balances, types.Gwei(cfg.MaxEffectiveBalance+uint64(i)))
	}
	st.Slashings[0] = 12345
	st.CurrentEpochAttestations = []types.PendingAttestation{{
		AggregationBits: []byte{0x0b},
		Data:            attData(0, 1, 7),
		InclusionDelay:  1,
		ProposerIndex:   2,
	}}
	st.CurrentCrosslinks[1] = types.Crosslink{Shard: 1, ParentRoot: root(6), EndEpoch: 1, DataRoot: root(7)}
	st.JustificationBits = 0b0101
	st.CurrentJustifiedCheckpoint = types.Checkpoint{Epoch: 1, Root: root(8)}
	return st
}

func attData(source, target types.Epoch, head byte) types.AttestationData {
	return types.AttestationData{
		BeaconBlockRoot: root(head),
		Source:          types.Checkpoint{Epoch: source, Root: root(byte(source))},
		Target:          types.Checkpoint{Epoch: target, Root: root(byte(target))},
		Crosslink:       types.Crosslink{Shard: types.Shard(head % 8), ParentRoot: root(head + 1), EndEpoch: target},
	}
}

// testBlock returns a block at slot with parent and nAtt attestations.
func testBlock(slot types.Slot, parent types.Root, nAtt int) *types.BeaconBlock {
	b := &types.BeaconBlock{Slot: slot, ParentRoot: parent, StateRoot: root(byte(slot))}
	b.Body.RandaoReveal[0] = byte(slot)
	b.Body.Graffiti = root(0x77)
	b.Body.Eth1Data = types.Eth1Data{DepositRoot: root(1), DepositCount: 64, BlockHash: root(2)}
	for i := range nAtt {
		a := &types.Attestation{
			AggregationBits: []byte{0xff, byte(i), 0x01},
			Data:            attData(types.Epoch(slot/8), types.Epoch(slot/8)+1, byte(i)),
			CustodyBits:     []byte{0x00, 0x00, 0x01},
		}
		a.Signature[0] = byte(i)
		b.Body.Attestations = append(b.Body.Attestations, a)
	}
	b.Body.VoluntaryExits = []*types.VoluntaryExit{{Epoch: 1, ValidatorIndex: 3}}
	b.Signature[95] = 0x42
	return b
}

// testShardBlock returns testBlock's shard-fork counterpart carrying proofs
// as its fraud proofs.
func testShardBlock(slot types.Slot, parent types.Root, nAtt int, proofs [][]byte) *types.ShardBeaconBlock {
	p := testBlock(slot, parent, nAtt)
	return &types.ShardBeaconBlock{
		Slot:       p.Slot,
		ParentRoot: p.ParentRoot,
		StateRoot:  p.StateRoot,
		Body: types.ShardBeaconBlockBody{
			RandaoReveal:      p.Body.RandaoReveal,
			Eth1Data:          p.Body.Eth1Data,
			Graffiti:          p.Body.Graffiti,
			ProposerSlashings: p.Body.ProposerSlashings,
			AttesterSlashings: p.Body.AttesterSlashings,
			Attestations:      p.Body.Attestations,
			Deposits:          p.Body.Deposits,
			VoluntaryExits:    p.Body.VoluntaryExits,
			Transfers:         p.Body.Transfers,
			ShardFraudProofs:  proofs,
		},
		Signature: p.Signature,
	}
}

// testAnyBlock returns a block of slot's kind under cfg: testShardBlock
// (with two fraud proofs) once the shard fork is active, else testBlock.
func testAnyBlock(cfg *params.Config, slot types.Slot, parent types.Root, nAtt int) types.AnyBlock {
	if types.ShardForkAtSlot(cfg, slot) {
		return testShardBlock(slot, parent, nAtt, [][]byte{{byte(slot), 1, 2}, bytes.Repeat([]byte{byte(slot)}, 100)})
	}
	return testBlock(slot, parent, nAtt)
}

// shardForkConfig returns the minimal preset with the shard fork at epoch
// epoch.
func shardForkConfig(epoch uint64) *params.Config {
	c := params.Minimal()
	c.Shard.ForkEpoch = epoch
	return c
}

// countKeys returns the number of keys in db.
func countKeys(t testing.TB, db kv.DB) int {
	t.Helper()
	n := 0
	if err := db.Iterate(nil, func(_, _ []byte) (bool, error) { n++; return true, nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func encode(t testing.TB, v interface{ MarshalSSZ() ([]byte, error) }) []byte {
	t.Helper()
	b, err := v.MarshalSSZ()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sameSSZ(t testing.TB, what string, got, want interface{ MarshalSSZ() ([]byte, error) }) {
	t.Helper()
	if !bytes.Equal(encode(t, got), encode(t, want)) {
		t.Fatalf("%s changed in a round trip", what)
	}
}
