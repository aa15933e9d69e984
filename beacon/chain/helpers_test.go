package chain

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"sync"
	"testing"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/store"
	"github.com/shardlab/shardlab/beacon/store/kv"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
)

// fixture is a minimal-preset shard-fork chain of 64 interop validators.
type fixture struct {
	cfg     *params.Config
	tr      *core.Transition
	keys    *validator.Keys
	genesis *types.BeaconState
}

var (
	keysOnce = sync.OnceValues(func() (*validator.Keys, error) { return validator.NewInteropKeys(0, 64) })
	fixOnce  = sync.OnceValues(func() (*fixture, error) { return buildFixture(nil) })
)

// defaultFixture returns the shared fixture; its genesis must not be
// modified (the Service copies it).
func defaultFixture(t testing.TB) *fixture {
	t.Helper()
	f, err := fixOnce()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func buildFixture(mutate func(*params.Config)) (*fixture, error) {
	cfg := params.Minimal().WithShards()
	if mutate != nil {
		mutate(cfg)
	}
	tr := core.New(cfg).WithShardFork(fakeFraud{})
	keys, err := keysOnce()
	if err != nil {
		return nil, err
	}
	st, err := validator.InteropGenesis(tr, 64, cfg.MinGenesisTime, validator.WithKeys(keys), validator.SkipDepositSignatures())
	if err != nil {
		return nil, err
	}
	return &fixture{cfg: cfg, tr: tr, keys: keys, genesis: st}, nil
}

func (f *fixture) newService(t testing.TB, db kv.DB) *Service {
	t.Helper()
	s, err := f.open(db)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (f *fixture) open(db kv.DB) (*Service, error) {
	st, err := store.New(db, f.cfg)
	if err != nil {
		return nil, err
	}
	cfg := DefaultConfig()
	cfg.Transition = f.tr
	cfg.Store = st
	cfg.Genesis = f.genesis
	cfg.Logger = slog.New(slog.DiscardHandler)
	return New(cfg)
}

func memDB(t testing.TB) kv.DB {
	t.Helper()
	db, err := kv.OpenPebbleMem()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// slotTime is the Unix time of slot's start.
func (f *fixture) slotTime(slot types.Slot) uint64 {
	return f.genesis.GenesisTime + uint64(slot)*f.cfg.SecondsPerSlot
}

// block produces the block of slot on pre with the given attestations and
// graffiti, and returns it with its post-state.
func (f *fixture) block(t testing.TB, pre *types.BeaconState, slot types.Slot, atts []*types.Attestation, graffiti byte) (*types.ShardBeaconBlock, *types.BeaconState) {
	t.Helper()
	b, post, err := validator.ProduceShardBeaconBlock(f.tr, pre, slot, f.keys, atts, types.Root{graffiti}, nil)
	if err != nil {
		t.Fatalf("produce block at slot %d: %v", slot, err)
	}
	return b, post
}

// anyBlock produces the block of slot on pre, of the kind of its slot: a
// phase 0 BeaconBlock before the shard fork (proofs must be nil), a
// ShardBeaconBlock carrying proofs from it on.
func (f *fixture) anyBlock(t testing.TB, pre *types.BeaconState, slot types.Slot, atts []*types.Attestation, proofs [][]byte) (types.AnyBlock, *types.BeaconState) {
	t.Helper()
	var (
		b    types.AnyBlock
		post *types.BeaconState
		err  error
	)
	if types.ShardForkAtSlot(f.cfg, slot) {
		b, post, err = validator.ProduceShardBeaconBlock(f.tr, pre, slot, f.keys, atts, types.Root{}, proofs)
	} else {
		if proofs != nil {
			t.Fatalf("fraud proofs in the phase 0 block of slot %d", slot)
		}
		b, post, err = validator.ProduceBlock(f.tr, pre, slot, f.keys, atts, types.Root{})
	}
	if err != nil {
		t.Fatalf("produce block at slot %d: %v", slot, err)
	}
	return b, post
}

// attest returns one full-committee attestation per committee of slot,
// voting for the head whose post-state is st (at or before slot). Its
// crosslinks carry a data root once the shard fork is active (phase 0
// requires a zero one).
func (f *fixture) attest(t testing.TB, st *types.BeaconState, slot types.Slot) []*types.Attestation {
	t.Helper()
	head, err := validator.LatestBlockRoot(st)
	if err != nil {
		t.Fatal(err)
	}
	adv := st.Copy()
	if err := f.tr.ProcessSlots(adv, slot); err != nil {
		t.Fatal(err)
	}
	coms, err := validator.SlotCommittees(f.tr, adv, slot)
	if err != nil {
		t.Fatal(err)
	}
	var opts []validator.AttestationOption
	if f.tr.ShardForkActive(adv) {
		opts = append(opts, validator.WithDataRoot(func(c types.Crosslink) (types.Root, error) { return types.Root{1, byte(c.Shard)}, nil }))
	}
	var out []*types.Attestation
	for _, sc := range coms {
		data, err := validator.ProduceAttestationData(f.tr, adv, head, slot, sc.Shard, opts...)
		if err != nil {
			t.Fatal(err)
		}
		a, err := validator.AggregateCommittee(f.tr, adv, data, sc.Committee, sc.Committee, f.keys)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

// chainSeg is a produced chain: blocks[i] at slots[i] with post-states.
type chainSeg struct {
	blocks []*types.ShardBeaconBlock
	states []*types.BeaconState
}

// build produces blocks at every slot in [from, to] on pre, each including
// full attestations of the previous slot (when attest is set).
func (f *fixture) build(t testing.TB, pre *types.BeaconState, from, to types.Slot, attest bool) chainSeg {
	t.Helper()
	var seg chainSeg
	st := pre
	var atts []*types.Attestation
	for slot := from; slot <= to; slot++ {
		b, post := f.block(t, st, slot, atts, 0)
		seg.blocks = append(seg.blocks, b)
		seg.states = append(seg.states, post)
		st = post
		atts = nil
		if attest {
			atts = f.attest(t, st, slot)
		}
	}
	return seg
}

// importSeg ticks to each block's slot and imports it with signatures checked.
func importSeg(t testing.TB, f *fixture, s *Service, seg chainSeg) {
	t.Helper()
	for _, b := range seg.blocks {
		s.OnTick(f.slotTime(b.Slot))
		if _, err := s.ImportBlock(b, core.VerifySigs); err != nil {
			t.Fatalf("import block of slot %d: %v", b.Slot, err)
		}
	}
}

func root(t testing.TB, b types.AnyBlock) types.Root {
	t.Helper()
	r, err := b.SigningRoot()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// fakeFraud is a shard-fork verifier for tests: a "proof" is 16 bytes,
// offender and whistleblower validator indices; it is valid when the
// offender is slashable. A 24-byte proof adds the slot of the beacon block
// it references, which, as in the real verifier (shard/core), must be
// before the state's slot.
type fakeFraud struct{}

func (fakeFraud) VerifyFraudProof(_ *core.Transition, st *types.BeaconState, proof []byte, _ core.Sigs) (*core.FraudVerdict, error) {
	if len(proof) == 24 {
		if ref := types.Slot(binary.LittleEndian.Uint64(proof[16:])); ref >= st.Slot {
			return nil, fmt.Errorf("%w: references slot %d, not before the state's %d", core.ErrInvalidOperation, ref, st.Slot)
		}
		proof = proof[:16]
	}
	if len(proof) != 16 {
		return nil, fmt.Errorf("%w: fake proof of %d bytes", core.ErrInvalidOperation, len(proof))
	}
	off := types.ValidatorIndex(binary.LittleEndian.Uint64(proof))
	wb := types.ValidatorIndex(binary.LittleEndian.Uint64(proof[8:]))
	if uint64(off) >= uint64(len(st.Validators)) {
		return nil, fmt.Errorf("%w: offender out of range", core.ErrInvalidOperation)
	}
	return &core.FraudVerdict{Offenders: []types.ValidatorIndex{off}, Whistleblower: wb}, nil
}

// fakeProofAt is a fake proof referencing a beacon block of slot ref.
func fakeProofAt(offender, whistleblower uint64, ref types.Slot) []byte {
	return binary.LittleEndian.AppendUint64(fakeProof(offender, whistleblower), uint64(ref))
}

func fakeProof(offender, whistleblower uint64) []byte {
	b := binary.LittleEndian.AppendUint64(nil, offender)
	return binary.LittleEndian.AppendUint64(b, whistleblower)
}

// restart closes db, s's database in dir, reopens it, starts a service on
// it and checks that the service restored s's head, checkpoints and head
// state. It returns the new service and database.
func (f *fixture) restart(t *testing.T, s *Service, db kv.DB, dir string) (*Service, kv.DB) {
	t.Helper()
	head, headSlot := s.Head()
	fin, just := s.Finalized(), s.Justified()
	stateRoot, err := s.HeadState().HashTreeRoot()
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = kv.OpenPebble(dir, kv.PebbleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := f.newService(t, db)
	if h, slot := r.Head(); h != head || slot != headSlot {
		t.Fatalf("restarted head %s at %d, want %s at %d", h, slot, head, headSlot)
	}
	if r.Finalized() != fin || r.Justified() != just {
		t.Fatalf("restarted checkpoints %+v %+v, want %+v %+v", r.Finalized(), r.Justified(), fin, just)
	}
	if got, err := r.HeadState().HashTreeRoot(); err != nil || got != stateRoot {
		t.Fatalf("restarted head state root %s (%v), want %s", got, err, stateRoot)
	}
	return r, db
}
