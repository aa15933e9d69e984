package forkchoice

import (
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/types"
)

// attFixture is a store with genesis, a1 (slot 1) and a9 (slot 9, epoch 1),
// signed, with the clock at slot 20.
type attFixture struct {
	c      *chain
	s      *Store
	a1, a9 types.Root
}

func newAttFixture(t *testing.T) *attFixture {
	t.Helper()
	c := newChain(t)
	c.sign = true
	s := c.store()
	_, a1 := c.build(c.genesisRoot, 1, 0)
	_, a9 := c.build(a1, 9, 0)
	addBlocks(t, c, s, a1, a9)
	s.OnTick(c.slotTime(20))
	return &attFixture{c: c, s: s, a1: a1, a9: a9}
}

// clone returns a deep enough copy of a to modify.
func clone(a *types.Attestation) *types.Attestation {
	b := *a
	b.AggregationBits = slices.Clone(a.AggregationBits)
	b.CustodyBits = slices.Clone(a.CustodyBits)
	return &b
}

func TestOnAttestation(t *testing.T) {
	for _, tc := range []struct {
		name string
		// prepare returns the attestation and policy; it may set the clock.
		prepare func(t *testing.T, f *attFixture) (*types.Attestation, core.Sigs)
		want    error // nil: accepted
	}{
		{"epoch 0 vote, signature verified", func(t *testing.T, f *attFixture) (*types.Attestation, core.Sigs) {
			return f.c.attest(f.a1, 2, nil)[0], core.VerifySigs
		}, nil},
		{"epoch 1 vote with a new checkpoint state", func(t *testing.T, f *attFixture) (*types.Attestation, core.Sigs) {
			return f.c.attest(f.a9, 10, nil)[0], core.VerifySigs
		}, nil},
		{"exactly when its slot ends", func(t *testing.T, f *attFixture) (*types.Attestation, core.Sigs) {
			f.s.OnTick(f.c.slotTime(10))
			return f.c.attest(f.a9, 9, nil)[0], core.SkipSigs
		}, nil},
		{"vote for an unknown block", func(t *testing.T, f *attFixture) (*types.Attestation, core.Sigs) {
			_, x := f.c.build(f.a1, 3, 9) // never added
			return f.c.attest(x, 4, nil)[0], core.VerifySigs
		}, nil},

		{"nil attestation", func(t *testing.T, f *attFixture) (*types.Attestation, core.Sigs) {
			return nil, core.SkipSigs
		}, ErrMalformed},
		{"unknown target", func(t *testing.T, f *attFixture) (*types.Attestation, core.Sigs) {
			a := clone(f.c.attest(f.a1, 2, nil)[0])
			a.Data.Target.Root = types.Root{0xde, 0xad}
			return a, core.SkipSigs
		}, ErrUnknownTarget},
		{"target epoch not started", func(t *testing.T, f *attFixture) (*types.Attestation, core.Sigs) {
			a := f.c.attest(f.a9, 9, nil)[0]
			f.s.OnTick(f.c.slotTime(8) - 1)
			return a, core.SkipSigs
		}, ErrFutureAttestation},
		{"target epoch whose time overflows", func(t *testing.T, f *attFixture) (*types.Attestation, core.Sigs) {
			a := clone(f.c.attest(f.a1, 2, nil)[0])
			a.Data.Target.Epoch = 1 << 61 // its start slot wraps a uint64
			return a, core.SkipSigs
		}, ErrFutureAttestation},
		{"during its own slot", func(t *testing.T, f *attFixture) (*types.Attestation, core.Sigs) {
			a := f.c.attest(f.a9, 9, nil)[0]
			f.s.OnTick(f.c.slotTime(9))
			return a, core.SkipSigs
		}, ErrFutureAttestation},
		{"one second before its slot ends", func(t *testing.T, f *attFixture) (*types.Attestation, core.Sigs) {
			a := f.c.attest(f.a9, 9, nil)[0]
			f.s.OnTick(f.c.slotTime(10) - 1)
			return a, core.SkipSigs
		}, ErrFutureAttestation},
		{"target epoch before the target block", func(t *testing.T, f *attFixture) (*types.Attestation, core.Sigs) {
			a := clone(f.c.attest(f.a9, 10, nil)[0])
			a.Data.Target = types.Checkpoint{Epoch: 0, Root: f.a9}
			return a, core.SkipSigs
		}, core.ErrInvalidSlot},
		{"custody bit set", func(t *testing.T, f *attFixture) (*types.Attestation, core.Sigs) {
			a := clone(f.c.attest(f.a1, 2, nil)[0])
			a.CustodyBits = slices.Clone(a.AggregationBits)
			return a, core.SkipSigs
		}, core.ErrInvalidOperation},
		{"custody bit of a non-attester", func(t *testing.T, f *attFixture) (*types.Attestation, core.Sigs) {
			_, com := f.c.committees(f.a1, 2)
			a := clone(f.c.attest(f.a1, 2, in(com[0][0]))[0])
			a.CustodyBits[0] |= 2
			return a, core.SkipSigs
		}, core.ErrInvalidOperation},
		{"bitlist shorter than the committee", func(t *testing.T, f *attFixture) (*types.Attestation, core.Sigs) {
			a := clone(f.c.attest(f.a1, 2, nil)[0])
			a.AggregationBits = []byte{0x01 | 0x10} // 4 bits for a committee of 8
			return a, core.SkipSigs
		}, core.ErrInvalidOperation},
		{"bitlist without delimiter", func(t *testing.T, f *attFixture) (*types.Attestation, core.Sigs) {
			a := clone(f.c.attest(f.a1, 2, nil)[0])
			a.AggregationBits = nil
			return a, core.SkipSigs
		}, core.ErrInvalidOperation},
		{"shard out of range", func(t *testing.T, f *attFixture) (*types.Attestation, core.Sigs) {
			a := clone(f.c.attest(f.a1, 2, nil)[0])
			a.Data.Crosslink.Shard = 1 << 40
			return a, core.SkipSigs
		}, core.ErrInvalid},
		{"signature over other data", func(t *testing.T, f *attFixture) (*types.Attestation, core.Sigs) {
			a := clone(f.c.attest(f.a1, 2, nil)[0])
			a.Data.BeaconBlockRoot = f.c.genesisRoot
			return a, core.VerifySigs
		}, core.ErrInvalidSignature},
		{"signature of fewer validators", func(t *testing.T, f *attFixture) (*types.Attestation, core.Sigs) {
			_, com := f.c.committees(f.a1, 2)
			a := clone(f.c.attest(f.a1, 2, in(com[0][:3]...))[0])
			a.AggregationBits = f.c.attest(f.a1, 2, nil)[0].AggregationBits
			return a, core.VerifySigs
		}, core.ErrInvalidSignature},
		{"malformed signature", func(t *testing.T, f *attFixture) (*types.Attestation, core.Sigs) {
			a := clone(f.c.attest(f.a1, 2, nil)[0])
			a.Signature = types.BLSSignature{0xff, 0xff}
			return a, core.VerifySigs
		}, core.ErrInvalidSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newAttFixture(t)
			a, sigs := tc.prepare(t, f)
			before := viewOf(t, f.s)
			err := f.s.OnAttestation(a, sigs)
			if tc.want != nil {
				if !errors.Is(err, tc.want) || !errors.Is(err, core.ErrInvalid) {
					t.Fatalf("OnAttestation error = %v; want %v (and core.ErrInvalid)", err, tc.want)
				}
				if diff := cmp.Diff(before, viewOf(t, f.s)); diff != "" {
					t.Errorf("rejected attestation changed the store (-before +after):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("OnAttestation: %v", err)
			}
			// Every attester now has this latest message.
			st := f.c.attState(a.Data.BeaconBlockRoot, core.ComputeStartSlotOfEpoch(f.c.cfg, a.Data.Target.Epoch))
			idx, err := f.c.tr.AttestingIndices(st, &a.Data, a.AggregationBits)
			if err != nil {
				t.Fatal(err)
			}
			want := map[types.ValidatorIndex]LatestMessage{}
			for _, i := range idx {
				want[i] = LatestMessage{Epoch: a.Data.Target.Epoch, Root: a.Data.BeaconBlockRoot}
			}
			if diff := cmp.Diff(want, snapshot(f.s).latestMessages); diff != "" {
				t.Errorf("latest messages (-want +got):\n%s", diff)
			}
			// The target's checkpoint state is its block state advanced to
			// the epoch start.
			cs, ok := f.s.CheckpointState(a.Data.Target)
			if !ok {
				t.Fatalf("no checkpoint state for the target")
			}
			wantState := f.c.stateAt(a.Data.Target.Root, core.ComputeStartSlotOfEpoch(f.c.cfg, a.Data.Target.Epoch))
			got, _ := cs.HashTreeRoot()
			if w, _ := wantState.HashTreeRoot(); got != w {
				t.Errorf("checkpoint state root %s, want %s", got, w)
			}
		})
	}
}

// TestOnAttestationAddsGenesisTime pins the deviation from the v0.8.3 text:
// with the spec's `store.time >= (attestation_slot + 1) * SECONDS_PER_SLOT`
// an attestation would pass as soon as the target epoch started, since the
// genesis time dwarfs the slot times.
func TestOnAttestationAddsGenesisTime(t *testing.T) {
	f := newAttFixture(t)
	a := f.c.attest(f.a9, 15, nil)[0] // the last slot of epoch 1
	specDeadline := uint64(15+1) * f.c.cfg.SecondsPerSlot
	f.s.OnTick(f.c.slotTime(8)) // epoch 1 has started; slot 15 has not ended
	if f.s.Time() < specDeadline {
		t.Fatalf("genesis time %d too small for this test", f.c.genesis.GenesisTime)
	}
	if err := f.s.OnAttestation(a, core.SkipSigs); !errors.Is(err, ErrFutureAttestation) {
		t.Fatalf("OnAttestation before its slot ended = %v, want ErrFutureAttestation", err)
	}
	f.s.OnTick(f.c.slotTime(16))
	if err := f.s.OnAttestation(a, core.SkipSigs); err != nil {
		t.Fatalf("OnAttestation after its slot: %v", err)
	}
}
