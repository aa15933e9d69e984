package forkchoice

// A literal transcription of the v0.8.3 fork-choice helpers over plain maps,
// used as the oracle for Head. Where the spec would fail on a missing key
// (a vote for an unknown block, a walk into pruned history) the vote simply
// does not count, which is the documented behaviour of the package.

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/types"
)

// specStore is the spec's Store, copied out of a Store's internals.
type specStore struct {
	tr               *core.Transition
	justified        types.Checkpoint
	blocks           map[types.Root]types.AnyBlock
	checkpointStates map[types.Checkpoint]*types.BeaconState
	latestMessages   map[types.ValidatorIndex]LatestMessage
}

func snapshot(s *Store) *specStore {
	ss := &specStore{
		tr:               s.tr,
		justified:        s.justified,
		blocks:           map[types.Root]types.AnyBlock{},
		checkpointStates: map[types.Checkpoint]*types.BeaconState{},
		latestMessages:   map[types.ValidatorIndex]LatestMessage{},
	}
	for r, n := range s.nodes {
		ss.blocks[r] = n.block
	}
	for cp, st := range s.checkpointStates {
		ss.checkpointStates[cp] = st
	}
	for i, v := range s.latest {
		if v.set {
			ss.latestMessages[types.ValidatorIndex(i)] = v.msg
		}
	}
	return ss
}

// getAncestor is get_ancestor; ok is false where the spec raises KeyError.
func (ss *specStore) getAncestor(root types.Root, slot types.Slot) (types.Root, bool) {
	block, ok := ss.blocks[root]
	if !ok {
		return types.Root{}, false
	}
	if block.GetSlot() > slot {
		return ss.getAncestor(block.GetParentRoot(), slot)
	} else if block.GetSlot() == slot {
		return root, true
	}
	return types.Root{}, true
}

// getLatestAttestingBalance is get_latest_attesting_balance.
func (ss *specStore) getLatestAttestingBalance(root types.Root) types.Gwei {
	state := ss.checkpointStates[ss.justified]
	active := core.ActiveValidatorIndices(state, ss.tr.CurrentEpoch(state))
	var sum types.Gwei
	for _, i := range active {
		msg, ok := ss.latestMessages[i]
		if !ok {
			continue
		}
		if anc, ok := ss.getAncestor(msg.Root, ss.blocks[root].GetSlot()); ok && anc == root {
			sum += state.Validators[i].EffectiveBalance
		}
	}
	return sum
}

// getHead is get_head.
func (ss *specStore) getHead() types.Root {
	head := ss.justified.Root
	justifiedSlot := core.ComputeStartSlotOfEpoch(ss.tr.Config(), ss.justified.Epoch)
	for {
		var children []types.Root
		for root, b := range ss.blocks {
			if b.GetParentRoot() == head && b.GetSlot() > justifiedSlot {
				children = append(children, root)
			}
		}
		if len(children) == 0 {
			return head
		}
		head = slices.MaxFunc(children, func(a, b types.Root) int {
			wa, wb := ss.getLatestAttestingBalance(a), ss.getLatestAttestingBalance(b)
			if wa != wb {
				if wa < wb {
					return -1
				}
				return 1
			}
			return bytes.Compare(a[:], b[:])
		})
	}
}

// randomStore builds a store whose tree, justified checkpoint, checkpoint
// state and votes are random; blocks are real containers (real roots) but
// carry no states, which Head does not read.
func randomStore(t *testing.T, rng *rand.Rand) (*Store, []*node) {
	t.Helper()
	tr, _, genesis := loadGenesis(t)
	cfg := tr.Config()
	s, err := New(tr, genesis)
	if err != nil {
		t.Fatal(err)
	}
	all := []*node{s.nodes[s.genesisRoot]}
	for range rng.IntN(80) {
		p := all[rng.IntN(len(all))]
		b := &types.BeaconBlock{Slot: p.slot + 1 + types.Slot(rng.IntN(4)), ParentRoot: p.root}
		b.Body.Graffiti = types.Root{byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32())}
		n := &node{root: mustRoot(t, b), slot: b.Slot, block: b, parent: p}
		if _, dup := s.nodes[n.root]; dup {
			continue
		}
		s.nodes[n.root] = n
		p.children = append(p.children, n)
		all = append(all, n)
	}

	j := all[rng.IntN(len(all))]
	epoch := types.Epoch(uint64(j.slot)/cfg.SlotsPerEpoch + uint64(rng.IntN(2)))
	if rng.IntN(10) == 0 {
		epoch = types.Epoch(rng.IntN(int(epoch) + 1)) // start slot may precede the block
	}
	cp := types.Checkpoint{Epoch: epoch, Root: j.root}
	if rng.IntN(50) == 0 {
		cp.Root = types.Root{0xee} // a justified root the store does not know
	}
	st := types.NewBeaconState(cfg)
	st.Slot = core.ComputeStartSlotOfEpoch(cfg, epoch)
	nv := rng.IntN(48)
	for range nv {
		v := types.Validator{
			EffectiveBalance: types.Gwei(rng.IntN(4)) * 1_000_000_000,
			ActivationEpoch:  0,
			ExitEpoch:        types.FarFutureEpoch,
		}
		switch rng.IntN(8) {
		case 0:
			v.ActivationEpoch = epoch + 1 // not yet active
		case 1:
			v.ExitEpoch = epoch // exited
		}
		st.Validators = append(st.Validators, v)
		st.Balances = append(st.Balances, v.EffectiveBalance)
	}
	s.justified = cp
	s.checkpointStates = map[types.Checkpoint]*types.BeaconState{cp: st}

	s.latest = make([]vote, nv+rng.IntN(4)) // some votes by unknown validators
	for i := range s.latest {
		if rng.IntN(5) == 0 {
			continue
		}
		root := all[rng.IntN(len(all))].root
		switch rng.IntN(20) {
		case 0:
			root = types.Root{0xab, byte(i)} // unknown block
		case 1:
			root = types.Root{}
		}
		s.latest[i] = vote{msg: LatestMessage{Epoch: types.Epoch(rng.IntN(4)), Root: root}, set: true}
	}
	return s, all
}

// TestHeadMatchesSpecOnRandomTrees is the property test: on hundreds of
// random trees, vote sets and justified checkpoints, the one-pass weights
// equal get_latest_attesting_balance for every block of the justified
// subtree, Head equals the spec's get_head, and pruning to a random finalized
// ancestor of the justified block changes neither.
func TestHeadMatchesSpecOnRandomTrees(t *testing.T) {
	const seeds = 500
	for seed := range uint64(seeds) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 0x5eed))
			s, all := randomStore(t, rng)
			spec := snapshot(s)

			if jn, ok := s.nodes[s.justified.Root]; ok {
				s.weigh(jn, s.checkpointStates[s.justified])
				for _, n := range all {
					if n.gen != s.gen {
						continue // outside the justified subtree
					}
					if got, want := types.Gwei(n.weight), spec.getLatestAttestingBalance(n.root); got != want {
						t.Errorf("weight of block at slot %d = %d, spec says %d", n.slot, got, want)
					}
				}
			}

			want := spec.getHead()
			got, err := s.Head()
			if err != nil {
				t.Fatalf("Head: %v", err)
			}
			if got != want {
				t.Fatalf("Head = %s, spec get_head = %s", got, want)
			}

			// Finalize a random ancestor of the justified block and prune.
			jn, ok := s.nodes[s.justified.Root]
			if !ok {
				return
			}
			var anc []*node
			for n := jn; n != nil; n = n.parent {
				anc = append(anc, n)
			}
			f := anc[rng.IntN(len(anc))]
			s.finalized = types.Checkpoint{Epoch: types.Epoch(uint64(f.slot) / s.cfg.SlotsPerEpoch), Root: f.root}
			if s.finalized.Epoch > s.justified.Epoch {
				s.finalized.Epoch = s.justified.Epoch
			}
			before := s.Len()
			removed := s.Prune()
			if s.Len() != before-removed {
				t.Errorf("Prune removed %d of %d blocks but %d remain", removed, before, s.Len())
			}
			checkTree(t, s)
			if got, err := s.Head(); err != nil || got != want {
				t.Fatalf("after Prune: Head = %s, %v; want %s", got, err, want)
			}
			if got := snapshot(s).getHead(); got != want {
				t.Fatalf("after Prune: spec get_head = %s, want %s", got, want)
			}
		})
	}
}

// checkTree checks the structural invariants of the store's tree: parent
// and child links agree with the blocks, every block descends from the
// finalized block, and the finalized and justified blocks are present.
func checkTree(t *testing.T, s *Store) {
	t.Helper()
	if _, ok := s.nodes[s.finalized.Root]; !ok {
		t.Errorf("finalized block %s is not in the store", s.finalized.Root)
	}
	for r, n := range s.nodes {
		if n.root != r || n.block == nil {
			t.Fatalf("node %s is keyed %s or has no block", n.root, r)
		}
		if n.parent != nil {
			if s.nodes[n.parent.root] != n.parent || n.block.GetParentRoot() != n.parent.root {
				t.Errorf("block %s: parent link to %s is stale", r, n.parent.root)
			}
			if !slices.Contains(n.parent.children, n) {
				t.Errorf("block %s is not among its parent's children", r)
			}
		} else if p, ok := s.nodes[n.block.GetParentRoot()]; ok {
			t.Errorf("block %s: parent %s is in the store but not linked", r, p.root)
		}
		for _, c := range n.children {
			if s.nodes[c.root] != c || c.parent != n {
				t.Errorf("block %s: child %s is stale", r, c.root)
			}
		}
		descends := false
		for a := n; a != nil; a = a.parent {
			if a.root == s.finalized.Root || a.root == s.justified.Root {
				descends = true
			}
		}
		if !descends {
			t.Errorf("block %s at slot %d descends from neither the finalized nor the justified block", r, n.slot)
		}
	}
}

// TestHeadMatchesSpecOnRandomChains is the same property on real chains:
// random block trees built by the state transition, votes cast as real
// attestations by random validators and fed through OnAttestation in random
// order, with Head checked against the spec after every step.
func TestHeadMatchesSpecOnRandomChains(t *testing.T) {
	const seeds = 16
	for seed := range uint64(seeds) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 0xc4a1))
			c := newChain(t)
			s := c.store()
			roots := []types.Root{c.genesisRoot}
			latest := map[types.ValidatorIndex]LatestMessage{}
			check := func(step string) {
				t.Helper()
				got, err := s.Head()
				if err != nil {
					t.Fatalf("%s: Head: %v", step, err)
				}
				if want := snapshot(s).getHead(); got != want {
					t.Fatalf("%s: Head = %s, spec get_head = %s", step, got, want)
				}
			}
			for step := range 20 {
				if rng.IntN(2) == 0 {
					p := roots[rng.IntN(len(roots))]
					slot := c.blocks[p].Slot + 1 + types.Slot(rng.IntN(3))
					if slot >= 3*types.Slot(c.cfg.SlotsPerEpoch) {
						continue
					}
					_, r := c.build(p, slot, byte(rng.Uint32()))
					addBlocks(t, c, s, r)
					roots = append(roots, r)
					check(fmt.Sprintf("step %d: block at slot %d", step, slot))
					continue
				}
				head := roots[rng.IntN(len(roots))]
				epoch := core.ComputeEpochOfSlot(c.cfg, c.blocks[head].Slot) + types.Epoch(rng.IntN(2))
				var vals []types.ValidatorIndex
				for v := range types.ValidatorIndex(numValidators) {
					if rng.IntN(3) == 0 {
						vals = append(vals, v)
					}
				}
				atts := c.vote(head, epoch, vals...)
				rng.Shuffle(len(atts), func(i, j int) { atts[i], atts[j] = atts[j], atts[i] })
				addAttestations(t, c, s, atts...)
				// The spec's update of latest_messages, on indices computed here.
				st := c.attState(head, core.ComputeStartSlotOfEpoch(c.cfg, epoch))
				for _, a := range atts {
					idx, err := c.tr.AttestingIndices(st, &a.Data, a.AggregationBits)
					if err != nil {
						t.Fatal(err)
					}
					for _, i := range idx {
						if m, ok := latest[i]; !ok || a.Data.Target.Epoch > m.Epoch {
							latest[i] = LatestMessage{Epoch: a.Data.Target.Epoch, Root: a.Data.BeaconBlockRoot}
						}
					}
				}
				if diff := cmp.Diff(latest, snapshot(s).latestMessages); diff != "" {
					t.Fatalf("step %d: latest messages (-spec +store):\n%s", step, diff)
				}
				check(fmt.Sprintf("step %d: %d votes for %s in epoch %d", step, len(vals), head, epoch))
			}
			if diff := cmp.Diff(len(roots), s.Len()); diff != "" {
				t.Errorf("block count (-built +stored):\n%s", diff)
			}
		})
	}
}
