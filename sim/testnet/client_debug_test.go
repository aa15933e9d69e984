package testnet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	beaconapi "github.com/shardlab/shardlab/beacon/api"
	"github.com/shardlab/shardlab/beacon/api/apitest"
)

// TestMetrics reads a Prometheus exposition with selectors: names, label
// matchers, sums over series, absent metrics and malformed lines.
func TestMetrics(t *testing.T) {
	t.Parallel()
	const exposition = `# HELP beacon_finalized_epoch Finalized epoch of the head state.
# TYPE beacon_finalized_epoch gauge
beacon_finalized_epoch 4
beacon_validator_proposals_total{result="proposed"} 7
beacon_validator_proposals_total{result="failed"} 2
shard_blocks_total{outcome="invalid",shard="0"} 1
shard_blocks_total{outcome="invalid",shard="1"} 2 1700000000000
shard_blocks_total{outcome="imported",shard="1"} 30
odd_label{path="a\"b,c"} 5
garbage line here
nan_metric NaN
`
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, exposition) }))
	defer ts.Close()
	wanted := []string{
		"beacon_finalized_epoch",
		"beacon_validator_proposals_total",
		`beacon_validator_proposals_total{result="proposed"}`,
		`shard_blocks_total{outcome="invalid"}`,
		`shard_blocks_total{outcome="invalid", shard="1"}`,
		`odd_label{path="a\"b,c"}`,
		"nan_metric",
		"absent_metric",
	}
	got, err := Metrics(context.Background(), ts.URL, wanted)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		"beacon_finalized_epoch":                              4,
		"beacon_validator_proposals_total":                    9,
		`beacon_validator_proposals_total{result="proposed"}`: 7,
		`shard_blocks_total{outcome="invalid"}`:               3,
		`shard_blocks_total{outcome="invalid", shard="1"}`:    2,
		`odd_label{path="a\"b,c"}`:                            5,
	}
	if !maps.Equal(got, want) {
		t.Fatalf("Metrics = %v, want %v", got, want)
	}
	for _, bad := range []string{"", "1abc", "a b", `m{x}`, `m{x="1"`, `m{x=1}`} {
		if _, err := ParseMetricSelector(bad); err == nil {
			t.Errorf("ParseMetricSelector(%q) accepted", bad)
		}
	}
	if _, err := Metrics(context.Background(), ts.URL, []string{"bad name"}); err == nil {
		t.Error("Metrics accepted a bad selector")
	}
	if _, err := Metrics(context.Background(), ts.URL+"/missing\x00", nil); err == nil {
		t.Error("Metrics accepted a bad URL")
	}
}

// TestClientSampling reads what a scenario samples from the real API
// handlers: the peer ID and the slashed validators.
func TestClientSampling(t *testing.T) {
	t.Parallel()
	ts, _, _ := fakeNode(t)
	c := NewClient(ts.URL)
	id, err := c.PeerID(context.Background())
	if err != nil || id == "" {
		t.Fatalf("PeerID = %q, %v", id, err)
	}
	slashed, err := c.Slashed(context.Background())
	if err != nil || len(slashed) != 0 {
		t.Fatalf("Slashed = %v, %v", slashed, err)
	}
	// The debug routes are not mounted: a clear error, no panic.
	if err := c.SetDuties(context.Background(), false); err == nil {
		t.Fatal("SetDuties on a node without the debug API succeeded")
	}
}

// TestFishermenAndDebugAPI checks the layout of fishermen (every shard,
// two keys) and the --debug-api flag.
func TestFishermenAndDebugAPI(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.BeaconNodes, cfg.ShardNodes, cfg.Fishermen, cfg.DebugAPI = 2, 2, 1, true
	specs := cfg.NodeSpecs()
	if len(specs) != 5 {
		t.Fatalf("%d specs, want 5", len(specs))
	}
	f := specs[4]
	if f.Name != "shard-2" || f.Role != RoleShard || f.Validators != FishermanKeys || !slices.Equal(f.Shards, []uint64{0, 1, 2, 3, 4, 5, 6, 7}) {
		t.Fatalf("fisherman spec %+v", f)
	}
	for _, s := range specs {
		if args := strings.Join(s.Args("/g", nil, "info"), " "); !strings.Contains(args, "--debug-api") {
			t.Errorf("%s: args %q lack --debug-api", s.Name, args)
		}
	}
	cfg.DebugAPI = false
	if args := strings.Join(cfg.NodeSpecs()[0].Args("/g", nil, "info"), " "); strings.Contains(args, "--debug-api") {
		t.Errorf("args %q have --debug-api", args)
	}
	cfg.Fishermen = -1
	cfg.Binary = "/bin/true"
	if err := cfg.Validate(); err == nil {
		t.Error("negative fishermen accepted")
	}
	cfg.Fishermen, cfg.ShardNodes, cfg.Shards = 1, 0, 0
	if err := cfg.Validate(); err == nil {
		t.Error("fishermen without shards accepted")
	}
}

// TestDebugClient calls every debug route of a fake node that answers as
// beacon/node and shard/node do (beacon/api's encoder) and records the
// requests.
func TestDebugClient(t *testing.T) {
	t.Parallel()
	var got []string
	mux := http.NewServeMux()
	answer := func(v any) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			got = append(got, r.Method+" "+r.URL.Path+" "+string(body))
			_ = beaconapi.WriteData(w, v)
		}
	}
	mux.Handle("POST /shardlab/v1/debug/peers/block", answer([]string{"a"}))
	mux.Handle("POST /shardlab/v1/debug/peers/unblock", answer([]string{}))
	mux.Handle("POST /shardlab/v1/debug/duties", answer(map[string]bool{"enabled": false}))
	mux.Handle("POST /shardlab/v1/debug/double_vote", answer(map[string]uint64{"slot": 26}))
	mux.Handle("POST /shardlab/v1/debug/equivocate", answer(map[string]uint64{"slot": 20}))
	mux.Handle("POST /shardlab/v1/debug/shards/3/invalid_block", answer(map[string]any{"shard": "3", "slot": "17", "proposer": "61", "root": "0x01"}))
	ts := httptest.NewServer(mux)
	defer ts.Close()
	c, ctx := NewClient(ts.URL), context.Background()
	if err := c.BlockPeers(ctx, []string{"a"}); err != nil {
		t.Fatal(err)
	}
	if err := c.UnblockPeers(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.SetDuties(ctx, false); err != nil {
		t.Fatal(err)
	}
	if slot, err := c.ByzantineVote(ctx, "double_vote", 3); err != nil || slot != 26 {
		t.Fatalf("ByzantineVote = %d, %v", slot, err)
	}
	if err := c.Equivocate(ctx, 20); err != nil {
		t.Fatal(err)
	}
	if slot, proposer, err := c.InvalidShardBlock(ctx, 3); err != nil || slot != 17 || proposer != 61 {
		t.Fatalf("InvalidShardBlock = %d, %d, %v", slot, proposer, err)
	}
	want := []string{
		`POST /shardlab/v1/debug/peers/block {"peers":["a"]}`,
		`POST /shardlab/v1/debug/peers/unblock {"peers":null}`,
		`POST /shardlab/v1/debug/duties {"enabled":false}`,
		`POST /shardlab/v1/debug/double_vote {"validator":3}`,
		`POST /shardlab/v1/debug/equivocate {"slot":20}`,
		`POST /shardlab/v1/debug/shards/3/invalid_block {"kind":"state_root"}`,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("requests:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestHeadStateAndParticipation reads the head state as SSZ from the real
// beacon API handlers over an apitest chain (5 epochs of attested blocks):
// it is the chain's head state, and its previous-epoch participation, the
// figure the scenario runner samples at epoch starts, is that of the
// chain's own state and above zero. A route that answers 404 is an
// ErrNotFound, not a decode error.
func TestHeadStateAndParticipation(t *testing.T) {
	ts, _, c := fakeNodeOf(t, apitest.ChainOptions{Slots: 40})
	st, err := NewClient(ts.URL).HeadState(context.Background(), c.Config)
	if err != nil {
		t.Fatal(err)
	}
	want := c.States[c.HeadRoot]
	gotRoot, _ := st.HashTreeRoot()
	wantRoot, _ := want.HashTreeRoot()
	if gotRoot != wantRoot {
		t.Fatalf("head state root %x, want %x", gotRoot, wantRoot)
	}
	p := c.Transition.PreviousEpochParticipation(st)
	if p <= 0.5 || p > 1 || p != c.Transition.PreviousEpochParticipation(want) {
		t.Fatalf("participation %.3f, want the chain's %.3f (> 0.5)", p, c.Transition.PreviousEpochParticipation(want))
	}
	missing := httptest.NewServer(http.NotFoundHandler())
	defer missing.Close()
	if _, err := NewClient(missing.URL).HeadState(context.Background(), c.Config); !errors.Is(err, ErrNotFound) {
		t.Fatalf("HeadState from a 404: %v, want ErrNotFound", err)
	}
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte{1, 2, 3}) }))
	defer garbage.Close()
	if _, err := NewClient(garbage.URL).HeadState(context.Background(), c.Config); err == nil || !strings.Contains(err.Error(), "decode state") {
		t.Fatalf("HeadState of 3 bytes: %v, want a decode error", err)
	}
}
