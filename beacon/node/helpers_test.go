package node

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
	"github.com/shardlab/shardlab/p2p"
	"github.com/shardlab/shardlab/p2p/p2ptest"
)

// testutilCounter reads a counter's value.
func testutilCounter(t testing.TB, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// attackNet is four honest nodes, validators 16i to 16i+15 on node i, and
// an attacker: a bare p2p node connected to all of them.
type attackNet struct {
	tr       *core.Transition
	cfg      *params.Config
	keys     *validator.Keys
	nodes    []*running
	attacker *p2p.Node
}

// newAttackNet starts an attackNet (inside a synctest bubble) and waits
// until half a slot after the head reached slot 5: the slot's block has
// arrived and its attesters have voted.
func newAttackNet(t *testing.T) *attackNet {
	t.Helper()
	tr, genesis, keys := testGenesis(t, 6*time.Second)
	a := &attackNet{tr: tr, cfg: tr.Config(), keys: keys, nodes: make([]*running, 4)}
	net, _ := p2ptest.NewMockNet(t, 5, p2ptest.Options{})
	a.attacker = net.Nodes[4]
	for i := range a.nodes {
		a.nodes[i] = start(t, testNode(t, tr, genesis, net.Nodes[i], ValidatorRange{Start: uint64(16 * i), Count: 16}, "", string(rune('a'+i))))
	}
	connectAll(t, net, 0, 1, 2, 3, 4)
	waitSlots(t, a.cfg, 20, "slot 5", func() bool { _, s := a.nodes[0].Chain().Head(); return s >= 5 })
	time.Sleep(time.Duration(a.cfg.SecondsPerSlot) * time.Second / 2)
	return a
}

// publish gossips payload from the attacker.
func (a *attackNet) publish(t *testing.T, topic string, payload []byte) {
	t.Helper()
	if err := a.attacker.Publish(context.Background(), topic, payload); err != nil {
		t.Fatalf("publish on %s: %v", topic, err)
	}
}

// competitor returns a second block for the head's slot, on the head's
// parent, with graffiti, signed by the slot's proposer, and its post-state.
func (a *attackNet) competitor(t *testing.T, graffiti types.Root) (*types.ShardBeaconBlock, *types.BeaconState) {
	t.Helper()
	headRoot, cur := a.nodes[0].Chain().Head()
	headBlock, _ := a.nodes[0].Chain().Block(headRoot)
	parent, ok := a.nodes[0].Chain().StateAt(headBlock.GetParentRoot())
	if !ok {
		t.Fatal("no parent state")
	}
	blk, post, err := validator.ProduceShardBeaconBlock(a.tr, parent, cur, a.keys, nil, graffiti, nil)
	if err != nil {
		t.Fatal(err)
	}
	return blk, post
}

// slotAttestation returns the attestation of the first member of the
// head slot's first committee for the head, voting dataRoot for the
// crosslink, validly signed, and the member.
func (a *attackNet) slotAttestation(t *testing.T, dataRoot types.Root) (*types.Attestation, types.ValidatorIndex) {
	t.Helper()
	headRoot, cur := a.nodes[0].Chain().Head()
	st := a.nodes[0].Chain().HeadState()
	if err := a.tr.ProcessSlots(st, cur); err != nil {
		t.Fatal(err)
	}
	coms, err := validator.SlotCommittees(a.tr, st, cur)
	if err != nil {
		t.Fatal(err)
	}
	data, err := validator.ProduceAttestationData(a.tr, st, headRoot, cur, coms[0].Shard,
		validator.WithDataRoot(func(types.Crosslink) (types.Root, error) { return dataRoot, nil }))
	if err != nil {
		t.Fatal(err)
	}
	att, err := validator.AggregateCommittee(a.tr, st, data, coms[0].Committee, coms[0].Committee[:1], a.keys)
	if err != nil {
		t.Fatal(err)
	}
	return att, coms[0].Committee[0]
}
