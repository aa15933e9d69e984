package node

import (
	"context"
	"testing"
	"time"

	"github.com/shardlab/shardlab/beacon/clock"
	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p/p2ptest"
)

// TestSlashingProtectionSurvivesRestart drives the validator client of a
// node hosting every key by hand on a manual clock. The node proposes and
// attests slot 1, then "crashes" after slashing protection recorded its
// block of slot 2 but before the block was imported or published.
// Restarted from its data dir (with another graffiti and crosslink data
// source, so it would sign different messages), it is refused the second
// block of slot 2 and a second, different vote of slot 1.
func TestSlashingProtectionSurvivesRestart(t *testing.T) {
	t.Parallel()
	tr, genesis, _ := testGenesis(t, 0)
	cfg := tr.Config()
	dir := t.TempDir()
	net, _ := p2ptest.NewMockNet(t, 1, p2ptest.Options{})
	clk := clock.NewManual(time.Unix(int64(genesis.GenesisTime), 0))
	slotAt := func(slot types.Slot, third bool) {
		d := time.Duration(slot) * time.Duration(cfg.SecondsPerSlot) * time.Second
		if third {
			d += time.Duration(cfg.SecondsPerSlot) * time.Second / 3
		}
		clk.Set(time.Unix(int64(genesis.GenesisTime), 0).Add(d))
	}
	open := func(graffiti string, dataRoot byte) *Node {
		t.Helper()
		i, err := net.AddNode()
		if err != nil {
			t.Fatal(err)
		}
		c := TestConfig()
		c.Transition, c.Genesis, c.Network, c.DataDir = tr, genesis, net.Nodes[i], dir
		c.Validators = ValidatorRange{Start: 0, Count: testValidators}
		c.Graffiti, c.Clock = graffiti, clk
		c.CrosslinkData = StaticCrosslinkData{Root: types.Root{dataRoot}}
		n, err := New(c, testLogger(t, graffiti))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	ctx := context.Background()

	n := open("first", 1)
	slotAt(1, false)
	n.tick()
	n.propose(ctx, 1)
	slotAt(1, true)
	n.tick()
	n.attest(ctx, 1)
	if c := testutilCounter(t, n.m.proposals.WithLabelValues("published")); c != 1 {
		t.Fatalf("%v proposals published at slot 1", c)
	}
	attested := testutilCounter(t, n.m.attestations.WithLabelValues("published"))
	if attested == 0 {
		t.Fatal("no attestation published at slot 1")
	}
	// Crash after recording the proposal of slot 2.
	slotAt(2, false)
	n.tick()
	b2, proposer, err := n.produceBlock(2)
	if err != nil || b2 == nil {
		t.Fatalf("produce block 2: %v", err)
	}
	r2, _ := b2.SigningRoot()
	if err := n.store.CheckAndRecordProposal(proposer, 2, r2); err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	n = open("second", 2)
	defer n.Close()
	if _, s := n.Chain().Head(); s != 1 {
		t.Fatalf("restored head at slot %d, want 1", s)
	}
	n.tick()
	n.propose(ctx, 2)
	if c := testutilCounter(t, n.m.proposals.WithLabelValues("refused")); c != 1 {
		t.Fatalf("refused proposals: %v, want 1", c)
	}
	if _, s := n.Chain().Head(); s != 1 {
		t.Fatalf("a refused block was imported (head at slot %d)", s)
	}
	// The same committee votes slot 1 again with another crosslink data
	// root: a double vote of target epoch 0, refused for every member.
	n.attest(ctx, 1)
	if c := testutilCounter(t, n.m.attestations.WithLabelValues("refused")); c != attested {
		t.Fatalf("refused attestations after restart: %v, want %v", c, attested)
	}
	if c := testutilCounter(t, n.m.attestations.WithLabelValues("published")); c != 0 {
		t.Fatalf("%v conflicting attestations published", c)
	}
}

// TestProposalIncludesOperations pools a proposer slashing and checks that
// the validator client's block carries it (the handler hands the pooled
// operations to validator.ProduceAnyBlock as inputs of one production).
func TestProposalIncludesOperations(t *testing.T) {
	t.Parallel()
	tr, genesis, keys := testGenesis(t, 0)
	cfg := tr.Config()
	net, _ := p2ptest.NewMockNet(t, 1, p2ptest.Options{})
	clk := clock.NewManual(time.Unix(int64(genesis.GenesisTime), 0).Add(time.Duration(cfg.SecondsPerSlot) * time.Second))
	c := TestConfig()
	c.Transition, c.Genesis, c.Network = tr, genesis, net.Nodes[0]
	c.Validators = ValidatorRange{Start: 0, Count: testValidators}
	c.Clock = clk
	c.CrosslinkData = StaticCrosslinkData{}
	n, err := New(c, testLogger(t, "ops"))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	n.tick()

	// Find slot 1's proposer, and slash another validator.
	st := genesis.Copy()
	if err := tr.ProcessSlots(st, 1); err != nil {
		t.Fatal(err)
	}
	proposer, err := tr.BeaconProposerIndex(st)
	if err != nil {
		t.Fatal(err)
	}
	victim := (proposer + 1) % testValidators
	sk, _ := keys.SecretKey(uint64(victim))
	header := func(body byte) types.BeaconBlockHeader {
		h := types.BeaconBlockHeader{Slot: 1, BodyRoot: types.Root{body}}
		h.Signature = types.BLSSignature(sk.Sign(h.SigningRoot(), tr.Domain(st, cfg.DomainBeaconProposer, 0)).Bytes())
		return h
	}
	ps := &types.ProposerSlashing{ProposerIndex: victim, Header1: header(1), Header2: header(2)}
	if err := n.Chain().AddProposerSlashing(ps); err != nil {
		t.Fatal(err)
	}
	n.propose(context.Background(), 1)
	head, slot := n.Chain().Head()
	if slot != 1 {
		t.Fatalf("no block proposed (head at %d)", slot)
	}
	b, _ := n.Chain().Block(head)
	body, _ := types.BlockBody(b)
	if len(body.ProposerSlashings) != 1 {
		t.Fatalf("block carries %d proposer slashings, want 1", len(body.ProposerSlashings))
	}
	if !n.Chain().HeadState().Validators[victim].Slashed {
		t.Fatal("the slashing was not applied")
	}
	// The re-signed block verifies with every signature checked.
	check := genesis.Copy()
	if err := tr.StateTransitionAny(check, b, core.VerifySigs, true); err != nil {
		t.Fatalf("proposed block does not verify: %v", err)
	}
}
