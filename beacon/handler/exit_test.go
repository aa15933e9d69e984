package handler

import (
	"errors"
	"math"
	"testing"

	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
)

// hostingHandler is a test handler hosting interop validators 0..15.
func hostingHandler(t *testing.T, edit func(*Config)) *Handler {
	t.Helper()
	keys, err := validator.NewInteropKeys(0, 16)
	if err != nil {
		t.Fatal(err)
	}
	h, _, _ := newTestHandler(t, 0, func(c *Config) {
		c.Keys = keys
		if edit != nil {
			edit(c)
		}
	})
	return h
}

// TestSetValidatorsOffline takes single hosted validators offline and back,
// keeps a Behaviour's own offline validators, and refuses validators the
// node does not host without changing anything.
func TestSetValidatorsOffline(t *testing.T) {
	t.Parallel()
	h := hostingHandler(t, func(c *Config) {
		c.Behaviour.Offline = func(v types.ValidatorIndex) bool { return v == 9 }
	})
	off := func(v types.ValidatorIndex) bool { return is(h.cfg.Behaviour.Offline, v) }
	tests := []struct {
		name    string
		vs      []types.ValidatorIndex
		off     bool
		wantErr bool
		now     []types.ValidatorIndex
	}{
		{"take two offline", []types.ValidatorIndex{3, 4}, true, false, []types.ValidatorIndex{3, 4}},
		{"one more", []types.ValidatorIndex{12}, true, false, []types.ValidatorIndex{3, 4, 12}},
		{"one back", []types.ValidatorIndex{4}, false, false, []types.ValidatorIndex{3, 12}},
		{"hosted elsewhere", []types.ValidatorIndex{5, 40}, true, true, nil},
		{"no such validator", []types.ValidatorIndex{1000}, true, true, nil},
		{"all back", nil, false, false, []types.ValidatorIndex{}},
	}
	for _, tc := range tests {
		now, err := h.SetValidatorsOffline(tc.vs, tc.off)
		if tc.wantErr {
			if !errors.Is(err, ErrNotHosted) || off(5) {
				t.Fatalf("%s: %v (validator 5 offline %v), want ErrNotHosted and no change", tc.name, err, off(5))
			}
			continue
		}
		if err != nil || len(now) != len(tc.now) {
			t.Fatalf("%s: %v, %v, want %v", tc.name, now, err, tc.now)
		}
		for i, v := range now {
			if v != tc.now[i] || !off(v) {
				t.Fatalf("%s: offline now %v, want %v", tc.name, now, tc.now)
			}
		}
	}
	if !off(9) || off(3) {
		t.Fatalf("after all back: 9 offline %v (the Behaviour's), 3 offline %v", off(9), off(3))
	}
}

// TestVoluntaryExitRefused refuses validators the node does not host
// (ErrNotHosted) and an exit the state does not accept yet (minimal's
// PERSISTENT_COMMITTEE_PERIOD), leaving the pool empty.
func TestVoluntaryExitRefused(t *testing.T) {
	t.Parallel()
	h := hostingHandler(t, nil)
	for _, v := range []types.ValidatorIndex{40, 1000} {
		if _, err := h.VoluntaryExit(v, 0); !errors.Is(err, ErrNotHosted) {
			t.Errorf("exit of validator %d: %v, want ErrNotHosted", v, err)
		}
	}
	if _, err := h.VoluntaryExit(3, 0); err == nil || errors.Is(err, ErrNotHosted) {
		t.Errorf("exit of validator 3 at genesis: %v, want the state's refusal", err)
	}
}

// TestWrongDataRootVote finds a shard's crosslink committee and its first
// share of voters, builds their vote for a wrong data root, records it in
// slashing protection (an honest vote for the same target is refused
// afterwards), and refuses bad arguments.
func TestWrongDataRootVote(t *testing.T) {
	t.Parallel()
	h := hostingHandler(t, nil)
	for _, tc := range []struct {
		name  string
		shard types.Shard
		share float64
		start types.Slot
	}{
		{"no share", 0, 0, 0},
		{"share over 1", 0, 1.5, 0},
		{"share NaN", 0, math.NaN(), 0},
		{"mid-epoch", 0, 0.5, 3},
		{"no such shard", 99, 0.5, 0},
	} {
		if _, _, _, err := h.WrongDataRootDuty(tc.shard, tc.share, tc.start); !errors.Is(err, ErrByzantine) {
			t.Errorf("%s: %v, want ErrByzantine", tc.name, err)
		}
	}
	var (
		slot   types.Slot
		sc     validator.SlotCommittee
		voters []types.ValidatorIndex
	)
	found := false
	for shard := range types.Shard(h.pcfg.ShardCount) {
		var err error
		if slot, sc, voters, err = h.WrongDataRootDuty(shard, 0.34, 0); err == nil {
			found = true
			break
		}
	}
	if !found {
		t.Fatal("no shard has a committee in epoch 0")
	}
	if want := int(math.Ceil(0.34 * float64(len(sc.Committee)))); len(voters) != want || voters[0] != sc.Committee[0] {
		t.Fatalf("voters %v of committee %v, want its first %d", voters, sc.Committee, want)
	}
	var hosted []types.ValidatorIndex
	for _, v := range sc.Committee {
		if v < 16 {
			hosted = append(hosted, v)
		}
	}
	if len(hosted) == 0 {
		t.Fatal("the committee has no validator of 0..15")
	}
	wrong := types.Root{0xba, 0xd}
	a, signed, err := h.WrongDataRootVote(slot, sc, hosted, func(types.Crosslink) (types.Root, error) { return wrong, nil })
	if err != nil {
		t.Fatal(err)
	}
	if a.Data.Crosslink.DataRoot != wrong || len(signed) != len(hosted) {
		t.Fatalf("vote for %s by %v, want %s by %v", a.Data.Crosslink.DataRoot, signed, wrong, hosted)
	}
	honest := (&types.AttestationDataAndCustodyBit{Data: types.AttestationData{Target: a.Data.Target, Source: a.Data.Source}}).TreeRoot()
	if err := h.chain.Store().CheckAndRecordAttestation(hosted[0], a.Data.Source.Epoch, a.Data.Target.Epoch, honest); err == nil {
		t.Fatal("slashing protection accepts a second vote for the target after the wrong one")
	}
	if _, _, err := h.WrongDataRootVote(slot, sc, hosted, UnknownDataRoot); !errors.Is(err, ErrByzantine) {
		t.Fatalf("voting again: %v, want ErrByzantine (protection refuses every voter)", err)
	}
}
