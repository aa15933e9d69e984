package validator

import (
	"errors"
	"strings"
	"testing"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/bls"
)

func TestProduceBlockAccepted(t *testing.T) {
	t.Parallel()
	c := newTestChain(t, 64)
	graffiti := types.Root{'s', 'h', 'a', 'r', 'd', 'l', 'a', 'b'}
	b, post, err := ProduceBlock(c.tr, c.genesis, 1, c.keys, nil, graffiti)
	if err != nil {
		t.Fatal(err)
	}
	if b.Body.Graffiti != graffiti || b.Body.Eth1Data != c.genesis.Eth1Data || len(b.Body.Attestations) != 0 {
		t.Fatalf("unexpected body %+v", b.Body)
	}
	got := c.apply(t, c.genesis, b)
	r1, _ := got.HashTreeRoot()
	r2, _ := post.HashTreeRoot()
	if r1 != r2 || r1 != b.StateRoot {
		t.Fatal("returned post-state differs from the transition's")
	}
	// The genesis state is untouched.
	if c.genesis.Slot != 0 {
		t.Fatal("ProduceBlock modified the pre-state")
	}

	// The signature is the proposer's over signing_root(block).
	pre := c.genesis.Copy()
	if err := c.tr.ProcessSlots(pre, 1); err != nil {
		t.Fatal(err)
	}
	proposer, err := c.tr.BeaconProposerIndex(pre)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := bls.PublicKeyFromBytes(pre.Validators[proposer].Pubkey[:])
	if err != nil {
		t.Fatal(err)
	}
	sig, err := bls.SignatureFromBytes(b.Signature[:])
	if err != nil {
		t.Fatal(err)
	}
	root, _ := b.SigningRoot()
	if !bls.Verify(pk, root, sig, c.tr.Domain(pre, c.tr.Config().DomainBeaconProposer, 0)) {
		t.Fatal("block signature does not verify")
	}

	// Any change to the signed block breaks it.
	bad := *b
	bad.Body.Graffiti[0] ^= 1
	if err := c.tr.StateTransition(c.genesis.Copy(), &bad, core.VerifySigs, false); !errors.Is(err, core.ErrInvalidSignature) {
		t.Fatalf("tampered block: err = %v, want ErrInvalidSignature", err)
	}
}

// TestChainWithAttestations builds three epochs of blocks, each including
// the full-committee aggregates of the previous slot, and checks every block
// with full signature verification, the inclusion of the attestations and
// the resulting justification and crosslinks.
func TestChainWithAttestations(t *testing.T) {
	t.Parallel()
	c := newTestChain(t, 64)
	cfg := c.tr.Config()
	st := c.genesis
	pool := c.attestAll(t, st)
	last := 4 * cfg.SlotsPerEpoch
	for slot := types.Slot(1); uint64(slot) <= last; slot++ {
		b, post, err := ProduceBlock(c.tr, st, slot, c.keys, pool, types.Root{})
		if err != nil {
			t.Fatalf("slot %d: %v", slot, err)
		}
		if len(b.Body.Attestations) != len(pool) {
			t.Fatalf("slot %d: included %d attestations of %d", slot, len(b.Body.Attestations), len(pool))
		}
		st = c.apply(t, st, b)
		if r, _ := post.HashTreeRoot(); r != b.StateRoot {
			t.Fatalf("slot %d: post-state root mismatch", slot)
		}
		pool = c.attestAll(t, st)
	}
	// At slot 4*8 the epoch 3 processing has run: epochs 2 and 3 justified,
	// 2 finalized.
	if st.CurrentJustifiedCheckpoint.Epoch != 3 || st.FinalizedCheckpoint.Epoch != 2 {
		t.Fatalf("justified %d finalized %d, want 3 and 2", st.CurrentJustifiedCheckpoint.Epoch, st.FinalizedCheckpoint.Epoch)
	}
	for sh, cl := range st.CurrentCrosslinks {
		if cl.EndEpoch == 0 {
			t.Errorf("shard %d never crosslinked: %+v", sh, cl)
		}
	}
}

func TestProduceBlockWrongKeys(t *testing.T) {
	t.Parallel()
	c := newTestChain(t, 64)
	// Find a slot whose proposer lies outside keys [0, 32).
	half, err := NewInteropKeys(0, 32)
	if err != nil {
		t.Fatal(err)
	}
	for slot := types.Slot(1); slot < 16; slot++ {
		st := c.genesis.Copy()
		if err := c.tr.ProcessSlots(st, slot); err != nil {
			t.Fatal(err)
		}
		p, err := c.tr.BeaconProposerIndex(st)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = ProduceBlock(c.tr, c.genesis, slot, half, nil, types.Root{})
		if p < 32 {
			if err != nil {
				t.Fatalf("slot %d, proposer %d in the key set: %v", slot, p, err)
			}
			continue
		}
		if !errors.Is(err, ErrNoKey) {
			t.Fatalf("slot %d, proposer %d: err = %v, want ErrNoKey", slot, p, err)
		}
		for _, want := range []string{"slot", "validator", "keys [0, 32)"} {
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("error %q does not mention %q", err, want)
			}
		}
		return
	}
	t.Fatal("no proposer outside keys [0, 32) in 15 slots")
}

func TestProduceBlockSlotChecks(t *testing.T) {
	t.Parallel()
	c := newTestChain(t, 64)
	if _, _, err := ProduceBlock(c.tr, c.genesis, 0, c.keys, nil, types.Root{}); err == nil {
		t.Fatal("a block at the genesis slot was produced")
	}
	b, post, err := ProduceBlock(c.tr, c.genesis, 3, c.keys, nil, types.Root{})
	if err != nil {
		t.Fatal(err)
	}
	c.apply(t, c.genesis, b) // skipped slots 1 and 2
	if _, _, err := ProduceBlock(c.tr, post, 3, c.keys, nil, types.Root{}); err == nil {
		t.Fatal("a second block at slot 3 was produced")
	}
}

// TestProduceBlockAggregatesAndFilters gives the proposer individual
// attestations (to be aggregated), a duplicate, a subset aggregate, badly
// signed ones, one for a wrong source and one too recent to include.
func TestProduceBlockAggregatesAndFilters(t *testing.T) {
	t.Parallel()
	c := newTestChain(t, 64)
	b1, st1, err := ProduceBlock(c.tr, c.genesis, 1, c.keys, nil, types.Root{})
	if err != nil {
		t.Fatal(err)
	}
	st1 = c.apply(t, c.genesis, b1)
	head, err := b1.SigningRoot()
	if err != nil {
		t.Fatal(err)
	}
	coms, err := SlotCommittees(c.tr, st1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(coms) != 1 || len(coms[0].Committee) != 8 {
		t.Fatalf("minimal preset with 64 validators: %d committees of slot 1", len(coms))
	}
	com := coms[0]
	data, err := ProduceAttestationData(c.tr, st1, head, 1, com.Shard)
	if err != nil {
		t.Fatal(err)
	}
	var singles []*types.Attestation
	for _, v := range com.Committee {
		a, err := SignAttestation(c.tr, st1, data, com.Committee, v, c.keys)
		if err != nil {
			t.Fatal(err)
		}
		singles = append(singles, a)
	}
	sub, err := AggregateCommittee(c.tr, st1, data, com.Committee, com.Committee[:3], c.keys)
	if err != nil {
		t.Fatal(err)
	}
	// forged: member 0's bit with member 1's signature, first in the pool so
	// that it is aggregated before member 0's genuine attestation.
	forged := *singles[0]
	forged.Signature = singles[1].Signature
	// forgedOther: a vote for another head, signed over data.
	forgedOther := *sub
	forgedOther.Data.BeaconBlockRoot = types.Root{1}
	// wrong: a wrong source, well signed.
	wrongData := *data
	wrongData.Source.Epoch = 1
	wrong, err := AggregateCommittee(c.tr, st1, &wrongData, com.Committee, com.Committee, c.keys)
	if err != nil {
		t.Fatal(err)
	}
	pools := []struct {
		name string
		pool []*types.Attestation
	}{
		{"singles", singles},
		{"singles, duplicate, subset", append(append([]*types.Attestation{sub}, singles...), singles[2])},
		{"forged single first", append([]*types.Attestation{&forged}, singles...)},
		{"forged other data", append([]*types.Attestation{&forgedOther}, singles...)},
		{"wrong source", append([]*types.Attestation{wrong}, singles...)},
	}
	for _, tc := range pools {
		name, pool := tc.name, tc.pool
		b2, _, err := ProduceBlock(c.tr, st1, 2, c.keys, pool, types.Root{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		st2 := c.apply(t, st1, b2)
		if len(b2.Body.Attestations) != 1 {
			t.Fatalf("%s: block holds %d attestations, want the one full aggregate", name, len(b2.Body.Attestations))
		}
		got := b2.Body.Attestations[0]
		if BitCount(got) != len(com.Committee) || got.Data != *data {
			t.Fatalf("%s: aggregate has %d of %d bits", name, BitCount(got), len(com.Committee))
		}
		if len(st2.CurrentEpochAttestations) != 1 {
			t.Fatalf("%s: %d pending attestations", name, len(st2.CurrentEpochAttestations))
		}
	}

	b2, _, err := ProduceBlock(c.tr, st1, 2, c.keys, singles, types.Root{})
	if err != nil {
		t.Fatal(err)
	}
	st2 := c.apply(t, st1, b2)

	// Attestations of slot 2 are not includable at slot 2 itself.
	head2, _ := b2.SigningRoot()
	coms2, err := SlotCommittees(c.tr, st2, 2)
	if err != nil {
		t.Fatal(err)
	}
	d2, err := ProduceAttestationData(c.tr, st2, head2, 2, coms2[0].Shard)
	if err != nil {
		t.Fatal(err)
	}
	a2, err := AggregateCommittee(c.tr, st2, d2, coms2[0].Committee, coms2[0].Committee, c.keys)
	if err != nil {
		t.Fatal(err)
	}
	cands := includable(c.tr, st2, []*types.Attestation{a2})
	if len(cands) != 0 {
		t.Fatal("an attestation of the current slot is includable")
	}
}

// TestProduceShardBeaconBlock runs a short chain of shard-fork blocks whose
// attestations vote crosslink data roots, each accepted with every signature
// checked.
func TestProduceShardBeaconBlock(t *testing.T) {
	cfg := params.Minimal().WithShards()
	tr := core.New(cfg)
	keys, err := NewInteropKeys(0, 64)
	if err != nil {
		t.Fatal(err)
	}
	st, err := InteropGenesis(tr, 64, cfg.MinGenesisTime, WithKeys(keys), SkipDepositSignatures())
	if err != nil {
		t.Fatal(err)
	}
	dataRoot := func(c types.Crosslink) (types.Root, error) {
		return types.Root{byte(c.Shard) + 1, byte(c.EndEpoch)}, nil
	}
	var pool []*types.Attestation
	for slot := types.Slot(1); slot <= types.Slot(2*cfg.SlotsPerEpoch); slot++ {
		b, post, err := ProduceShardBeaconBlock(tr, st, slot, keys, pool, types.Root{}, nil)
		if err != nil {
			t.Fatalf("slot %d: %v", slot, err)
		}
		check := st.Copy()
		if err := tr.StateTransitionShard(check, b, core.VerifySigs, true); err != nil {
			t.Fatalf("slot %d: %v", slot, err)
		}
		st = post
		head, _ := LatestBlockRoot(st)
		coms, err := SlotCommittees(tr, st, slot)
		if err != nil {
			t.Fatal(err)
		}
		pool = pool[:0]
		for _, sc := range coms {
			data, err := ProduceAttestationData(tr, st, head, slot, sc.Shard, WithDataRoot(dataRoot))
			if err != nil {
				t.Fatal(err)
			}
			if data.Crosslink.DataRoot.IsZero() {
				t.Fatal("no data root voted")
			}
			a, err := AggregateCommittee(tr, st, data, sc.Committee, sc.Committee, keys)
			if err != nil {
				t.Fatal(err)
			}
			pool = append(pool, a)
		}
	}
	crosslinked := 0
	for _, c := range st.CurrentCrosslinks {
		if !c.DataRoot.IsZero() {
			crosslinked++
		}
	}
	if crosslinked == 0 {
		t.Fatal("no crosslink with data was written")
	}
	// A phase 0 block is refused in the fork.
	if _, _, err := ProduceBlock(tr, st, st.Slot+1, keys, nil, types.Root{}); err == nil {
		t.Fatal("phase 0 block produced in the shard fork")
	}
}
