package store_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/store"
	"github.com/shardlab/shardlab/beacon/store/kv"
	"github.com/shardlab/shardlab/beacon/types"
)

// The minimal preset has 8 slots per epoch.

type proposal struct {
	validator types.ValidatorIndex
	slot      types.Slot
	root      byte
	want      error // nil, ErrSlashable
}

func TestProposalProtection(t *testing.T) {
	cases := []struct {
		name string
		seq  []proposal
	}{
		{"first proposal", []proposal{{1, 10, 1, nil}}},
		{"identical repeat", []proposal{{1, 10, 1, nil}, {1, 10, 1, nil}, {1, 10, 1, nil}}},
		{"double proposal", []proposal{{1, 10, 1, nil}, {1, 10, 2, store.ErrSlashable}}},
		{"refused proposal is not recorded", []proposal{{1, 10, 1, nil}, {1, 10, 2, store.ErrSlashable}, {1, 10, 1, nil}}},
		{"same epoch later slot (v0.8.3 slashable)", []proposal{{1, 9, 1, nil}, {1, 15, 2, store.ErrSlashable}}},
		{"same epoch earlier slot", []proposal{{1, 15, 1, nil}, {1, 9, 2, store.ErrSlashable}}},
		{"next epoch", []proposal{{1, 15, 1, nil}, {1, 16, 2, nil}, {1, 24, 3, nil}}},
		{"earlier epoch", []proposal{{1, 16, 1, nil}, {1, 7, 2, store.ErrSlashable}}},
		{"old identical after a newer one", []proposal{{1, 7, 1, nil}, {1, 16, 2, nil}, {1, 7, 1, store.ErrSlashable}}},
		{"validators are independent", []proposal{{1, 10, 1, nil}, {2, 10, 2, nil}, {3, 9, 3, nil}, {2, 11, 4, store.ErrSlashable}}},
		{"slot 0", []proposal{{0, 0, 1, nil}, {0, 0, 2, store.ErrSlashable}, {0, 8, 2, nil}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, _ := newStore(t)
			for i, p := range c.seq {
				err := s.CheckAndRecordProposal(p.validator, p.slot, root(p.root))
				if (p.want == nil) != (err == nil) || (p.want != nil && !errors.Is(err, p.want)) {
					t.Fatalf("step %d (validator %d, slot %d, root %d): %v, want %v", i, p.validator, p.slot, p.root, err, p.want)
				}
			}
		})
	}
}

type attestation struct {
	validator      types.ValidatorIndex
	source, target types.Epoch
	root           byte
	want           error // nil, ErrSlashable, ErrInvalidArgument
}

func TestAttestationProtection(t *testing.T) {
	cases := []struct {
		name string
		seq  []attestation
	}{
		{"first", []attestation{{1, 2, 3, 1, nil}}},
		{"identical repeat", []attestation{{1, 2, 3, 1, nil}, {1, 2, 3, 1, nil}}},
		{"double vote", []attestation{{1, 2, 3, 1, nil}, {1, 2, 3, 2, store.ErrSlashable}}},
		{"double vote other source", []attestation{{1, 2, 3, 1, nil}, {1, 1, 3, 2, store.ErrSlashable}}},
		{"new surrounds old", []attestation{{1, 3, 4, 1, nil}, {1, 2, 5, 2, store.ErrSlashable}}},
		{"old surrounds new", []attestation{{1, 1, 5, 1, nil}, {1, 2, 4, 2, store.ErrSlashable}}},
		{"surrounded with a lower target, same source", []attestation{{1, 1, 5, 1, nil}, {1, 1, 4, 2, store.ErrSlashable}}},
		{"monotone chain", []attestation{{1, 0, 0, 1, nil}, {1, 0, 1, 2, nil}, {1, 1, 2, 3, nil}, {1, 1, 3, 4, nil}, {1, 3, 4, 5, nil}}},
		{"source jumps ahead", []attestation{{1, 0, 1, 1, nil}, {1, 5, 6, 2, nil}}},
		{"source goes back (refused: could surround)", []attestation{{1, 3, 4, 1, nil}, {1, 2, 6, 2, store.ErrSlashable}}},
		{"older target, no conflict (refused: minimal rule)", []attestation{{1, 3, 6, 1, nil}, {1, 1, 2, 2, store.ErrSlashable}}},
		{"source after target", []attestation{{1, 4, 3, 1, store.ErrInvalidArgument}, {1, 3, 4, 1, nil}}},
		{"validators are independent", []attestation{{1, 2, 3, 1, nil}, {2, 2, 3, 2, nil}, {2, 2, 3, 3, store.ErrSlashable}, {1, 3, 4, 4, nil}}},
		{"refused attestation is not recorded", []attestation{{1, 2, 3, 1, nil}, {1, 2, 3, 2, store.ErrSlashable}, {1, 2, 3, 1, nil}, {1, 2, 4, 3, nil}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, _ := newStore(t)
			for i, a := range c.seq {
				err := s.CheckAndRecordAttestation(a.validator, a.source, a.target, root(a.root))
				if (a.want == nil) != (err == nil) || (a.want != nil && !errors.Is(err, a.want)) {
					t.Fatalf("step %d (validator %d, %d->%d, root %d): %v, want %v", i, a.validator, a.source, a.target, a.root, err, a.want)
				}
			}
		})
	}
}

// TestProtectionPersists checks that the records survive closing and
// reopening the database, on disk.
func TestProtectionPersists(t *testing.T) {
	dir := t.TempDir()
	open := func() (*store.Store, kv.DB) {
		db, err := kv.OpenPebble(dir, kv.PebbleOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s, err := store.New(db, params.Minimal())
		if err != nil {
			t.Fatal(err)
		}
		return s, db
	}
	s, db := open()
	for v := range types.ValidatorIndex(4) {
		if err := s.CheckAndRecordAttestation(v, 3, 5, root(byte(v))); err != nil {
			t.Fatal(err)
		}
		if err := s.CheckAndRecordProposal(v, 40+types.Slot(v), root(byte(v))); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, db = open()
	defer db.Close()
	checks := []struct {
		name string
		err  error
		want error
	}{
		{"double vote", s.CheckAndRecordAttestation(0, 3, 5, root(9)), store.ErrSlashable},
		{"surround", s.CheckAndRecordAttestation(1, 2, 6, root(9)), store.ErrSlashable},
		{"surrounded", s.CheckAndRecordAttestation(2, 4, 4, root(9)), store.ErrSlashable},
		{"identical attestation", s.CheckAndRecordAttestation(3, 3, 5, root(3)), nil},
		{"double proposal", s.CheckAndRecordProposal(0, 40, root(9)), store.ErrSlashable},
		{"same epoch proposal", s.CheckAndRecordProposal(1, 47, root(9)), store.ErrSlashable},
		{"identical proposal", s.CheckAndRecordProposal(2, 42, root(2)), nil},
		{"next epoch proposal", s.CheckAndRecordProposal(3, 48, root(9)), nil},
	}
	for _, c := range checks {
		if (c.want == nil) != (c.err == nil) || (c.want != nil && !errors.Is(c.err, c.want)) {
			t.Errorf("%s after reopen: %v, want %v", c.name, c.err, c.want)
		}
	}
	rec, err := s.LastAttestation(1)
	if err != nil || rec != (store.AttestationRecord{Source: 3, Target: 5, SigningRoot: root(1)}) {
		t.Fatalf("LastAttestation(1) = %+v, %v", rec, err)
	}
	prop, err := s.LastProposal(3)
	if err != nil || prop != (store.ProposalRecord{Slot: 48, SigningRoot: root(9)}) {
		t.Fatalf("LastProposal(3) = %+v, %v", prop, err)
	}
	if _, err := s.LastProposal(99); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("LastProposal of a validator that never proposed: %v", err)
	}
}

// slashableData is is_slashable_attestation_data (core.IsSlashableAttestationData)
// on attestations identified by (source, target, root): a double vote is
// different data with the same target epoch, a surround is s1 < s2 and t2 < t1.
func slashableData(a, b attestation) bool {
	double := (a.source != b.source || a.root != b.root) && a.target == b.target
	surround := a.source < b.source && b.target < a.target
	return double || surround
}

// TestAttestationProtectionProperty signs random attestation sequences and
// checks every accepted attestation against all previously accepted ones with
// the brute-force slashability predicate, in both orders. It also checks that
// the rule is not vacuous: a vote that moves strictly forward is accepted.
func TestAttestationProtectionProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 7))
	for seq := range 200 {
		t.Run(fmt.Sprint(seq), func(t *testing.T) {
			s, _ := newStoreOn(t, kv.NewMemory(), params.Minimal())
			var accepted []attestation
			var maxSource, maxTarget types.Epoch
			spread := types.Epoch(2 + rng.IntN(12))
			for step := range 60 {
				a := attestation{validator: 5, root: byte(rng.IntN(3))}
				if rng.IntN(4) == 0 && len(accepted) > 0 {
					a = accepted[rng.IntN(len(accepted))] // retry an old one
				} else {
					a.target = types.Epoch(rng.IntN(int(spread)))
					a.source = types.Epoch(rng.IntN(int(a.target) + 1))
				}
				err := s.CheckAndRecordAttestation(a.validator, a.source, a.target, root(a.root))
				if err != nil && !errors.Is(err, store.ErrSlashable) {
					t.Fatalf("step %d: unexpected error %v", step, err)
				}
				forward := len(accepted) == 0 || (a.source >= maxSource && a.target > maxTarget)
				if forward && err != nil {
					t.Fatalf("step %d: forward vote %d->%d refused: %v", step, a.source, a.target, err)
				}
				if err != nil {
					continue
				}
				for _, b := range accepted {
					if slashableData(a, b) || slashableData(b, a) {
						t.Fatalf("step %d: accepted %d->%d (root %d), slashable with the accepted %d->%d (root %d)",
							step, a.source, a.target, a.root, b.source, b.target, b.root)
					}
				}
				accepted = append(accepted, a)
				maxSource, maxTarget = max(maxSource, a.source), max(maxTarget, a.target)
			}
		})
	}
}

// TestProposalProtectionProperty does the same for proposals: no two
// accepted, different proposals are in the same epoch (v0.8.3's proposer
// slashing condition).
func TestProposalProtectionProperty(t *testing.T) {
	const slotsPerEpoch = 8
	rng := rand.New(rand.NewPCG(3, 9))
	for seq := range 200 {
		s, _ := newStoreOn(t, kv.NewMemory(), params.Minimal())
		type signed struct {
			slot types.Slot
			root byte
		}
		var accepted []signed
		for step := range 50 {
			p := signed{types.Slot(rng.IntN(64)), byte(rng.IntN(3))}
			if rng.IntN(4) == 0 && len(accepted) > 0 {
				p = accepted[rng.IntN(len(accepted))]
			}
			err := s.CheckAndRecordProposal(9, p.slot, root(p.root))
			if err != nil && !errors.Is(err, store.ErrSlashable) {
				t.Fatalf("seq %d step %d: unexpected error %v", seq, step, err)
			}
			if err != nil {
				continue
			}
			for _, q := range accepted {
				if p != q && p.slot/slotsPerEpoch == q.slot/slotsPerEpoch {
					t.Fatalf("seq %d step %d: accepted slot %d root %d and slot %d root %d in one epoch", seq, step, p.slot, p.root, q.slot, q.root)
				}
			}
			accepted = append(accepted, p)
		}
	}
}

// TestProtectionConcurrent races signers of conflicting attestations and
// proposals for one validator: exactly one of each conflicting set wins.
func TestProtectionConcurrent(t *testing.T) {
	s, _ := newStore(t)
	const n = 16
	var wg sync.WaitGroup
	var mu sync.Mutex
	attOK, propOK := 0, 0
	for i := range n {
		wg.Go(func() {
			errA := s.CheckAndRecordAttestation(1, 4, 5, root(byte(i)))
			errP := s.CheckAndRecordProposal(1, 44, root(byte(i)))
			mu.Lock()
			defer mu.Unlock()
			if errA == nil {
				attOK++
			} else if !errors.Is(errA, store.ErrSlashable) {
				t.Errorf("attestation %d: %v", i, errA)
			}
			if errP == nil {
				propOK++
			} else if !errors.Is(errP, store.ErrSlashable) {
				t.Errorf("proposal %d: %v", i, errP)
			}
		})
	}
	wg.Wait()
	if attOK != 1 || propOK != 1 {
		t.Fatalf("%d attestations and %d proposals accepted, want 1 each", attOK, propOK)
	}
}

// TestProtectionWriteFailure: when the record cannot be written the check
// fails, so the caller does not sign.
func TestProtectionWriteFailure(t *testing.T) {
	db := kv.NewMemory()
	s, err := store.New(db, params.Minimal())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckAndRecordAttestation(1, 1, 2, root(1)); !errors.Is(err, kv.ErrClosed) {
		t.Fatalf("attestation on a closed database: %v", err)
	}
	if err := s.CheckAndRecordProposal(1, 1, root(1)); !errors.Is(err, kv.ErrClosed) {
		t.Fatalf("proposal on a closed database: %v", err)
	}
}
