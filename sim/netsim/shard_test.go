package netsim

import (
	"context"
	"testing"
	"time"

	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p"
	shardcore "github.com/shardlab/shardlab/shard/core"
	shardhandler "github.com/shardlab/shardlab/shard/handler"
)

// shardTestConfig is the default shard network of issue 8: 4 beacon and 4
// shard nodes, 64 validators, 8 shards, minimal preset, 2 s slots, 8
// epochs, 10 tx/s, half of them cross-shard.
func shardTestConfig(seed uint64) Config {
	c := DefaultConfig()
	c.Seed = seed
	c.Shard = DefaultShardConfig()
	return c
}

// TestShardNetworkDeterministic runs the default shard network twice with
// one seed and once with another: it finalizes epoch 2 by slot 32, every shard is
// crosslinked, receipts are claimed; the two runs of one seed give the
// same trace hash and final state roots (beacon and shard), the other
// seed another trace hash.
func TestShardNetworkDeterministic(t *testing.T) {
	s, err := New(shardTestConfig(1))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.RunSlots(32)
	for _, n := range s.nodes {
		if f := n.chain.Finalized().Epoch; f < 2 {
			t.Errorf("node %d: finalized epoch %d at slot 32, want >= 2", n.index, f)
		}
	}
	a, err := s.Run(context.Background(), func(r EpochReport) { t.Log(r) })
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("trace %s, %d events, %s simulated in %s (%.0fx)", a.TraceHex(), a.Events, a.SimTime, a.Wall, a.Speedup())
	last := a.Epochs[len(a.Epochs)-1]
	sh := last.Shard
	if sh == nil || sh.Crosslinked != sh.Shards {
		t.Errorf("crosslinks at the end: %v", sh)
	}
	if sh == nil || sh.Claimed == 0 || sh.Transactions == 0 {
		t.Errorf("no receipts claimed or no transactions: %v", sh)
	}
	b := run(t, shardTestConfig(1))
	if a.TraceHash != b.TraceHash {
		t.Fatalf("same seed, trace hashes %s and %s", a.TraceHex(), b.TraceHex())
	}
	if len(a.StateRoots) != len(b.StateRoots) {
		t.Fatalf("same seed, %d and %d state roots", len(a.StateRoots), len(b.StateRoots))
	}
	for i := range a.StateRoots {
		if a.StateRoots[i] != b.StateRoots[i] {
			t.Fatalf("same seed, state root %d: %s and %s", i, a.StateRoots[i], b.StateRoots[i])
		}
	}
	c := run(t, shardTestConfig(2))
	if c.TraceHash == a.TraceHash {
		t.Fatal("another seed gives the same trace hash")
	}
}

// BenchmarkShardSim runs the default shard network for 2 epochs and
// reports events per second and the speed-up over real time.
func BenchmarkShardSim(b *testing.B) {
	c := shardTestConfig(1)
	c.Epochs = 2
	benchSim(b, c)
}

// benchSim runs c once per iteration and reports events per second and
// the speed-up over real time.
func benchSim(b *testing.B, c Config) {
	var events uint64
	var simTime time.Duration
	for b.Loop() {
		s, err := New(c)
		if err != nil {
			b.Fatal(err)
		}
		res, err := s.Run(context.Background(), nil)
		if err != nil {
			b.Fatal(err)
		}
		events += res.Events
		simTime += res.SimTime
		_ = s.Close()
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(simTime.Seconds()/b.Elapsed().Seconds(), "speedup")
}

// TestShardFraudProven delivers a shard block with a wrong state root,
// signed by the scheduled proposer, to the shard node serving its shard:
// the shard handler finds the fraud, its fisherman builds and submits a
// proof, a beacon block includes it and the proposer is slashed on every
// beacon node; the shard chain goes on without the block.
func TestShardFraudProven(t *testing.T) {
	c := shardTestConfig(1)
	c.Epochs, c.Shard.TxRate = 4, 2
	s, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.RunSlots(10)
	n := s.nodes[c.Nodes] // the first shard node, serving shards 0 and 1
	ch := n.shard.chains[0]
	beaconRoot, _ := n.chain.Head()
	beacon, ok := n.chain.StateAt(beaconRoot)
	if !ok {
		t.Fatal("no head state")
	}
	v, err := shardhandler.Verifier(n.chain)
	if err != nil {
		t.Fatal(err)
	}
	parent := ch.Head()
	built, err := shardcore.BuildBlock(s.tr, shardcore.BlockContext{Parent: &parent.Header, BeaconRoot: beaconRoot, Beacon: beacon},
		ch.HeadState(), 11, nil, nil, nil, shardcore.ExecOptions{TxDomain: v.TxDomain(s.pcfg)})
	if err != nil {
		t.Fatal(err)
	}
	b := built.Block
	b.StateRoot = types.Root{0xde, 0xad}
	keys, err := s.shardKeys()
	if err != nil {
		t.Fatal(err)
	}
	sk, _ := keys.SecretKey(uint64(b.ProposerIndex))
	if err := shardcore.SignBlock(s.tr, b, sk); err != nil {
		t.Fatal(err)
	}
	root, _ := b.SigningRoot()
	data, err := b.MarshalSSZ()
	if err != nil {
		t.Fatal(err)
	}
	topic := p2p.ShardBlockTopic(0)
	s.receive(n.index, 0, topic, data, newMsgID(topic, data))
	if !ch.IsInvalid(root) {
		t.Fatal("the fraudulent block is not marked invalid")
	}
	if _, err := s.Run(context.Background(), func(r EpochReport) { t.Log(r) }); err != nil {
		t.Fatal(err)
	}
	for _, bn := range s.nodes[:c.Nodes] {
		if !bn.chain.HeadState().Validators[b.ProposerIndex].Slashed {
			t.Errorf("node %d: proposer %d not slashed", bn.index, b.ProposerIndex)
		}
	}
	if n.shard.h.ProofsSeen() == 0 {
		t.Error("the fisherman saw no proof")
	}
	if _, _, ok := ch.Block(root); ok && ch.Head().Root == root {
		t.Error("the fraudulent block is the shard head")
	}
}
