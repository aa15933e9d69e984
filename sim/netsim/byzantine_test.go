package netsim

import (
	"errors"
	"testing"

	"github.com/shardlab/shardlab/beacon/types"
)

// slashedIn lists the slashed validators of node i's head state.
func slashedIn(t *testing.T, s *Sim, i int) []uint64 {
	t.Helper()
	st, err := s.HeadState(i)
	if err != nil {
		t.Fatal(err)
	}
	var out []uint64
	for v, val := range st.Validators {
		if val.Slashed {
			out = append(out, uint64(v))
		}
	}
	return out
}

// includedOffence finds the slashing included in node i's chain: "proposer",
// "double vote" or "surround vote" (by the two votes' targets and sources).
func includedOffence(t *testing.T, s *Sim, i int) string {
	t.Helper()
	c := s.nodes[i].chain
	root, _ := c.Head()
	for {
		b, ok := c.Block(root)
		if !ok || b.GetSlot() == 0 {
			return "none"
		}
		body, _ := types.BlockBody(b)
		if len(body.ProposerSlashings) > 0 {
			return "proposer"
		}
		if len(body.AttesterSlashings) > 0 {
			a, b := body.AttesterSlashings[0].Attestation1.Data, body.AttesterSlashings[0].Attestation2.Data
			if a.Target.Epoch == b.Target.Epoch {
				return "double vote"
			}
			if (a.Source.Epoch < b.Source.Epoch && b.Target.Epoch < a.Target.Epoch) || (b.Source.Epoch < a.Source.Epoch && a.Target.Epoch < b.Target.Epoch) {
				return "surround vote"
			}
			return "other"
		}
		root = b.GetParentRoot()
	}
}

func TestByzantineCaught(t *testing.T) {
	tests := []struct {
		name  string
		at    types.Slot
		act   func(s *Sim) error
		want  []uint64
		notes string
	}{
		{"proposer", 20, func(s *Sim) error { return s.Equivocate(20) }, []uint64{1}, "validator 1 proposes slot 20 with seed 1"},
		{"double vote", 24, func(s *Sim) error { return s.DoubleVote(3) }, []uint64{3}, ""},
		{"surround vote", 32, func(s *Sim) error { return s.SurroundVote(17) }, []uint64{17}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := testConfig(1, 6)
			c.Slasher = true
			s, err := New(c)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			s.RunSlots(tc.at - 1)
			if err := tc.act(s); err != nil {
				t.Fatal(err)
			}
			s.RunSlots(tc.at + 15)
			for i := range s.NodeCount() {
				if got := slashedIn(t, s, i); len(got) != len(tc.want) || got[0] != tc.want[0] {
					t.Fatalf("node %d slashed %v, want %v (%s)", i, got, tc.want, tc.notes)
				}
			}
			if s.NetStats().Slashings == 0 {
				t.Fatal("no slashing published")
			}
			if got := includedOffence(t, s, 0); got != tc.name {
				t.Fatalf("included offence %q, want %q", got, tc.name)
			}
		})
	}
}

func TestByzantineNeedsSlasher(t *testing.T) {
	s, err := New(testConfig(1, 6))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.RunSlots(23)
	if err := s.DoubleVote(3); err != nil {
		t.Fatal(err)
	}
	s.RunSlots(40)
	if got := slashedIn(t, s, 0); len(got) != 0 {
		t.Fatalf("slashed %v without slashers", got)
	}
	if err := s.Equivocate(3); !errors.Is(err, ErrByzantine) {
		t.Fatalf("equivocate in the past: %v, want ErrByzantine", err)
	}
	if err := s.DoubleVote(99); !errors.Is(err, ErrByzantine) {
		t.Fatalf("double vote of validator 99: %v, want ErrByzantine", err)
	}
}
