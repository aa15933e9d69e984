package forkchoice

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shardlab/shardlab/beacon/types"
)

// TestHeadScenarios builds small real block trees, casts votes through
// OnAttestation and checks the head. Vote counts are chosen so that the
// expected head is not also the one a root tie-break would pick, unless the
// case is about the tie-break.
func TestHeadScenarios(t *testing.T) {
	for _, tc := range []struct {
		name string
		// run builds blocks and votes into s and returns the expected head.
		run func(t *testing.T, c *chain, s *Store) types.Root
	}{
		{"genesis only", func(t *testing.T, c *chain, s *Store) types.Root {
			return c.genesisRoot
		}},
		{"linear chain with empty slots", func(t *testing.T, c *chain, s *Store) types.Root {
			parent := c.genesisRoot
			for _, slot := range []types.Slot{1, 2, 3, 5, 9} {
				_, parent = c.build(parent, slot, 0)
				addBlocks(t, c, s, parent)
			}
			return parent
		}},
		{"votes for an ancestor keep the tip", func(t *testing.T, c *chain, s *Store) types.Root {
			_, a := c.build(c.genesisRoot, 1, 0)
			_, b := c.build(a, 2, 0)
			_, d := c.build(b, 3, 0)
			addBlocks(t, c, s, a, b, d)
			addAttestations(t, c, s, c.attest(a, 3, nil)...)
			return d
		}},
		{"two forks: more votes win", func(t *testing.T, c *chain, s *Store) types.Root {
			_, a := c.build(c.genesisRoot, 1, 1)
			_, b := c.build(c.genesisRoot, 1, 2)
			addBlocks(t, c, s, a, b)
			lo, hi := ordered(a, b)
			_, com := c.committees(lo, 2)
			addAttestations(t, c, s, c.attest(lo, 2, in(com[0][:5]...))...)
			addAttestations(t, c, s, c.attest(hi, 2, in(com[0][5:]...))...)
			return lo
		}},
		{"heavier subtree beats longer chain", func(t *testing.T, c *chain, s *Store) types.Root {
			_, a1 := c.build(c.genesisRoot, 1, 1)
			_, a2 := c.build(a1, 2, 1)
			_, a3 := c.build(a2, 3, 1)
			_, b1 := c.build(c.genesisRoot, 1, 2)
			addBlocks(t, c, s, a1, a2, a3, b1)
			_, com := c.committees(a3, 4)
			addAttestations(t, c, s, c.attest(a3, 4, in(com[0][:2]...))...)
			addAttestations(t, c, s, c.attest(b1, 4, in(com[0][2:5]...))...)
			return b1
		}},
		{"votes for descendants add up, then tie at the fork", func(t *testing.T, c *chain, s *Store) types.Root {
			_, a1 := c.build(c.genesisRoot, 1, 1)
			_, x := c.build(a1, 2, 1)
			_, y := c.build(a1, 2, 2)
			_, b1 := c.build(c.genesisRoot, 1, 3)
			addBlocks(t, c, s, a1, x, y, b1)
			_, com := c.committees(a1, 3)
			addAttestations(t, c, s, c.attest(x, 3, in(com[0][0:2]...))...)
			addAttestations(t, c, s, c.attest(y, 3, in(com[0][2:4]...))...)
			addAttestations(t, c, s, c.attest(b1, 3, in(com[0][4:7]...))...)
			_, hi := ordered(x, y)
			return hi
		}},
		{"tie without votes: larger root", func(t *testing.T, c *chain, s *Store) types.Root {
			_, a := c.build(c.genesisRoot, 1, 1)
			_, b := c.build(c.genesisRoot, 1, 2)
			addBlocks(t, c, s, a, b)
			_, hi := ordered(a, b)
			return hi
		}},
		{"tie with equal votes: larger root", func(t *testing.T, c *chain, s *Store) types.Root {
			_, a := c.build(c.genesisRoot, 1, 1)
			_, b := c.build(c.genesisRoot, 2, 2)
			addBlocks(t, c, s, a, b)
			_, com := c.committees(b, 3)
			addAttestations(t, c, s, c.attest(a, 3, in(com[0][:3]...))...)
			addAttestations(t, c, s, c.attest(b, 3, in(com[0][3:6]...))...)
			_, hi := ordered(a, b)
			return hi
		}},
		{"vote for an unknown block counts once it arrives", func(t *testing.T, c *chain, s *Store) types.Root {
			_, a := c.build(c.genesisRoot, 1, 1)
			_, b := c.build(c.genesisRoot, 1, 2)
			addBlocks(t, c, s, a, b)
			lo, hi := ordered(a, b)
			_, x := c.build(hi, 2, 0) // not yet in the store
			_, com := c.committees(lo, 3)
			addAttestations(t, c, s, c.attest(lo, 3, in(com[0][:3]...))...)
			addAttestations(t, c, s, c.attest(x, 3, in(com[0][3:]...))...)
			if head, err := s.Head(); err != nil || head != lo {
				t.Errorf("before the voted block arrives: Head = %s, %v; want %s", head, err, lo)
			}
			addBlocks(t, c, s, x)
			return x
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newChain(t)
			s := c.store()
			want := tc.run(t, c, s)
			got, err := s.Head()
			if err != nil {
				t.Fatalf("Head: %v", err)
			}
			if got != want {
				t.Errorf("Head = %s, want %s", got, want)
			}
			if spec := snapshot(s).getHead(); spec != want {
				t.Errorf("spec get_head = %s, want %s", spec, want)
			}
		})
	}
}

// TestVotesMove follows eight validators as they attest in epochs 0 and 1:
// a newer epoch replaces a validator's latest message, an older or equal one
// is ignored, and the head follows.
func TestVotesMove(t *testing.T) {
	c := newChain(t)
	s := c.store()
	_, a1 := c.build(c.genesisRoot, 1, 1)
	_, b1 := c.build(c.genesisRoot, 1, 2)
	lo1, hi1 := ordered(a1, b1)
	_, lo9 := c.build(lo1, 9, 0)
	_, hi9 := c.build(hi1, 9, 0)
	addBlocks(t, c, s, a1, b1, lo9, hi9)
	_, com := c.committees(lo1, 2)
	vals := com[0] // the eight validators of slot 2
	s.OnTick(c.slotTime(24))

	type step struct {
		name   string
		atts   []*attBatch
		head   types.Root
		latest map[types.ValidatorIndex]LatestMessage
	}
	all := func(epoch types.Epoch, root types.Root, vs []types.ValidatorIndex) map[types.ValidatorIndex]LatestMessage {
		m := map[types.ValidatorIndex]LatestMessage{}
		for _, v := range vs {
			m[v] = LatestMessage{Epoch: epoch, Root: root}
		}
		return m
	}
	merge := func(ms ...map[types.ValidatorIndex]LatestMessage) map[types.ValidatorIndex]LatestMessage {
		out := map[types.ValidatorIndex]LatestMessage{}
		for _, m := range ms {
			for k, v := range m {
				out[k] = v
			}
		}
		return out
	}
	for _, st := range []step{
		{
			name:   "all vote for the low branch in epoch 0",
			atts:   []*attBatch{{lo1, 0, vals}},
			head:   lo9,
			latest: all(0, lo1, vals),
		},
		{
			name:   "five move to the high branch in epoch 1",
			atts:   []*attBatch{{hi9, 1, vals[:5]}},
			head:   hi9,
			latest: merge(all(0, lo1, vals[5:]), all(1, hi9, vals[:5])),
		},
		{
			name:   "epoch 0 votes by those five are ignored",
			atts:   []*attBatch{{lo1, 0, vals[:5]}},
			head:   hi9,
			latest: merge(all(0, lo1, vals[5:]), all(1, hi9, vals[:5])),
		},
		{
			name:   "another epoch 1 vote by those five is ignored",
			atts:   []*attBatch{{lo9, 1, vals[:5]}},
			head:   hi9,
			latest: merge(all(0, lo1, vals[5:]), all(1, hi9, vals[:5])),
		},
		{
			name:   "the other three move to the low branch in epoch 1",
			atts:   []*attBatch{{lo9, 1, vals[5:]}},
			head:   hi9,
			latest: merge(all(1, lo9, vals[5:]), all(1, hi9, vals[:5])),
		},
	} {
		t.Run(st.name, func(t *testing.T) {
			c.t = t
			for _, b := range st.atts {
				addAttestations(t, c, s, c.vote(b.head, b.epoch, b.vals...)...)
			}
			if head, err := s.Head(); err != nil || head != st.head {
				t.Errorf("Head = %s, %v; want %s", head, err, st.head)
			}
			if diff := cmp.Diff(st.latest, snapshot(s).latestMessages); diff != "" {
				t.Errorf("latest messages (-want +got):\n%s", diff)
			}
			for _, v := range vals {
				got, ok := s.LatestMessage(v)
				if want, wantOK := st.latest[v]; got != want || ok != wantOK {
					t.Errorf("LatestMessage(%d) = %+v, %v; want %+v, %v", v, got, ok, want, wantOK)
				}
			}
			if _, ok := s.LatestMessage(numValidators + 5); ok {
				t.Errorf("LatestMessage of an unknown validator reports a message")
			}
		})
	}
}

// TestHeadWithoutJustifiedState: the store maintains the justified
// checkpoint state; if it were missing, Head reports it instead of failing
// the way the spec's dictionary lookup would.
func TestHeadWithoutJustifiedState(t *testing.T) {
	c := newChain(t)
	s := c.store()
	_, a1 := c.build(c.genesisRoot, 1, 0)
	addBlocks(t, c, s, a1)
	delete(s.checkpointStates, s.justified)
	if _, err := s.Head(); !errors.Is(err, ErrMissingState) {
		t.Fatalf("Head = %v, want ErrMissingState", err)
	}
}

// attBatch is a set of validators voting for head in epoch.
type attBatch struct {
	head  types.Root
	epoch types.Epoch
	vals  []types.ValidatorIndex
}
