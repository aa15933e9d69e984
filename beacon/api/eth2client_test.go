package api_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	e2client "github.com/attestantio/go-eth2-client"
	e2api "github.com/attestantio/go-eth2-client/api"
	apiv1 "github.com/attestantio/go-eth2-client/api/v1"
	e2http "github.com/attestantio/go-eth2-client/http"
	"github.com/attestantio/go-eth2-client/spec/phase0"
	"github.com/rs/zerolog"
)

// TestEth2Client runs a standard Beacon API client,
// github.com/attestantio/go-eth2-client (pinned in go.mod), over HTTP
// against the server of the test chain: every standard call it makes for
// a route the server has must succeed and agree with the chain.
func TestEth2Client(t *testing.T) {
	srv, _ := newServer(t)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	c := testChain(t)
	head := c.HeadState()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	svc, err := e2http.New(ctx, e2http.WithAddress(ts.URL), e2http.WithLogLevel(zerolog.Disabled), e2http.WithTimeout(10*time.Second))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	nVals := len(head.Validators)
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"Genesis", func() error {
			r, err := svc.(e2client.GenesisProvider).Genesis(ctx, &e2api.GenesisOpts{})
			if err == nil && r.Data.GenesisTime.Unix() != int64(c.Genesis.GenesisTime) {
				t.Errorf("genesis time %v, want %d", r.Data.GenesisTime, c.Genesis.GenesisTime)
			}
			return err
		}},
		{"NodeVersion", func() error {
			r, err := svc.(e2client.NodeVersionProvider).NodeVersion(ctx, &e2api.NodeVersionOpts{})
			if err == nil && r.Data == "" {
				t.Error("empty version")
			}
			return err
		}},
		{"NodeSyncing", func() error {
			r, err := svc.(e2client.NodeSyncingProvider).NodeSyncing(ctx, &e2api.NodeSyncingOpts{})
			if err == nil && uint64(r.Data.HeadSlot) != uint64(c.HeadSlot) {
				t.Errorf("head slot %d, want %d", r.Data.HeadSlot, c.HeadSlot)
			}
			return err
		}},
		{"NodePeers", func() error {
			r, err := svc.(e2client.NodePeersProvider).NodePeers(ctx, &e2api.NodePeersOpts{})
			if err == nil && len(r.Data) != 2 {
				t.Errorf("%d peers, want 2", len(r.Data))
			}
			return err
		}},
		{"Spec", func() error {
			r, err := svc.(e2client.SpecProvider).Spec(ctx, &e2api.SpecOpts{})
			if err == nil && r.Data["SLOTS_PER_EPOCH"] != c.Config.SlotsPerEpoch {
				t.Errorf("SLOTS_PER_EPOCH %v, want %d", r.Data["SLOTS_PER_EPOCH"], c.Config.SlotsPerEpoch)
			}
			return err
		}},
		{"ForkSchedule", func() error {
			r, err := svc.(e2client.ForkScheduleProvider).ForkSchedule(ctx, &e2api.ForkScheduleOpts{})
			if err == nil && len(r.Data) == 0 {
				t.Error("empty fork schedule")
			}
			return err
		}},
		{"BeaconBlockHeader", func() error {
			r, err := svc.(e2client.BeaconBlockHeadersProvider).BeaconBlockHeader(ctx, &e2api.BeaconBlockHeaderOpts{Block: "head"})
			if err == nil && (r.Data.Root != phase0.Root(c.HeadRoot) || uint64(r.Data.Header.Message.Slot) != uint64(c.HeadSlot)) {
				t.Errorf("head header %x at %d, want %x at %d", r.Data.Root, r.Data.Header.Message.Slot, c.HeadRoot, c.HeadSlot)
			}
			return err
		}},
		{"BeaconBlockRoot", func() error {
			r, err := svc.(e2client.BeaconBlockRootProvider).BeaconBlockRoot(ctx, &e2api.BeaconBlockRootOpts{Block: "head"})
			if err == nil && *r.Data != phase0.Root(c.HeadRoot) {
				t.Errorf("head root %x, want %x", *r.Data, c.HeadRoot)
			}
			return err
		}},
		{"BeaconStateRoot", func() error {
			r, err := svc.(e2client.BeaconStateRootProvider).BeaconStateRoot(ctx, &e2api.BeaconStateRootOpts{State: "head"})
			if err == nil && *r.Data != phase0.Root(c.Blocks[c.HeadRoot].GetStateRoot()) {
				t.Errorf("head state root %x", *r.Data)
			}
			return err
		}},
		{"Fork", func() error {
			r, err := svc.(e2client.ForkProvider).Fork(ctx, &e2api.ForkOpts{State: "head"})
			if err == nil && r.Data.CurrentVersion != phase0.Version(head.Fork.CurrentVersion) {
				t.Errorf("fork %x", r.Data.CurrentVersion)
			}
			return err
		}},
		{"Finality", func() error {
			r, err := svc.(e2client.FinalityProvider).Finality(ctx, &e2api.FinalityOpts{State: "head"})
			if err == nil && uint64(r.Data.Finalized.Epoch) != uint64(head.FinalizedCheckpoint.Epoch) {
				t.Errorf("finalized epoch %d, want %d", r.Data.Finalized.Epoch, head.FinalizedCheckpoint.Epoch)
			}
			return err
		}},
		{"Validators all (v0.8.3 state: refused clearly)", func() error {
			// Without a filter the client reads the whole state from
			// /eth/v2/debug/beacon/states, which is v0.8.3's, not the
			// phase0 v1 layout it decodes: it must refuse on the version
			// name, not decode garbage (docs/api.md).
			_, err := svc.(e2client.ValidatorsProvider).Validators(ctx, &e2api.ValidatorsOpts{State: "head"})
			if err == nil || !strings.Contains(err.Error(), `unrecognised data version "shard"`) {
				t.Errorf("Validators without a filter: %v, want the client to refuse the shard state", err)
			}
			return nil
		}},
		{"Validators by status", func() error {
			r, err := svc.(e2client.ValidatorsProvider).Validators(ctx, &e2api.ValidatorsOpts{State: "head",
				Indices: []phase0.ValidatorIndex{0, 1}, ValidatorStates: []apiv1.ValidatorState{apiv1.ValidatorStateActiveOngoing}})
			if err == nil && (len(r.Data) != 2 || r.Data[0].Status != apiv1.ValidatorStateActiveOngoing) {
				t.Errorf("active validators 0 and 1: %+v", r.Data)
			}
			return err
		}},
		{"Validators by index", func() error {
			r, err := svc.(e2client.ValidatorsProvider).Validators(ctx, &e2api.ValidatorsOpts{State: "head", Indices: []phase0.ValidatorIndex{1, 3}})
			if err == nil && (len(r.Data) != 2 || r.Data[3] == nil || uint64(r.Data[3].Balance) != uint64(head.Balances[3])) {
				t.Errorf("validators 1 and 3: %+v", r.Data)
			}
			return err
		}},
		{"Validators by key", func() error {
			key := phase0.BLSPubKey(head.Validators[2].Pubkey)
			r, err := svc.(e2client.ValidatorsProvider).Validators(ctx, &e2api.ValidatorsOpts{State: "head", PubKeys: []phase0.BLSPubKey{key}})
			if err == nil && (len(r.Data) != 1 || r.Data[2] == nil) {
				t.Errorf("validator 2 by key: %+v", r.Data)
			}
			return err
		}},
		{"ValidatorBalances all", func() error {
			r, err := svc.(e2client.ValidatorBalancesProvider).ValidatorBalances(ctx, &e2api.ValidatorBalancesOpts{State: "head"})
			if err == nil && len(r.Data) != nVals {
				t.Errorf("%d balances, want %d", len(r.Data), nVals)
			}
			return err
		}},
		{"ValidatorBalances by index", func() error {
			r, err := svc.(e2client.ValidatorBalancesProvider).ValidatorBalances(ctx, &e2api.ValidatorBalancesOpts{State: "head", Indices: []phase0.ValidatorIndex{0, 5}})
			if err == nil && (len(r.Data) != 2 || uint64(r.Data[5]) != uint64(head.Balances[5])) {
				t.Errorf("balances of 0 and 5: %v", r.Data)
			}
			return err
		}},
		{"BeaconCommittees", func() error {
			r, err := svc.(e2client.BeaconCommitteesProvider).BeaconCommittees(ctx, &e2api.BeaconCommitteesOpts{State: "head"})
			if err == nil && len(r.Data) == 0 {
				t.Error("no committees")
			}
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
