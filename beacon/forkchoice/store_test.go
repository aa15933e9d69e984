package forkchoice

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
)

// ordered returns a and b sorted by byte order.
func ordered(a, b types.Root) (lo, hi types.Root) {
	if bytes.Compare(a[:], b[:]) < 0 {
		return a, b
	}
	return b, a
}

// in returns a predicate for membership in vals.
func in(vals ...types.ValidatorIndex) func(types.ValidatorIndex) bool {
	return func(v types.ValidatorIndex) bool { return slices.Contains(vals, v) }
}

func TestNewIsGenesisStore(t *testing.T) {
	c := newChain(t)
	genesis := c.genesis.Copy()
	s, err := New(c.tr, genesis)
	if err != nil {
		t.Fatal(err)
	}
	cp := types.Checkpoint{Epoch: 0, Root: c.genesisRoot}
	type view struct {
		Time                 uint64
		GenesisRoot          types.Root
		Justified, Finalized types.Checkpoint
		Len                  int
	}
	want := view{Time: c.genesis.GenesisTime, GenesisRoot: c.genesisRoot, Justified: cp, Finalized: cp, Len: 1}
	got := view{Time: s.Time(), GenesisRoot: s.GenesisRoot(), Justified: s.JustifiedCheckpoint(), Finalized: s.FinalizedCheckpoint(), Len: s.Len()}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("genesis store (-want +got):\n%s", diff)
	}
	b, ok := s.Block(c.genesisRoot)
	if !ok || b.GetSlot() != 0 || b.GetParentRoot() != (types.Root{}) {
		t.Errorf("genesis block = %+v, %v", b, ok)
	}
	wantRoot, _ := c.genesis.HashTreeRoot()
	for name, get := range map[string]func() (*types.BeaconState, bool){
		"block state":      func() (*types.BeaconState, bool) { return s.State(c.genesisRoot) },
		"checkpoint state": func() (*types.BeaconState, bool) { return s.CheckpointState(cp) },
	} {
		st, ok := get()
		if !ok {
			t.Fatalf("no genesis %s", name)
		}
		if st == genesis {
			t.Errorf("%s is the caller's state, not a copy", name)
		}
		if r, _ := st.HashTreeRoot(); r != wantRoot {
			t.Errorf("%s root = %s, want %s", name, r, wantRoot)
		}
	}
	genesis.Slot = 99 // the caller's state is not the store's
	if st, _ := s.State(c.genesisRoot); st.Slot != 0 {
		t.Errorf("store state changed with the caller's copy")
	}
	if head, err := s.Head(); err != nil || head != c.genesisRoot {
		t.Errorf("Head = %s, %v; want the genesis root", head, err)
	}
}

func TestNewRejects(t *testing.T) {
	tr, _, genesis := loadGenesis(t)
	late := genesis.Copy()
	late.Slot = 1
	mainnet := types.NewBeaconState(params.Mainnet())
	for _, tc := range []struct {
		name    string
		tr      *core.Transition
		genesis *types.BeaconState
		want    error
	}{
		{"nil transition", nil, genesis, ErrNilArgument},
		{"nil genesis", tr, nil, ErrNilArgument},
		{"state after genesis slot", tr, late, core.ErrInvalidGenesis},
		{"state of another preset", tr, mainnet, core.ErrInvalidGenesis},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(tc.tr, tc.genesis)
			if !errors.Is(err, tc.want) || s != nil {
				t.Fatalf("New = %v, %v; want error %v", s, err, tc.want)
			}
		})
	}
}

func TestAncestor(t *testing.T) {
	c := newChain(t)
	g := c.genesisRoot
	_, a := c.build(g, 1, 0)
	_, b := c.build(a, 3, 0)
	_, cc := c.build(b, 4, 0)
	_, d := c.build(g, 2, 1)
	s := c.store()
	addBlocks(t, c, s, a, b, cc, d)
	for _, tc := range []struct {
		name   string
		root   types.Root
		slot   types.Slot
		want   types.Root
		wantOK bool
	}{
		{"itself", cc, 4, cc, true},
		{"parent", cc, 3, b, true},
		{"empty slot on the chain", cc, 2, types.Root{}, true},
		{"grandparent", cc, 1, a, true},
		{"genesis", cc, 0, g, true},
		{"slot after the block", cc, 5, types.Root{}, true},
		{"other branch's slot", d, 1, types.Root{}, true},
		{"other branch to genesis", d, 0, g, true},
		{"unknown root", types.Root{1}, 0, types.Root{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := s.Ancestor(tc.root, tc.slot)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("Ancestor(slot %d) = %s, %v; want %s, %v", tc.slot, got, ok, tc.want, tc.wantOK)
			}
		})
	}
	if diff := cmp.Diff([]types.Root{a, d}, s.Children(g)); diff != "" {
		t.Errorf("Children(genesis) (-want +got):\n%s", diff)
	}
}
