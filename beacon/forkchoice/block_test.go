package forkchoice

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/types"
)

// storeView is what a rejected input must leave unchanged.
type storeView struct {
	Len                  int
	Head                 types.Root
	Justified, Finalized types.Checkpoint
	CheckpointStates     int
	Latest               map[types.ValidatorIndex]LatestMessage
}

func viewOf(t *testing.T, s *Store) storeView {
	t.Helper()
	head, err := s.Head()
	if err != nil {
		t.Fatalf("Head: %v", err)
	}
	return storeView{
		Len: s.Len(), Head: head,
		Justified: s.JustifiedCheckpoint(), Finalized: s.FinalizedCheckpoint(),
		CheckpointStates: len(s.checkpointStates),
		Latest:           snapshot(s).latestMessages,
	}
}

// blockCase is one OnBlock input: prepare returns the block and signature
// policy, and may set the store's clock.
type blockCase struct {
	name    string
	prepare func(t *testing.T, c *chain, s *Store, a1 types.Root) (*types.BeaconBlock, core.Sigs)
	want    error // nil: accepted
}

// runBlockCases runs each case on a fresh store holding genesis and a block
// a1 at slot 1, with the clock at slot 20 unless the case changes it.
func runBlockCases(t *testing.T, cases []blockCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newChain(t)
			c.sign = true
			s := c.store()
			_, a1 := c.build(c.genesisRoot, 1, 0)
			addBlocks(t, c, s, a1)
			s.OnTick(c.slotTime(20))
			b, sigs := tc.prepare(t, c, s, a1)
			before := viewOf(t, s)
			err := s.OnBlock(b, sigs)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("OnBlock: %v", err)
				}
				root := mustRoot(t, b)
				got, ok := s.Block(root)
				if !ok || got != b {
					t.Fatalf("Block(%s) = %v, %v; want the added block", root, got, ok)
				}
				st, _ := s.State(root)
				if r, _ := st.HashTreeRoot(); r != b.StateRoot {
					t.Errorf("post-state root %s, block says %s", r, b.StateRoot)
				}
				checkTree(t, s)
				return
			}
			if !errors.Is(err, tc.want) || !errors.Is(err, core.ErrInvalid) {
				t.Fatalf("OnBlock error = %v; want %v (and core.ErrInvalid)", err, tc.want)
			}
			if diff := cmp.Diff(before, viewOf(t, s)); diff != "" {
				t.Errorf("rejected block changed the store (-before +after):\n%s", diff)
			}
			if checkBlockShape(b) == nil {
				if r, err := b.SigningRoot(); err == nil {
					if _, ok := s.Block(r); ok {
						t.Errorf("rejected block is in the store")
					}
				}
			}
		})
	}
}

func TestOnBlock(t *testing.T) {
	runBlockCases(t, []blockCase{
		{"child of the genesis block", func(t *testing.T, c *chain, s *Store, a1 types.Root) (*types.BeaconBlock, core.Sigs) {
			b, _ := c.build(c.genesisRoot, 2, 1)
			return b, core.SkipSigs
		}, nil},
		{"signed block with signatures verified", func(t *testing.T, c *chain, s *Store, a1 types.Root) (*types.BeaconBlock, core.Sigs) {
			b, _ := c.build(a1, 2, 0)
			return b, core.VerifySigs
		}, nil},
		{"block after empty slots", func(t *testing.T, c *chain, s *Store, a1 types.Root) (*types.BeaconBlock, core.Sigs) {
			b, _ := c.build(a1, 17, 0)
			return b, core.SkipSigs
		}, nil},
		{"exactly when its slot starts", func(t *testing.T, c *chain, s *Store, a1 types.Root) (*types.BeaconBlock, core.Sigs) {
			b, _ := c.build(a1, 25, 0)
			s.OnTick(c.slotTime(25))
			return b, core.SkipSigs
		}, nil},
		{"block with included attestations", func(t *testing.T, c *chain, s *Store, a1 types.Root) (*types.BeaconBlock, core.Sigs) {
			b, _ := c.build(a1, 2, 0, c.attest(a1, 1, nil)...)
			return b, core.VerifySigs
		}, nil},

		{"nil block", func(t *testing.T, c *chain, s *Store, a1 types.Root) (*types.BeaconBlock, core.Sigs) {
			return nil, core.SkipSigs
		}, ErrMalformed},
		{"nil operation", func(t *testing.T, c *chain, s *Store, a1 types.Root) (*types.BeaconBlock, core.Sigs) {
			return &types.BeaconBlock{Slot: 2, ParentRoot: a1, Body: types.BeaconBlockBody{Attestations: []*types.Attestation{nil}}}, core.SkipSigs
		}, ErrMalformed},
		{"unknown parent", func(t *testing.T, c *chain, s *Store, a1 types.Root) (*types.BeaconBlock, core.Sigs) {
			_, p := c.build(a1, 2, 0) // never added
			b, _ := c.build(p, 3, 0)
			return b, core.SkipSigs
		}, ErrUnknownParent},
		{"one second before its slot", func(t *testing.T, c *chain, s *Store, a1 types.Root) (*types.BeaconBlock, core.Sigs) {
			b, _ := c.build(a1, 25, 0)
			s.OnTick(c.slotTime(25) - 1)
			return b, core.SkipSigs
		}, ErrFutureBlock},
		{"slot whose time overflows", func(t *testing.T, c *chain, s *Store, a1 types.Root) (*types.BeaconBlock, core.Sigs) {
			return &types.BeaconBlock{Slot: 1 << 62, ParentRoot: a1}, core.SkipSigs
		}, ErrFutureBlock},
		{"at the genesis slot", func(t *testing.T, c *chain, s *Store, a1 types.Root) (*types.BeaconBlock, core.Sigs) {
			return &types.BeaconBlock{Slot: 0, ParentRoot: c.genesisRoot, Body: types.BeaconBlockBody{Graffiti: types.Root{1}}}, core.SkipSigs
		}, ErrFinalizedSlot},
		{"same slot as its parent", func(t *testing.T, c *chain, s *Store, a1 types.Root) (*types.BeaconBlock, core.Sigs) {
			return &types.BeaconBlock{Slot: 1, ParentRoot: a1}, core.SkipSigs
		}, core.ErrInvalidBlock},
		{"invalid state root", func(t *testing.T, c *chain, s *Store, a1 types.Root) (*types.BeaconBlock, core.Sigs) {
			b, _ := c.build(a1, 2, 0)
			bad := *b
			bad.StateRoot[0] ^= 1
			return &bad, core.SkipSigs
		}, core.ErrInvalidBlock},
		{"parent root of another block", func(t *testing.T, c *chain, s *Store, a1 types.Root) (*types.BeaconBlock, core.Sigs) {
			b, _ := c.build(a1, 2, 0)
			bad := *b
			bad.ParentRoot = c.genesisRoot
			return &bad, core.SkipSigs
		}, core.ErrInvalidBlock},
		{"bad proposer signature", func(t *testing.T, c *chain, s *Store, a1 types.Root) (*types.BeaconBlock, core.Sigs) {
			b, _ := c.build(a1, 2, 0)
			other, _ := c.build(a1, 3, 0)
			bad := *b
			bad.Signature = other.Signature
			return &bad, core.VerifySigs
		}, core.ErrInvalidSignature},
		{"bad signature is not checked when skipping", func(t *testing.T, c *chain, s *Store, a1 types.Root) (*types.BeaconBlock, core.Sigs) {
			b, _ := c.build(a1, 2, 0)
			b.Signature = types.BLSSignature{0xff}
			return b, core.SkipSigs
		}, nil},
		{"invalid included attestation", func(t *testing.T, c *chain, s *Store, a1 types.Root) (*types.BeaconBlock, core.Sigs) {
			atts := c.attest(a1, 1, nil)
			b, _ := c.build(a1, 2, 0, atts...)
			bad := *b
			bad.Body.Attestations = []*types.Attestation{{AggregationBits: atts[0].AggregationBits, Data: atts[0].Data, CustodyBits: atts[0].AggregationBits}}
			return &bad, core.SkipSigs
		}, core.ErrInvalidOperation},
	})
}

func TestOnBlockDuplicateIsNoOp(t *testing.T) {
	c := newChain(t)
	s := c.store()
	_, a1 := c.build(c.genesisRoot, 1, 0)
	addBlocks(t, c, s, a1)
	before := viewOf(t, s)
	if err := s.OnBlock(c.blocks[a1], core.SkipSigs); err != nil {
		t.Fatalf("OnBlock of a known block: %v", err)
	}
	if diff := cmp.Diff(before, viewOf(t, s)); diff != "" {
		t.Errorf("duplicate changed the store (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff([]types.Root{a1}, s.Children(c.genesisRoot)); diff != "" {
		t.Errorf("children of genesis (-want +got):\n%s", diff)
	}
}
