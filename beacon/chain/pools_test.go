package chain

import (
	"errors"
	"slices"
	"testing"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
)

func TestAttestationPool(t *testing.T) {
	t.Parallel()
	f := defaultFixture(t)
	s := f.newService(t, memDB(t))
	seg := f.build(t, f.genesis, 1, 2, false)
	importSeg(t, f, s, seg)

	// Attestations of the current slot are valid at once: pooled, and
	// counted by the fork choice when the slot is over.
	atts := f.attest(t, seg.states[1], 2)
	ia, err := s.OnAttestationIndexed(atts[0])
	if err != nil {
		t.Fatal(err)
	}
	// The indexed attestation (the slasher's input) is the spec's.
	want, err := f.tr.IndexedAttestation(seg.states[1], atts[0])
	if err != nil {
		t.Fatal(err)
	}
	if ia == nil || !slices.Equal(ia.CustodyBit0Indices, want.CustodyBit0Indices) || ia.Data != want.Data || ia.Signature != want.Signature {
		t.Fatalf("indexed attestation %+v, want %+v", ia, want)
	}
	if err := s.OnAttestation(atts[0]); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("duplicate: %v", err)
	}
	if len(s.pending) != 1 {
		t.Fatalf("%d pending attestations, want 1", len(s.pending))
	}
	if got := s.AttestationsForBlock(2); len(got) != 0 {
		t.Fatal("an attestation is includable in its own slot")
	}
	if got := s.AttestationsForBlock(3); len(got) != 1 {
		t.Fatalf("%d includable attestations at slot 3, want 1", len(got))
	}
	s.OnTick(f.slotTime(3))
	if len(s.pending) != 0 {
		t.Fatal("pending attestation not counted after its slot")
	}

	// Invalid ones are rejected.
	bad := *atts[0]
	bad.Signature[10] ^= 1
	if ia, err := s.OnAttestationIndexed(&bad); !errors.Is(err, core.ErrInvalid) || ia != nil {
		t.Fatalf("bad signature: %v, %v", ia, err)
	}
	unknown := *atts[0]
	unknown.Data.Target.Root = types.Root{9}
	if err := s.OnAttestation(&unknown); !errors.Is(err, ErrUnknownTarget) || errors.Is(err, core.ErrInvalid) {
		t.Fatalf("unknown target: %v", err)
	}
	future := *atts[0]
	future.Data.Target.Epoch = 5
	if err := s.OnAttestation(&future); !errors.Is(err, ErrFuture) {
		t.Fatalf("future target: %v", err)
	}

	// An included attestation leaves the pool.
	b3, _ := f.block(t, seg.states[1], 3, atts, 0)
	if _, err := s.ImportBlock(b3, core.VerifySigs); err != nil {
		t.Fatal(err)
	}
	if got := s.AttestationsForBlock(4); len(got) != 0 {
		t.Fatalf("%d attestations left after inclusion", len(got))
	}
	// Old attestations are pruned.
	if err := s.OnAttestation(f.attest(t, seg.states[1], 3)[0]); err != nil {
		t.Fatal(err)
	}
	s.OnTick(f.slotTime(3 + types.Slot(f.cfg.SlotsPerEpoch) + 1))
	if s.pool.len() != 0 {
		t.Fatalf("%d attestations left after their inclusion window", s.pool.len())
	}
	if err := s.OnAttestation(atts[0]); !errors.Is(err, ErrDuplicate) && !errors.Is(err, ErrTooOld) {
		// Re-adding after pruning is either a duplicate or simply valid
		// again while its epoch lasts; it must not be invalid.
		if errors.Is(err, core.ErrInvalid) {
			t.Fatalf("re-adding a valid attestation: %v", err)
		}
	}
}

func TestOperationPools(t *testing.T) {
	t.Parallel()
	// Exits need PERSISTENT_COMMITTEE_PERIOD epochs of activity: none here.
	f, err := buildFixture(func(c *params.Config) { c.PersistentCommitteePeriod = 0 })
	if err != nil {
		t.Fatal(err)
	}
	s := f.newService(t, memDB(t))
	seg := f.build(t, f.genesis, 1, 1, false)
	importSeg(t, f, s, seg)
	st := seg.states[0]

	exit := &types.VoluntaryExit{Epoch: 0, ValidatorIndex: 7}
	sk, _ := f.keys.SecretKey(7)
	exit.Signature = types.BLSSignature(sk.Sign(exit.SigningRoot(), f.tr.Domain(st, f.cfg.DomainVoluntaryExit, 0)).Bytes())
	if err := s.AddVoluntaryExit(exit); err != nil {
		t.Fatal(err)
	}
	if err := s.AddVoluntaryExit(exit); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("duplicate exit: %v", err)
	}
	badExit := *exit
	badExit.ValidatorIndex = 8
	if err := s.AddVoluntaryExit(&badExit); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("exit signed by another key: %v", err)
	}

	// Validator 9 signs two headers of epoch 0.
	sk9, _ := f.keys.SecretKey(9)
	header := func(slot types.Slot, body byte) types.BeaconBlockHeader {
		h := types.BeaconBlockHeader{Slot: slot, BodyRoot: types.Root{body}}
		h.Signature = types.BLSSignature(sk9.Sign(h.SigningRoot(), f.tr.Domain(st, f.cfg.DomainBeaconProposer, 0)).Bytes())
		return h
	}
	ps := &types.ProposerSlashing{ProposerIndex: 9, Header1: header(3, 1), Header2: header(3, 2)}
	if err := s.AddProposerSlashing(ps); err != nil {
		t.Fatal(err)
	}
	notSlashable := &types.ProposerSlashing{ProposerIndex: 9, Header1: header(3, 1), Header2: header(3, 1)}
	if err := s.AddProposerSlashing(notSlashable); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("second slashing of validator 9: %v", err)
	}

	pre := st.Copy()
	if err := f.tr.ProcessSlots(pre, 2); err != nil {
		t.Fatal(err)
	}
	ops := s.OperationsForBlock(pre)
	if len(ops.VoluntaryExits) != 1 || len(ops.ProposerSlashings) != 1 {
		t.Fatalf("operations for block: %+v", ops)
	}

	// A block including them empties the pools.
	b, _ := f.block(t, st, 2, nil, 0)
	b.Body.VoluntaryExits = ops.VoluntaryExits
	b.Body.ProposerSlashings = ops.ProposerSlashings
	resign(t, f, st, b)
	s.OnTick(f.slotTime(2))
	if _, err := s.ImportBlock(b, core.VerifySigs); err != nil {
		t.Fatal(err)
	}
	if ops := s.OperationsForBlock(pre); !ops.Empty() {
		t.Fatalf("pools not emptied by inclusion: %+v", ops)
	}
}

// resign recomputes b's state root on pre and signs it again.
func resign(t testing.TB, f *fixture, pre *types.BeaconState, b *types.ShardBeaconBlock) {
	t.Helper()
	st := pre.Copy()
	if err := f.tr.ProcessSlots(st, b.Slot); err != nil {
		t.Fatal(err)
	}
	proposer, err := f.tr.BeaconProposerIndex(st)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.tr.ProcessShardBeaconBlock(st, b, core.SkipSigs); err != nil {
		t.Fatal(err)
	}
	if b.StateRoot, err = st.HashTreeRoot(); err != nil {
		t.Fatal(err)
	}
	sk, ok := f.keys.SecretKeyOf(st.Validators[proposer].Pubkey)
	if !ok {
		t.Fatal("no proposer key")
	}
	r, _ := b.SigningRoot()
	epoch := f.tr.CurrentEpoch(st)
	b.Signature = types.BLSSignature(sk.Sign(r, f.tr.Domain(st, f.cfg.DomainBeaconProposer, epoch)).Bytes())
}

func TestFraudProofPool(t *testing.T) {
	t.Parallel()
	f := defaultFixture(t)
	s := f.newService(t, memDB(t))
	seg := f.build(t, f.genesis, 1, 1, false)
	importSeg(t, f, s, seg)

	for _, p := range [][]byte{fakeProof(3, 1), fakeProof(4, 1), fakeProof(5, 1)} {
		if err := s.AddFraudProof(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddFraudProof(fakeProof(3, 1)); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("duplicate proof: %v", err)
	}
	if err := s.AddFraudProof([]byte{1, 2, 3}); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("malformed proof: %v", err)
	}
	if err := s.AddFraudProof(make([]byte, params.MaxShardFraudProofBytes+1)); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("oversized proof: %v", err)
	}
	// A proof may reference the head block: it is checked as the next
	// block would process it, one slot on.
	_, head := s.Head()
	if err := s.AddFraudProof(fakeProofAt(6, 1, head)); err != nil {
		t.Fatalf("proof referencing the head slot %d: %v", head, err)
	}
	if err := s.AddFraudProof(fakeProofAt(7, 1, head+1)); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("proof referencing a slot after the head: %v", err)
	}
	pre := seg.states[0].Copy()
	if err := f.tr.ProcessSlots(pre, 2); err != nil {
		t.Fatal(err)
	}
	proofs := s.FraudProofsForBlock(pre)
	if len(proofs) != params.MaxShardFraudProofs {
		t.Fatalf("%d proofs for a block, want %d", len(proofs), params.MaxShardFraudProofs)
	}
	b, _, err := validator.ProduceShardBeaconBlock(f.tr, seg.states[0], 2, f.keys, nil, types.Root{}, proofs)
	if err != nil {
		t.Fatal(err)
	}
	s.OnTick(f.slotTime(2))
	if _, err := s.ImportBlock(b, core.VerifySigs); err != nil {
		t.Fatal(err)
	}
	// The included proofs are gone; the other two remain and still apply.
	st := s.HeadState()
	if err := f.tr.ProcessSlots(st, 3); err != nil {
		t.Fatal(err)
	}
	left := s.FraudProofsForBlock(st)
	if len(left) != 2 || string(left[0]) != string(fakeProof(5, 1)) || string(left[1]) != string(fakeProofAt(6, 1, head)) {
		t.Fatalf("proofs left: %x", left)
	}
	// A proof that no longer applies (offender already slashed) is dropped.
	if err := s.AddFraudProof(fakeProof(3, 2)); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("proof against a slashed validator: %v", err)
	}
}
