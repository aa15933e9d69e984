package types

import (
	"math/rand/v2"
	"testing"

	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/crypto/hash"
)

func randRoot(r *rand.Rand) Root {
	var x Root
	for i := range x {
		x[i] = byte(r.IntN(256))
	}
	return x
}

// mutate applies one random change of the kinds the state transition makes.
func mutate(r *rand.Rand, s *BeaconState) {
	switch r.IntN(12) {
	case 0:
		s.Slot++
		s.StateRoots[int(s.Slot)%len(s.StateRoots)] = randRoot(r)
	case 1:
		s.BlockRoots[r.IntN(len(s.BlockRoots))] = randRoot(r)
	case 2: // append validators (deposits)
		for k := r.IntN(5) + 1; k > 0; k-- {
			var pk BLSPubkey
			rr := randRoot(r)
			copy(pk[:], rr[:])
			s.Validators = append(s.Validators, Validator{Pubkey: pk, ExitEpoch: FarFutureEpoch})
			s.Balances = append(s.Balances, Gwei(r.Uint64()))
		}
	case 3:
		if n := len(s.Validators); n > 0 {
			v := &s.Validators[r.IntN(n)]
			v.Slashed = !v.Slashed
			v.EffectiveBalance = Gwei(r.Uint64())
		}
	case 4:
		if n := len(s.Balances); n > 0 {
			for k := 0; k < 10; k++ {
				s.Balances[r.IntN(n)] = Gwei(r.Uint64())
			}
		}
	case 5:
		s.RandaoMixes[r.IntN(len(s.RandaoMixes))] = randRoot(r)
		s.Slashings[r.IntN(len(s.Slashings))] = Gwei(r.Uint64())
	case 6: // grow pending attestations
		for k := r.IntN(7) + 1; k > 0; k-- {
			bits := []byte{byte(r.IntN(255)) | 1, 1}
			s.CurrentEpochAttestations = append(s.CurrentEpochAttestations, PendingAttestation{AggregationBits: bits, InclusionDelay: Slot(r.IntN(8))})
		}
	case 7: // epoch rotation: lists move and shrink
		s.PreviousEpochAttestations = s.CurrentEpochAttestations
		s.CurrentEpochAttestations = nil
		s.Eth1DataVotes = nil
	case 8:
		s.Eth1DataVotes = append(s.Eth1DataVotes, Eth1Data{DepositRoot: randRoot(r), DepositCount: r.Uint64()})
	case 9:
		s.CurrentCrosslinks[r.IntN(len(s.CurrentCrosslinks))].DataRoot = randRoot(r)
		copy(s.PreviousCrosslinks, s.CurrentCrosslinks)
	case 10:
		s.HistoricalRoots = append(s.HistoricalRoots, randRoot(r))
		s.JustificationBits = JustificationBits(r.IntN(16))
	case 11: // truncate a pending list in the middle
		if n := len(s.PreviousEpochAttestations); n > 0 {
			s.PreviousEpochAttestations = s.PreviousEpochAttestations[:r.IntN(n)]
		}
	}
}

func TestIncrementalRootMatchesFresh(t *testing.T) {
	cfg := params.Minimal()
	for seed := uint64(0); seed < 40; seed++ {
		r := rand.New(rand.NewPCG(seed, 1))
		s := NewBeaconState(cfg)
		for step := 0; step < 60; step++ {
			for k := r.IntN(4); k >= 0; k-- {
				mutate(r, s)
			}
			got, err := s.HashTreeRoot()
			if err != nil {
				t.Fatal(err)
			}
			fresh := s.Copy()
			fresh.DropCache()
			want, _ := fresh.HashTreeRoot()
			if got != want {
				t.Fatalf("seed %d step %d: cached root %s, fresh %s", seed, step, got, want)
			}
			if step%7 == 0 { // copies keep hashing incrementally and independently
				c := s.Copy()
				mutate(r, c)
				cr, _ := c.HashTreeRoot()
				c.DropCache()
				if cw, _ := c.HashTreeRoot(); cr != cw {
					t.Fatalf("seed %d step %d: copy root diverged", seed, step)
				}
			}
		}
	}
}

func TestStateShapeErrors(t *testing.T) {
	cfg := params.Minimal()
	s := NewBeaconState(cfg)
	s.BlockRoots = s.BlockRoots[:3]
	if _, err := s.MarshalSSZ(); err == nil {
		t.Error("short block_roots encoded")
	}
	if _, err := s.HashTreeRoot(); err == nil {
		t.Error("short block_roots hashed")
	}
	var empty BeaconState
	if err := empty.UnmarshalSSZ(make([]byte, 100)); err == nil {
		t.Error("state without config decoded")
	}
	if _, err := UnmarshalBeaconState(cfg, make([]byte, 10)); err == nil {
		t.Error("10-byte state decoded")
	}
}

// TestStateBranches proves state_roots entries and current crosslinks
// against the state root.
func TestStateBranches(t *testing.T) {
	for _, cfg := range []*params.Config{params.Minimal(), params.Mainnet()} {
		s := NewBeaconState(cfg)
		r := rand.New(rand.NewPCG(7, 8))
		for i := range s.StateRoots {
			s.StateRoots[i] = randRoot(r)
		}
		for i := range s.CurrentCrosslinks {
			s.CurrentCrosslinks[i] = Crosslink{Shard: Shard(i), DataRoot: randRoot(r), EndEpoch: Epoch(i)}
		}
		root, _ := s.HashTreeRoot()
		check := func(g uint64, leaf Root) {
			t.Helper()
			br, err := s.Branch(g)
			if err != nil {
				t.Fatal(err)
			}
			depth := uint64(len(br))
			leaves := make([][32]byte, len(br))
			for i := range br {
				leaves[i] = br[i]
			}
			if !hash.IsValidMerkleBranch(leaf, leaves, depth, g-1<<depth, root) {
				t.Fatalf("%s: branch of node %d invalid", cfg.Name, g)
			}
		}
		for _, slot := range []Slot{0, 5, Slot(cfg.SlotsPerHistoricalRoot - 1), Slot(3*cfg.SlotsPerHistoricalRoot + 2)} {
			check(GIndexStateRoot(cfg.SlotsPerHistoricalRoot, slot), s.StateRoots[uint64(slot)%cfg.SlotsPerHistoricalRoot])
		}
		for _, sh := range []uint64{0, 1, cfg.ShardCount - 1} {
			check(GIndexCurrentCrosslink(cfg.ShardCount, sh), s.CurrentCrosslinks[sh].TreeRoot())
		}
	}
}
