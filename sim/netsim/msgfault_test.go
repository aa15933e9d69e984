package netsim

import (
	"testing"
	"time"

	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p"
	shardhandler "github.com/shardlab/shardlab/shard/handler"
	st "github.com/shardlab/shardlab/shard/types"
)

// encode is v's SSZ encoding.
func encode(t *testing.T, v interface{ MarshalSSZ() ([]byte, error) }) []byte {
	t.Helper()
	b, err := v.MarshalSSZ()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMessageKind(t *testing.T) {
	t.Parallel()
	// Bitlists of 4 bits (the fifth is the length bit).
	single := &types.Attestation{AggregationBits: []byte{0b0001_0010}, CustodyBits: []byte{0b0001_0000}}
	aggregate := &types.Attestation{AggregationBits: []byte{0b0001_0110}, CustodyBits: []byte{0b0001_0000}}
	claim := &shardhandler.ShardMessage{Claim: []*st.ReceiptClaim{{}}}
	tx := &shardhandler.ShardMessage{Transaction: []*st.Transaction{{}}}
	tests := []struct {
		name, label string
		data        []byte
		want        string
	}{
		{"beacon block", p2p.BeaconBlockTopic, nil, KindBlock},
		{"single attestation", p2p.BeaconAttestationTopic, encode(t, single), KindAttestation},
		{"aggregate", p2p.BeaconAttestationTopic, encode(t, aggregate), KindAggregate},
		{"proposer slashing", p2p.ProposerSlashingTopic, nil, KindSlashing},
		{"attester slashing", p2p.AttesterSlashingTopic, nil, KindSlashing},
		{"exit", p2p.VoluntaryExitTopic, nil, KindExit},
		{"fraud proof", p2p.ShardFraudProofTopic, nil, KindFraudProof},
		{"shard block", p2p.ShardBlockTopic(3), nil, KindShardBlock},
		{"transaction", p2p.ShardTxTopic(3), encode(t, tx), KindTransaction},
		{"claim", p2p.ShardTxTopic(3), encode(t, claim), KindClaim},
		{"request", p2p.ShardBlocksByRangeProtocol, nil, KindRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := messageKind(tc.label, tc.data); got != tc.want {
				t.Fatalf("messageKind(%q) = %q, want %q", tc.label, got, tc.want)
			}
		})
	}
}

// TestMessageRules checks which messages a rule catches, its delay, loss
// and reordering, its removal, and the refusal of bad rules.
func TestMessageRules(t *testing.T) {
	t.Parallel()
	s := newSim(t, testConfig(1, 1))
	id, err := s.AddMessageRule(MessageRule{Kinds: []string{KindBlock}, From: []int{0}, To: []int{2, 3},
		Delay: Latency{Mean: 300 * time.Millisecond}, Reorder: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		from, to    int
		label       string
		wantDelay   time.Duration
		wantReorder bool
	}{
		{"matching", 0, 2, p2p.BeaconBlockTopic, 300 * time.Millisecond, true},
		{"other receiver", 0, 1, p2p.BeaconBlockTopic, 0, false},
		{"other sender", 1, 2, p2p.BeaconBlockTopic, 0, false},
		{"other kind", 0, 3, p2p.VoluntaryExitTopic, 0, false},
	} {
		lost, d, re := s.applyRules(tc.from, tc.to, tc.label, nil)
		if lost || d != tc.wantDelay || re != tc.wantReorder {
			t.Errorf("%s: lost %v, delay %s, reorder %v; want delay %s, reorder %v", tc.name, lost, d, re, tc.wantDelay, tc.wantReorder)
		}
	}
	if err := s.RemoveMessageRule(id); err != nil {
		t.Fatal(err)
	}
	if _, d, _ := s.applyRules(0, 2, p2p.BeaconBlockTopic, nil); d != 0 {
		t.Fatalf("removed rule still delays by %s", d)
	}
	if err := s.RemoveMessageRule(id); err == nil {
		t.Fatal("removed a rule twice")
	}
	if _, err := s.AddMessageRule(MessageRule{Loss: 0.5}); err != nil {
		t.Fatal(err)
	}
	lost := 0
	for range 1000 {
		if l, _, _ := s.applyRules(1, 2, p2p.ShardTxTopic(0), nil); l {
			lost++
		}
	}
	if lost < 400 || lost > 600 {
		t.Fatalf("loss 0.5 lost %d of 1000", lost)
	}
	for name, r := range map[string]MessageRule{
		"unknown kind": {Kinds: []string{"blocks"}},
		"bad node":     {To: []int{4}},
		"loss 1":       {Loss: 1},
		"bad delay":    {Delay: Latency{Mean: -time.Second}},
	} {
		if _, err := s.AddMessageRule(r); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestDelayedBlocksLag delays every beacon block to node 3 by 1.5 s of a
// 2 s slot: in the middle of each slot whose block node 0 has, node 3 has
// it only if it proposed it; without the rule it always has it.
func TestDelayedBlocksLag(t *testing.T) {
	t.Parallel()
	for _, delayed := range []bool{true, false} {
		s := newSim(t, testConfig(1, 1))
		if delayed {
			if _, err := s.AddMessageRule(MessageRule{Kinds: []string{KindBlock}, To: []int{3}, Delay: Latency{Mean: 1500 * time.Millisecond}}); err != nil {
				t.Fatal(err)
			}
		}
		lagged := 0
		for slot := types.Slot(1); slot <= 8; slot++ {
			s.RunSlots(slot - 1)
			own := proposerNode(t, s, slot) == 3
			s.scheduleSlot(slot) // run the slot up to its middle only
			s.nextSlot = slot + 1
			s.loop.runUntil(s.genesis.Add(time.Duration(slot)*s.slot + s.slot/2))
			a, _ := s.Status(0)
			b, _ := s.Status(3)
			if a.HeadSlot != slot || own {
				continue
			}
			if b.HeadSlot < slot {
				lagged++
			} else if delayed {
				t.Errorf("slot %d: node 3 has node %d's block by mid-slot despite the delay", slot, proposerNode(t, s, slot))
			}
		}
		switch {
		case delayed && lagged < 3:
			t.Errorf("node 3 lagged in %d slots, want at least 3", lagged)
		case !delayed && lagged > 0:
			t.Errorf("without the rule node 3 lagged in %d slots", lagged)
		}
	}
}
