package validator

import (
	"errors"
	"testing"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/bls"
)

func TestProduceAttestationData(t *testing.T) {
	t.Parallel()
	c := newTestChain(t, 64)
	cfg := c.tr.Config()
	// Blocks at slots 1..9: slot 8 starts epoch 1.
	st := c.genesis
	roots := map[types.Slot]types.Root{}
	genesisRoot, err := LatestBlockRoot(st)
	if err != nil {
		t.Fatal(err)
	}
	roots[0] = genesisRoot
	states := map[types.Slot]*types.BeaconState{0: st}
	for slot := types.Slot(1); slot <= 9; slot++ {
		b, post, err := ProduceBlock(c.tr, st, slot, c.keys, nil, types.Root{})
		if err != nil {
			t.Fatal(err)
		}
		st = post
		roots[slot], _ = b.SigningRoot()
		if r, _ := LatestBlockRoot(st); r != roots[slot] {
			t.Fatalf("LatestBlockRoot of the post-state of slot %d is not the block root", slot)
		}
		states[slot] = st
	}
	tests := []struct {
		name       string
		head       types.Slot // head block slot
		slot       types.Slot // attestation slot
		wantTarget types.Root
		wantEpoch  types.Epoch
	}{
		{name: "genesis head at genesis", head: 0, slot: 0, wantTarget: roots[0], wantEpoch: 0},
		{name: "mid-epoch head", head: 5, slot: 5, wantTarget: roots[0], wantEpoch: 0},
		{name: "head at the epoch start", head: 8, slot: 8, wantTarget: roots[8], wantEpoch: 1},
		{name: "head after the epoch start", head: 9, slot: 9, wantTarget: roots[8], wantEpoch: 1},
		{name: "old head, empty epoch start", head: 6, slot: 8, wantTarget: roots[6], wantEpoch: 1},
		{name: "old head, later slot", head: 6, slot: 10, wantTarget: roots[6], wantEpoch: 1},
	}
	for _, tc := range tests {
		hs := states[tc.head]
		coms, err := SlotCommittees(c.tr, hs, tc.slot)
		if err != nil {
			t.Fatal(err)
		}
		shard := coms[0].Shard
		d, err := ProduceAttestationData(c.tr, hs, roots[tc.head], tc.slot, shard)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if d.BeaconBlockRoot != roots[tc.head] || d.Target.Root != tc.wantTarget || d.Target.Epoch != tc.wantEpoch {
			t.Errorf("%s: head %x target %d/%x", tc.name, d.BeaconBlockRoot[:4], d.Target.Epoch, d.Target.Root[:4])
		}
		if d.Source != hs.CurrentJustifiedCheckpoint {
			t.Errorf("%s: source %+v", tc.name, d.Source)
		}
		parent := hs.CurrentCrosslinks[shard]
		if d.Crosslink.Shard != shard || d.Crosslink.ParentRoot != parent.TreeRoot() || d.Crosslink.StartEpoch != parent.EndEpoch ||
			uint64(d.Crosslink.EndEpoch) != min(uint64(tc.wantEpoch), uint64(parent.EndEpoch)+cfg.MaxEpochsPerCrosslink) || !d.Crosslink.DataRoot.IsZero() {
			t.Errorf("%s: crosslink %+v", tc.name, d.Crosslink)
		}
		if hs.Slot != tc.head {
			t.Fatalf("%s: head state modified", tc.name)
		}
		// Another slot's shard is not assigned.
		other, err := SlotCommittees(c.tr, hs, tc.slot+1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ProduceAttestationData(c.tr, hs, roots[tc.head], tc.slot, other[0].Shard); !errors.Is(err, ErrNotAssigned) {
			t.Errorf("%s: shard of the next slot: err = %v, want ErrNotAssigned", tc.name, err)
		}
	}
	if _, err := ProduceAttestationData(c.tr, states[9], roots[9], 8, 0); err == nil {
		t.Error("attestation data for a slot before the head state was produced")
	}
}

func TestAggregateCommitteeSignature(t *testing.T) {
	t.Parallel()
	c := newTestChain(t, 64)
	st := c.genesis
	head, err := LatestBlockRoot(st)
	if err != nil {
		t.Fatal(err)
	}
	coms, err := SlotCommittees(c.tr, st, 0)
	if err != nil {
		t.Fatal(err)
	}
	com := coms[0]
	data, err := ProduceAttestationData(c.tr, st, head, 0, com.Shard)
	if err != nil {
		t.Fatal(err)
	}
	parts := []types.ValidatorIndex{com.Committee[1], com.Committee[4], com.Committee[7]}
	a, err := AggregateCommittee(c.tr, st, data, com.Committee, parts, c.keys)
	if err != nil {
		t.Fatal(err)
	}
	if bitlistLen(a.AggregationBits) != len(com.Committee) || bitlistLen(a.CustodyBits) != len(com.Committee) || countBits(a.CustodyBits) != 0 {
		t.Fatal("bitlists have the wrong shape")
	}
	for i := range com.Committee {
		want := i == 1 || i == 4 || i == 7
		if bitSet(a.AggregationBits, i) != want {
			t.Fatalf("bit %d = %v", i, !want)
		}
	}
	// The indexed attestation verifies with the spec's check.
	ia, err := c.tr.IndexedAttestation(st, a)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.tr.IsValidIndexedAttestation(st, ia, core.VerifySigs); err != nil {
		t.Fatal(err)
	}
	// And directly against the aggregate public key.
	var pks []*bls.PublicKey
	for _, v := range parts {
		pk, err := bls.PublicKeyFromBytes(st.Validators[v].Pubkey[:])
		if err != nil {
			t.Fatal(err)
		}
		pks = append(pks, pk)
	}
	sig, err := bls.SignatureFromBytes(a.Signature[:])
	if err != nil {
		t.Fatal(err)
	}
	msg := (&types.AttestationDataAndCustodyBit{Data: *data}).TreeRoot()
	if !bls.Verify(bls.AggregatePublicKeys(pks), msg, sig, c.tr.Domain(st, c.tr.Config().DomainAttestation, 0)) {
		t.Fatal("aggregate signature does not verify")
	}

	// Errors: outsider, duplicate, no participants, wrong committee, missing key.
	outsider := types.ValidatorIndex(0)
	for _, v := range com.Committee {
		if v == outsider {
			outsider = 1
		}
	}
	if _, err := AggregateCommittee(c.tr, st, data, com.Committee, []types.ValidatorIndex{outsider}, c.keys); !errors.Is(err, ErrNotAssigned) {
		t.Errorf("outsider: err = %v", err)
	}
	if _, err := AggregateCommittee(c.tr, st, data, com.Committee, []types.ValidatorIndex{parts[0], parts[0]}, c.keys); err == nil {
		t.Error("duplicate participant accepted")
	}
	if _, err := AggregateCommittee(c.tr, st, data, com.Committee, nil, c.keys); !errors.Is(err, ErrNotAssigned) {
		t.Errorf("no participants: err = %v", err)
	}
	if _, err := AggregateCommittee(c.tr, st, data, com.Committee[1:], parts, c.keys); !errors.Is(err, ErrNotAssigned) {
		t.Errorf("wrong committee: err = %v", err)
	}
	none, err := NewInteropKeys(1000, 4)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := SignAttestation(c.tr, st, data, com.Committee, parts[0], none); !errors.Is(err, ErrNoKey) {
		t.Errorf("missing key: err = %v", err)
	}
}
