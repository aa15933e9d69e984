package api_test

import (
	"log/slog"
	"testing"

	beaconapi "github.com/shardlab/shardlab/beacon/api"
	"github.com/shardlab/shardlab/beacon/api/apitest"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/shard/api"
)

// headAt is the apitest backend with its head moved to an earlier block.
type headAt struct {
	*apitest.Backend
	root bt.Root
	slot bt.Slot
}

func (h headAt) Head() (bt.Root, bt.Slot) { return h.root, h.slot }

// TestCrosslinksByPosition: a crosslink is reported for the shard whose
// position it has in current_crosslinks, never for its shard field, which is
// 0 in the genesis crosslink of every shard; a shard not crosslinked yet
// (end_epoch 0) has no header, rather than another shard's.
func TestCrosslinksByPosition(t *testing.T) {
	t.Parallel()
	f := newFakeShards(t)
	c := f.beacon
	first := bt.Slot(0) // the first canonical block whose state crosslinked a shard
	for slot := bt.Slot(1); slot <= c.HeadSlot && first == 0; slot++ {
		if root, ok := c.Canonical[slot]; ok {
			for _, cl := range c.States[root].CurrentCrosslinks {
				if cl.EndEpoch > 0 {
					first = slot
				}
			}
		}
	}
	if first == 0 {
		t.Fatal("the test chain never crosslinks")
	}
	tests := []struct {
		name        string
		slot        bt.Slot
		crosslinked int // shards with end_epoch > 0, at least
	}{
		{"genesis", 0, 0},
		{"first crosslinks", first, 1},
		{"head", c.HeadSlot, int(c.Config.ShardCount)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := c.Canonical[tc.slot]
			if tc.slot == 0 {
				root = c.GenesisRoot
			}
			state := c.States[root]
			be := apitest.NewBackend(c)
			srv := beaconapi.NewServer(beaconapi.DefaultServerConfig(), be, be, slog.New(slog.DiscardHandler))
			srv.Mount(api.Prefix, api.New(api.DefaultConfig(), f, headAt{Backend: be, root: root, slot: tc.slot}, slog.New(slog.DiscardHandler)))
			h := srv.Handler()

			// want checks the crosslink JSON of shard i.
			crosslinked := 0
			want := func(i int, cj any) {
				t.Helper()
				cl := state.CurrentCrosslinks[i]
				if str(t, cj, "shard") != itoa(uint64(i)) || str(t, cj, "end_epoch") != itoa(cl.EndEpoch) ||
					str(t, cj, "data_root") != cl.DataRoot.String() {
					t.Errorf("shard %d: crosslink %v, state has %+v", i, cj, cl)
				}
				hdr, known := cj.(map[string]any)["header"]
				switch {
				case cl.EndEpoch == 0 && known:
					t.Errorf("shard %d is not crosslinked yet but has a header %v", i, hdr)
				case cl.EndEpoch > 0 && i < 2:
					crosslinked++
					h, err := f.CrosslinkHeader(bt.Shard(i), cl)
					if err != nil {
						t.Fatal(err)
					}
					if !known || str(t, cj, "header", "root") != h.SigningRoot().String() ||
						str(t, cj, "header", "state_root") != h.StateRoot.String() || h.Shard != bt.Shard(i) {
						t.Errorf("shard %d: header %v, want its own %+v", i, hdr, h)
					}
				case cl.EndEpoch > 0:
					crosslinked++
				}
			}
			all := at(t, decode(t, get(t, h, "/shardlab/v1/crosslinks")), "data").([]any)
			if len(all) != len(state.CurrentCrosslinks) {
				t.Fatalf("%d crosslinks, want %d", len(all), len(state.CurrentCrosslinks))
			}
			for i, cj := range all {
				want(i, cj)
			}
			if crosslinked < tc.crosslinked {
				t.Errorf("%d shards crosslinked at slot %d, want at least %d", crosslinked, tc.slot, tc.crosslinked)
			}
			shards := at(t, decode(t, get(t, h, "/shardlab/v1/shards")), "data").([]any)
			for i, s := range shards {
				if str(t, s, "shard") != itoa(uint64(i)) {
					t.Fatalf("shards: entry %d is %v", i, s)
				}
				want(i, at(t, s, "crosslink"))
			}
		})
	}
}
