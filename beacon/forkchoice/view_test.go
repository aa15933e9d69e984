package forkchoice

import (
	"testing"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/types"
)

// TestCheckpointViewReused checks that the attestations of one target
// share one view of its checkpoint state (the committees are derived once
// per checkpoint, not per attestation), that the view gives the votes the
// spec's functions give, and that a rejected attestation with a new
// checkpoint state stores neither.
func TestCheckpointViewReused(t *testing.T) {
	f := newAttFixture(t)
	first := f.c.attest(f.a1, 2, nil)[0]
	if err := f.s.OnAttestation(first, core.VerifySigs); err != nil {
		t.Fatal(err)
	}
	cp := first.Data.Target
	view, ok := f.s.views[cp]
	if !ok {
		t.Fatalf("no view of checkpoint %d/%s after an attestation", cp.Epoch, cp.Root)
	}
	second := f.c.attest(f.a1, 3, nil)[0]
	if second.Data.Target != cp {
		t.Fatal("the two attestations have different targets")
	}
	if err := f.s.OnAttestation(second, core.VerifySigs); err != nil {
		t.Fatal(err)
	}
	if f.s.views[cp] != view {
		t.Fatal("the second attestation of a target made a new view")
	}
	st, _ := f.s.CheckpointState(cp)
	if view.State() != st {
		t.Fatal("the view is not of the stored checkpoint state")
	}
	for _, a := range []*types.Attestation{first, second} {
		ia, err := f.c.tr.IndexedAttestation(st, a)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range ia.CustodyBit0Indices {
			if m, ok := f.s.LatestMessage(types.ValidatorIndex(i)); !ok || m.Root != a.Data.BeaconBlockRoot {
				t.Fatalf("validator %d: latest message %+v, %v", i, m, ok)
			}
		}
	}

	bad := clone(f.c.attest(f.a9, 10, nil)[0])
	bad.Signature = first.Signature
	if err := f.s.OnAttestation(bad, core.VerifySigs); err == nil {
		t.Fatal("accepted an attestation with another's signature")
	}
	if _, ok := f.s.views[bad.Data.Target]; ok {
		t.Fatal("a rejected attestation left a view of its new checkpoint state")
	}
	if _, ok := f.s.CheckpointState(bad.Data.Target); ok {
		t.Fatal("a rejected attestation left its new checkpoint state")
	}
}
