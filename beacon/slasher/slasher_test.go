package slasher

import (
	"errors"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/store/kv"
	"github.com/shardlab/shardlab/beacon/types"
)

func TestAttestations(t *testing.T) {
	t.Parallel()
	type want struct {
		first   int // index of the step whose attestation is Attestation1
		slashed []uint64
	}
	tests := []struct {
		name  string
		steps []*types.IndexedAttestation
		want  *want // slashing of the last step; nil: none at any step
	}{
		{name: "honest sequence", steps: []*types.IndexedAttestation{
			att(0, 1, 1, 5), att(1, 2, 2, 5), att(2, 3, 3, 5), att(3, 4, 4, 5), att(3, 5, 5, 5), att(5, 6, 6, 5),
		}},
		{name: "honest with skipped epochs", steps: []*types.IndexedAttestation{
			att(1, 4, 1, 5), att(4, 5, 2, 5), att(4, 7, 3, 5), att(7, 9, 4, 5),
		}},
		{name: "same data twice", steps: []*types.IndexedAttestation{att(1, 2, 1, 5), att(1, 2, 1, 5)}},
		{name: "same data, other aggregate", steps: []*types.IndexedAttestation{att(1, 2, 1, 5, 6), att(1, 2, 1, 5, 7)}},
		{name: "lower source and target", steps: []*types.IndexedAttestation{att(2, 4, 1, 5), att(1, 3, 2, 5)}},
		{name: "higher source and target", steps: []*types.IndexedAttestation{att(1, 3, 1, 5), att(2, 4, 2, 5)}},
		{name: "other validators", steps: []*types.IndexedAttestation{att(2, 3, 1, 5), att(1, 4, 2, 6), att(2, 3, 3, 7)}},
		{name: "double vote", steps: []*types.IndexedAttestation{att(1, 2, 1, 5), att(1, 2, 2, 5)},
			want: &want{first: 0, slashed: []uint64{5}}},
		{name: "double vote, other source", steps: []*types.IndexedAttestation{att(0, 2, 1, 5), att(1, 2, 1, 5)},
			want: &want{first: 0, slashed: []uint64{5}}},
		{name: "double vote in aggregates", steps: []*types.IndexedAttestation{att(1, 2, 1, 4, 5, 6), att(1, 2, 2, 5, 6, 7)},
			want: &want{first: 0, slashed: []uint64{5, 6}}},
		{name: "surrounding", steps: []*types.IndexedAttestation{att(2, 3, 1, 5), att(1, 4, 2, 5)},
			want: &want{first: 1, slashed: []uint64{5}}},
		{name: "surrounding a chain of votes", steps: []*types.IndexedAttestation{
			att(5, 6, 1, 5), att(6, 7, 2, 5), att(7, 8, 3, 5), att(4, 9, 4, 5)},
			want: &want{first: 3, slashed: []uint64{5}}},
		{name: "surrounded", steps: []*types.IndexedAttestation{att(1, 4, 1, 5), att(2, 3, 2, 5)},
			want: &want{first: 0, slashed: []uint64{5}}},
		{name: "surrounded by an old vote", steps: []*types.IndexedAttestation{
			att(0, 12, 1, 5), att(12, 13, 2, 5), att(3, 4, 3, 5)},
			want: &want{first: 0, slashed: []uint64{5}}},
		{name: "surrounded in an aggregate", steps: []*types.IndexedAttestation{att(1, 9, 1, 3, 5), att(2, 3, 2, 1, 3, 5, 8)},
			want: &want{first: 0, slashed: []uint64{3, 5}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newTestSlasher(t, nil, 64)
			for i, a := range tc.steps {
				got, err := s.OnAttestations([]*types.IndexedAttestation{a})
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				last := i == len(tc.steps)-1
				if !last || tc.want == nil {
					if len(got) != 0 {
						t.Fatalf("step %d: false positive %+v", i, got)
					}
					continue
				}
				if len(got) != 1 {
					t.Fatalf("step %d: %d slashings, want 1", i, len(got))
				}
				if first := tc.steps[tc.want.first]; got[0].Attestation1.Data != first.Data {
					t.Fatalf("attestation 1 is %+v, want step %d's", got[0].Attestation1.Data, tc.want.first)
				}
				checkAttesterSlashing(t, got[0], tc.want.slashed)
				// One slashing per offender: the same offence again, or
				// another, builds nothing new.
				again, err := s.OnAttestations([]*types.IndexedAttestation{a, att(0, 19, 9, tc.want.slashed...)})
				if err != nil || len(again) != 0 {
					t.Fatalf("offence repeated: %d slashings, %v", len(again), err)
				}
			}
		})
	}
}

func TestProposals(t *testing.T) {
	t.Parallel()
	cfg := params.Minimal()
	header := func(slot types.Slot, body byte) *types.BeaconBlockHeader {
		return &types.BeaconBlockHeader{Slot: slot, BodyRoot: types.Root{body}}
	}
	tests := []struct {
		name    string
		headers []*types.BeaconBlockHeader
		slash   bool // the last header builds a slashing
	}{
		{name: "one block per slot", headers: []*types.BeaconBlockHeader{header(9, 1), header(10, 2), header(17, 3)}},
		{name: "same block twice", headers: []*types.BeaconBlockHeader{header(9, 1), header(9, 1)}},
		{name: "two slots of one epoch", headers: []*types.BeaconBlockHeader{header(8, 1), header(9, 2)}},
		{name: "double proposal", headers: []*types.BeaconBlockHeader{header(9, 1), header(9, 2)}, slash: true},
		{name: "double proposal, other parent", headers: []*types.BeaconBlockHeader{
			header(9, 1), {Slot: 9, ParentRoot: types.Root{7}, BodyRoot: types.Root{1}}}, slash: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newTestSlasher(t, nil, 64)
			const proposer = 7
			for i, h := range tc.headers {
				ps, err := s.OnProposal(proposer, h)
				if err != nil {
					t.Fatalf("header %d: %v", i, err)
				}
				if want := tc.slash && i == len(tc.headers)-1; (ps != nil) != want {
					t.Fatalf("header %d: slashing %v, want %v", i, ps != nil, want)
				}
				if ps == nil {
					continue
				}
				if ps.ProposerIndex != proposer || ps.Header1 != *tc.headers[0] || ps.Header2 != *h {
					t.Fatalf("wrong evidence %+v", ps)
				}
				g, err := testGenesis()
				if err != nil {
					t.Fatal(err)
				}
				st := g.Copy()
				if err := core.New(cfg).ProcessProposerSlashing(st, ps, core.SkipSigs); err != nil {
					t.Fatalf("evidence rejected by process_proposer_slashing: %v", err)
				}
				if again, err := s.OnProposal(proposer, header(h.Slot, 9)); again != nil || err != nil {
					t.Fatalf("second slashing of one proposer: %v, %v", again, err)
				}
			}
		})
	}
}

// TestRestart records votes and a proposal, closes the Pebble database,
// reopens it and finds the offences that need the records from before.
func TestRestart(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "slasher")
	open := func() kv.DB {
		db, err := kv.OpenPebble(dir, kv.PebbleOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	db := open()
	s := newTestSlasher(t, db, 64)
	if got, err := s.OnAttestations([]*types.IndexedAttestation{
		att(2, 3, 1, 1), att(1, 8, 1, 2), att(4, 5, 1, 3),
	}); err != nil || len(got) != 0 {
		t.Fatalf("first votes: %d slashings, %v", len(got), err)
	}
	if ps, err := s.OnProposal(4, &types.BeaconBlockHeader{Slot: 100}); ps != nil || err != nil {
		t.Fatalf("first proposal: %v, %v", ps, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = open()
	defer db.Close()
	cfg := DefaultConfig()
	cfg.HistoryEpochs = 64
	s, err := New(db, params.Minimal(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if s.Epoch() != testEpoch {
		t.Fatalf("epoch %d after restart, want %d", s.Epoch(), testEpoch)
	}
	tests := []struct {
		name    string
		a       *types.IndexedAttestation
		slashed []uint64
	}{
		{name: "surrounding", a: att(1, 4, 2, 1), slashed: []uint64{1}},
		{name: "surrounded", a: att(2, 7, 2, 2), slashed: []uint64{2}},
		{name: "double vote", a: att(4, 5, 2, 3), slashed: []uint64{3}},
		{name: "honest", a: att(5, 6, 2, 4)},
	}
	for _, tc := range tests {
		got, err := s.OnAttestations([]*types.IndexedAttestation{tc.a})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(got) != min(len(tc.slashed), 1) {
			t.Fatalf("%s: %d slashings", tc.name, len(got))
		}
		if len(got) == 1 {
			checkAttesterSlashing(t, got[0], tc.slashed)
		}
	}
	ps, err := s.OnProposal(4, &types.BeaconBlockHeader{Slot: 100, BodyRoot: types.Root{1}})
	if err != nil || ps == nil {
		t.Fatalf("double proposal across a restart: %v, %v", ps, err)
	}
}

// TestBadInput hands in what no verified message has, and what is outside
// the window or the validator set: each is a clear error, and the good
// attestations of the same call are still processed.
func TestBadInput(t *testing.T) {
	t.Parallel()
	both := att(14, 15, 1, 3, 5)
	both.CustodyBit1Indices = []uint64{5}
	many := make([]uint64, params.Minimal().MaxValidatorsPerCommittee+1)
	for i := range many {
		many[i] = uint64(i)
	}
	tests := []struct {
		name string
		a    *types.IndexedAttestation
		want error
	}{
		{name: "nil", a: nil, want: ErrMalformed},
		{name: "source after target", a: att(15, 14, 1, 1), want: ErrMalformed},
		{name: "no indices", a: att(14, 15, 1), want: ErrMalformed},
		{name: "unsorted", a: att(14, 15, 1, 5, 3), want: ErrMalformed},
		{name: "repeated index", a: att(14, 15, 1, 3, 3), want: ErrMalformed},
		{name: "index with both custody bits", a: both, want: ErrMalformed},
		{name: "too many indices", a: att(14, 15, 1, many...), want: ErrMalformed},
		{name: "target in the future", a: att(1, testEpoch+2, 1, 1), want: ErrOutOfWindow},
		{name: "huge epochs", a: att(1<<63, 1<<64-1, 1, 1), want: ErrOutOfWindow},
		{name: "source before the window", a: att(1, 15, 1, 1), want: ErrOutOfWindow},
		{name: "unknown validator", a: att(14, 15, 1, testValidators), want: ErrUnknownValidator},
		{name: "huge validator index", a: att(14, 15, 1, 1<<64-1), want: ErrUnknownValidator},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newTestSlasher(t, nil, 8) // window [12, 21]
			got, err := s.OnAttestations([]*types.IndexedAttestation{att(13, 14, 1, 9), tc.a, att(13, 14, 2, 9)})
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if len(got) != 1 {
				t.Fatalf("%d slashings from the good attestations, want 1", len(got))
			}
		})
	}
	s := newTestSlasher(t, nil, 8)
	for _, tc := range []struct {
		name     string
		proposer types.ValidatorIndex
		h        *types.BeaconBlockHeader
		want     error
	}{
		{name: "nil header", h: nil, want: ErrMalformed},
		{name: "slot before the window", h: &types.BeaconBlockHeader{Slot: 8}, want: ErrOutOfWindow},
		{name: "slot in the future", h: &types.BeaconBlockHeader{Slot: 1 << 62}, want: ErrOutOfWindow},
		{name: "unknown proposer", proposer: testValidators, h: &types.BeaconBlockHeader{Slot: 160}, want: ErrUnknownValidator},
	} {
		if _, err := s.OnProposal(tc.proposer, tc.h); !errors.Is(err, tc.want) {
			t.Fatalf("%s: error %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := New(nil, params.Minimal(), DefaultConfig()); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("no database: %v", err)
	}
	for _, h := range []uint64{0, MaxHistoryEpochs + 1} {
		if err := (Config{HistoryEpochs: h, MaxCachedChunks: 1}).Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Fatalf("history %d: %v", h, err)
		}
	}
}

// TestPruning moves the window past recorded votes and proposals: their
// records are deleted, and input that old is refused.
func TestPruning(t *testing.T) {
	t.Parallel()
	db, err := kv.OpenPebbleMem()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := newTestSlasher(t, db, 8) // window [12, 21]
	if _, err := s.OnAttestations([]*types.IndexedAttestation{att(12, 13, 1, 1, 2), att(13, 19, 1, 3)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OnProposal(1, &types.BeaconBlockHeader{Slot: 12 * 8}); err != nil {
		t.Fatal(err)
	}
	if err := s.Advance(testEpoch+32, testValidators); err != nil { // window [44, 53]: chunks before 48 go
		t.Fatal(err)
	}
	for _, p := range [][]byte{prefixVote, prefixRecord, prefixProposal, prefixMinSpan, prefixMaxSpan} {
		n := 0
		if err := db.Iterate(p, func(_, _ []byte) (bool, error) { n++; return true, nil }); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d keys left under %q", n, p)
		}
	}
	if _, err := s.OnAttestations([]*types.IndexedAttestation{att(40, 41, 2, 1)}); !errors.Is(err, ErrOutOfWindow) {
		t.Fatalf("vote before the window: %v", err)
	}
}

// TestAgainstBruteForce compares the slasher with a direct search over
// every earlier vote (is_slashable_attestation_data both ways) on random
// single-validator votes near each other.
func TestAgainstBruteForce(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 40 {
		s := newTestSlasher(t, nil, 16) // window [4, 21]
		seen := map[uint64][]types.AttestationData{}
		reported := map[uint64]bool{}
		for i := range 60 {
			v := uint64(rng.IntN(4))
			src := types.Epoch(4 + rng.IntN(14))
			tgt := src + types.Epoch(rng.IntN(4))
			a := att(src, tgt, byte(rng.IntN(2)), v)
			want := false
			for _, d := range seen[v] {
				if core.IsSlashableAttestationData(&d, &a.Data) || core.IsSlashableAttestationData(&a.Data, &d) {
					want = true
				}
			}
			want = want && !reported[v]
			got, err := s.OnAttestations([]*types.IndexedAttestation{a})
			if err != nil {
				t.Fatal(err)
			}
			if (len(got) > 0) != want {
				t.Fatalf("round %d vote %d (%d: %d->%d root %x): slashing %v, want %v; earlier %+v",
					round, i, v, src, tgt, a.Data.BeaconBlockRoot[0], len(got) > 0, want, seen[v])
			}
			for _, as := range got {
				checkAttesterSlashing(t, as, []uint64{v})
			}
			if want {
				reported[v] = true
			}
			seen[v] = append(seen[v], a.Data)
		}
	}
}
