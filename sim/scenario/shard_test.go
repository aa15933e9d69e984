package scenario

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/shardlab/shardlab/sim/netsim"
)

// TestShardParseErrors checks the errors about the shard layer's keys.
func TestShardParseErrors(t *testing.T) {
	const shardNet = "name: x\nnetwork:\n  nodes: 4\n  epochs: 4\n  shard_nodes: 4\n  shards: 8\n"
	const beaconNet = "name: x\nnetwork:\n  nodes: 4\n  epochs: 4\n"
	tests := []struct {
		name, src, want string
	}{
		{"shard action without shard nodes", beaconNet + "timeline:\n  - at: {slot: 3}\n    shard_fraud: {shard: 0, kind: state_root}\n",
			"step 1: shard_fraud needs shard nodes (network.shard_nodes)"},
		{"unknown fraud kind", shardNet + "timeline:\n  - at: {slot: 3}\n    shard_fraud: {shard: 0, kind: minting}\n",
			"fraud kind \"minting\", expected state_root, overdraft, receipts_root, early_claim or withheld"},
		{"shard out of range", shardNet + "timeline:\n  - at: {slot: 3}\n    shard_fraud: {shard: 8, kind: state_root}\n",
			"shard_fraud names shard 8, expected 0..7"},
		{"bad share", shardNet + "timeline:\n  - at: {epoch: 1}\n    wrong_data_root: {shard: 1, share: 1.5}\n",
			"share 1.5, expected (0, 1]"},
		{"unknown action key", shardNet + "timeline:\n  - at: {slot: 3}\n    claim_attack: {shard: 1, kind: twice, nodes: 0}\n",
			"unknown key \"nodes\", expected one of shard, kind, share, node"},
		{"bad claim attack", shardNet + "timeline:\n  - at: {slot: 3}\n    claim_attack: {shard: 1, kind: thrice}\n",
			"claim attack \"thrice\", expected twice or wrong_shard"},
		{"sender out of range", shardNet + "timeline:\n  - at: {slot: 3}\n    garbage_peer: {node: 8}\n",
			"garbage_peer names node 8, expected 0..7"},
		{"fisherman out of range", shardNet + "timeline:\n  - at: {slot: 3}\n    fishermen_off: [4]\n",
			"fishermen_off names shard node 4, expected 0..3"},
		{"network fishermen out of range", "name: x\nnetwork:\n  shard_nodes: 2\n  shards: 8\n  fishermen: [2]\n",
			"fishermen names shard node 2, expected 0..1"},
		{"too few shards", "name: x\nnetwork:\n  shard_nodes: 2\n  shards: 4\n", "4 shards, want at least SLOTS_PER_EPOCH (8)"},
		{"shard check without shard nodes", beaconNet + "expect:\n  - check: fraud_proofs\n    op: \">=\"\n    value: 1\n    at: {epoch: 1}\n",
			"check fraud_proofs needs shard nodes"},
		{"value check without op", shardNet + "expect:\n  - check: receipts_claimed\n    at: {epoch: 1}\n",
			"check receipts_claimed needs op"},
		{"advancing on a value check", shardNet + "expect:\n  - check: fraud_proofs\n    op: advancing\n    at: {epoch: 1}\n    within: {epoch: 2}\n",
			"expected advancing only on finalized, justified, shard_claims, claims_from_shard"},
		{"balance change without op", shardNet + "expect:\n  - check: balance_change\n    shard: 1\n    account: 3\n    at: {epoch: 1}\n",
			"check balance_change needs op"},
		{"check shard out of range", shardNet + "expect:\n  - check: crosslink_rolled_back\n    shard: 9\n    at: {epoch: 1}\n",
			"check crosslink_rolled_back names shard 9, expected 0..7"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(tc.src))
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestShardNetworkConfig checks that the shard keys reach the simulator's
// config and that boolean checks default to "holds".
func TestShardNetworkConfig(t *testing.T) {
	sc, err := LoadBuiltin("no-fisherman")
	if err != nil {
		t.Fatal(err)
	}
	c, err := sc.Network.config()
	if err != nil {
		t.Fatal(err)
	}
	if c.Shard.Nodes != 4 || c.Shard.Shards != 8 || c.Shard.TxRate != 2 || c.Shard.CrossShard != 0.5 {
		t.Errorf("shard config %+v", c.Shard)
	}
	if sc.Network.Fishermen == nil || len(sc.Network.Fishermen) != 0 {
		t.Errorf("fishermen %v, want an empty list (none)", sc.Network.Fishermen)
	}
	for _, e := range sc.Expect {
		if e.Check == "fraud_crosslinked" && e.Value != 1 {
			t.Errorf("%s: value %g, want the default 1", e.Name, e.Value)
		}
		if e.Check == "crosslink_rolled_back" && e.Value != 0 {
			t.Errorf("%s: value %g, want 0 as written", e.Name, e.Value)
		}
	}
}

// TestOfflineWithShardNodes checks that offline selections in a shard
// network take beacon nodes only (the shard nodes host no validator and
// must keep their slot work).
func TestOfflineWithShardNodes(t *testing.T) {
	sc, err := Parse("x.yaml", []byte("name: x\nnetwork:\n  nodes: 4\n  epochs: 1\n  shard_nodes: 4\n  shards: 8\n"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := sc.Network.config()
	if err != nil {
		t.Fatal(err)
	}
	s, err := netsim.New(c)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, a := range []Action{{Kind: "offline", Fraction: 0.25}, {Kind: "offline", Validators: "48..64"}} {
		got, err := offlineNodes(s, a)
		if err != nil || !slices.Equal(got, []int{3}) {
			t.Errorf("%+v: nodes %v (%v), want [3]", a, got, err)
		}
	}
}
