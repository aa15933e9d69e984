package forkchoice

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/types"
)

// replay feeds the finality fixture's blocks up to slot last into s, and
// with atts also the attestations each block includes, checking after every
// block that the store's checkpoints follow the spec's update rule and that
// the head is the tip.
func replay(t *testing.T, f *finalityFixture, s *Store, last int, atts bool) {
	t.Helper()
	for slot := 1; slot <= last; slot++ {
		r := f.roots[slot]
		wantJ, wantF := s.JustifiedCheckpoint(), s.FinalizedCheckpoint()
		st := f.c.states[r]
		if st.CurrentJustifiedCheckpoint.Epoch > wantJ.Epoch {
			wantJ = st.CurrentJustifiedCheckpoint
		}
		if st.FinalizedCheckpoint.Epoch > wantF.Epoch {
			wantF = st.FinalizedCheckpoint
		}
		addBlocks(t, f.c, s, r)
		if atts {
			addAttestations(t, f.c, s, f.atts[slot]...)
		}
		if diff := cmp.Diff([]types.Checkpoint{wantJ, wantF}, []types.Checkpoint{s.JustifiedCheckpoint(), s.FinalizedCheckpoint()}); diff != "" {
			t.Fatalf("slot %d: justified and finalized (-want +got):\n%s", slot, diff)
		}
		if head, err := s.Head(); err != nil || head != r {
			t.Fatalf("slot %d: Head = %s, %v; want the tip %s", slot, head, err, r)
		}
	}
}

// TestCheckpointsFollowBlockStates runs six epochs of full participation:
// the store's justified and finalized checkpoints follow the blocks'
// post-states (justified epoch 5, finalized epoch 4 at the end), the head is
// always the tip, and the justified checkpoint state exists whether or not
// attestations were fed to the fork choice.
func TestCheckpointsFollowBlockStates(t *testing.T) {
	for _, tc := range []struct {
		name string
		atts bool
	}{
		{"blocks only", false},
		{"blocks and their attestations", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := loadFinality(t)
			s := f.c.store()
			replay(t, f, s, finalitySlots, tc.atts)

			last := f.c.states[f.roots[finalitySlots]]
			want := []types.Checkpoint{{Epoch: 5, Root: f.roots[40]}, {Epoch: 4, Root: f.roots[32]}}
			if diff := cmp.Diff(want, []types.Checkpoint{last.CurrentJustifiedCheckpoint, last.FinalizedCheckpoint}); diff != "" {
				t.Fatalf("fixture no longer finalizes as expected (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want, []types.Checkpoint{s.JustifiedCheckpoint(), s.FinalizedCheckpoint()}); diff != "" {
				t.Errorf("store checkpoints (-want +got):\n%s", diff)
			}
			j := s.JustifiedCheckpoint()
			cs, ok := s.CheckpointState(j)
			if !ok {
				t.Fatalf("no checkpoint state for the justified checkpoint")
			}
			got, _ := cs.HashTreeRoot()
			if w, _ := f.c.stateAt(j.Root, core.ComputeStartSlotOfEpoch(f.c.cfg, j.Epoch)).HashTreeRoot(); got != w {
				t.Errorf("justified checkpoint state root %s, want %s", got, w)
			}
			if tc.atts {
				latest := snapshot(s).latestMessages
				if len(latest) != numValidators {
					t.Errorf("%d validators have a latest message, want %d", len(latest), numValidators)
				}
				for i, m := range latest {
					if m.Epoch != 5 {
						t.Errorf("validator %d: latest message from epoch %d, want 5", i, m.Epoch)
					}
				}
			}
		})
	}
}

func TestOnBlockAfterFinality(t *testing.T) {
	for _, tc := range []struct {
		name   string
		parent int // slot of the parent in the fixture
		slot   types.Slot
		want   error
	}{
		{"fork from before the finalized block", 20, 41, ErrNotDescendantOfFinalized},
		{"fork from genesis", 0, 49, ErrNotDescendantOfFinalized},
		{"sibling of the finalized block", 31, 32, ErrFinalizedSlot},
		{"in an epoch before the finalized one", 20, 21, ErrFinalizedSlot},
		{"child of the finalized block", 32, 33, nil},
		{"fork off the justified block", 40, 42, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := loadFinality(t)
			s := f.c.store()
			replay(t, f, s, finalitySlots, false)
			b, _ := f.c.build(f.roots[tc.parent], tc.slot, 1)
			if s.Time() < f.c.slotTime(tc.slot) {
				s.OnTick(f.c.slotTime(tc.slot))
			}
			before := viewOf(t, s)
			err := s.OnBlock(b, core.SkipSigs)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("OnBlock: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) || !errors.Is(err, core.ErrInvalid) {
				t.Fatalf("OnBlock error = %v; want %v", err, tc.want)
			}
			if diff := cmp.Diff(before, viewOf(t, s)); diff != "" {
				t.Errorf("rejected block changed the store (-before +after):\n%s", diff)
			}
		})
	}
}

// TestPrune prunes after two finalizations: everything not descending from
// the finalized block goes (the early chain, genesis, a side fork), the rest
// stays, the head does not move, and pruned blocks are unknown from then on.
func TestPrune(t *testing.T) {
	f := loadFinality(t)
	c := f.c
	s := c.store()
	_, side1 := c.build(c.genesisRoot, 2, 7)
	addBlocks(t, c, s, side1)
	replay(t, f, s, finalitySlots, true)
	_, side2 := c.build(f.roots[40], 41, 7)
	addBlocks(t, c, s, side2)
	lateVote := c.attest(side1, 3, nil)

	fin := s.FinalizedCheckpoint()
	if fin.Root != f.roots[32] {
		t.Fatalf("finalized %d/%s, want the block at slot 32", fin.Epoch, fin.Root)
	}
	headBefore, err := s.Head()
	if err != nil {
		t.Fatal(err)
	}
	lenBefore := s.Len()

	removed := s.Prune()
	if want := 1 + 31 + 1; removed != want { // genesis, slots 1-31, side1
		t.Errorf("Prune removed %d blocks, want %d", removed, want)
	}
	if s.Len() != lenBefore-removed {
		t.Errorf("Len = %d after removing %d of %d", s.Len(), removed, lenBefore)
	}
	checkTree(t, s)
	for _, tc := range []struct {
		name string
		root types.Root
		kept bool
	}{
		{"genesis", c.genesisRoot, false},
		{"slot 31", f.roots[31], false},
		{"side fork before finality", side1, false},
		{"finalized block", f.roots[32], true},
		{"justified block", f.roots[40], true},
		{"side fork after finality", side2, true},
		{"tip", f.roots[finalitySlots], true},
	} {
		_, okBlock := s.Block(tc.root)
		_, okState := s.State(tc.root)
		if okBlock != tc.kept || okState != tc.kept {
			t.Errorf("%s: block kept %v, state kept %v; want %v", tc.name, okBlock, okState, tc.kept)
		}
	}
	for cp := range s.checkpointStates {
		if cp.Epoch < fin.Epoch {
			t.Errorf("checkpoint state %d/%s is older than the finalized epoch", cp.Epoch, cp.Root)
		}
	}
	if _, ok := s.CheckpointState(s.JustifiedCheckpoint()); !ok {
		t.Errorf("the justified checkpoint state was pruned")
	}
	if s.GenesisRoot() != c.genesisRoot {
		t.Errorf("GenesisRoot changed")
	}
	if head, err := s.Head(); err != nil || head != headBefore {
		t.Errorf("Head after Prune = %s, %v; want %s", head, err, headBefore)
	}
	if spec := snapshot(s).getHead(); spec != headBefore {
		t.Errorf("spec get_head after Prune = %s, want %s", spec, headBefore)
	}
	if r, ok := s.Ancestor(f.roots[finalitySlots], 32); !ok || r != f.roots[32] {
		t.Errorf("Ancestor(tip, 32) = %s, %v; want the finalized block", r, ok)
	}
	if _, ok := s.Ancestor(f.roots[finalitySlots], 10); ok {
		t.Errorf("Ancestor(tip, 10) reached into pruned history")
	}

	// Afterwards: the pruned fork is unknown, the canonical chain grows.
	orphan, _ := c.build(side1, 49, 0)
	next, _ := c.build(f.roots[finalitySlots], 49, 0)
	s.OnTick(c.slotTime(49))
	if err := s.OnBlock(orphan, core.SkipSigs); !errors.Is(err, ErrUnknownParent) {
		t.Errorf("OnBlock on a pruned parent = %v, want ErrUnknownParent", err)
	}
	for _, a := range lateVote {
		if err := s.OnAttestation(a, core.SkipSigs); !errors.Is(err, ErrUnknownTarget) {
			t.Errorf("OnAttestation with a pruned target = %v, want ErrUnknownTarget", err)
		}
	}
	if err := s.OnBlock(next, core.SkipSigs); err != nil {
		t.Fatalf("OnBlock on the tip after Prune: %v", err)
	}
	if head, err := s.Head(); err != nil || head != mustRoot(t, next) {
		t.Errorf("Head = %s, %v; want the new tip", head, err)
	}
}

// TestPruneBoundsMemory prunes after every block of the six-epoch run: the
// store holds exactly the blocks from the finalized one to the tip, and only
// checkpoint states from the finalized epoch on.
func TestPruneBoundsMemory(t *testing.T) {
	f := loadFinality(t)
	s := f.c.store()
	maxLen := 0
	for slot := 1; slot <= finalitySlots; slot++ {
		addBlocks(t, f.c, s, f.roots[slot])
		addAttestations(t, f.c, s, f.atts[slot]...)
		s.Prune()
		fin := s.FinalizedCheckpoint()
		finBlock, _ := s.Block(fin.Root)
		if want := slot - int(finBlock.GetSlot()) + 1; s.Len() != want {
			t.Fatalf("slot %d: %d blocks after Prune, want %d (finalized at slot %d)", slot, s.Len(), want, finBlock.GetSlot())
		}
		for cp := range s.checkpointStates {
			if cp.Epoch < fin.Epoch {
				t.Fatalf("slot %d: checkpoint state of epoch %d kept, finalized epoch %d", slot, cp.Epoch, fin.Epoch)
			}
		}
		if head, err := s.Head(); err != nil || head != f.roots[slot] {
			t.Fatalf("slot %d: Head = %s, %v; want the tip", slot, head, err)
		}
		if slot > 4*int(f.c.cfg.SlotsPerEpoch) {
			maxLen = max(maxLen, s.Len())
		}
	}
	// With full participation the finalized epoch trails the current one by
	// two: at the last slot of epoch e the store holds epochs e-2 to e.
	if limit := 3 * int(f.c.cfg.SlotsPerEpoch); maxLen > limit {
		t.Errorf("up to %d blocks kept once finality runs, want at most %d", maxLen, limit)
	}
}
