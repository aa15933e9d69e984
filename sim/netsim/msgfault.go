package netsim

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strings"
	"time"

	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p"
	shardhandler "github.com/shardlab/shardlab/shard/handler"
)

// Message kinds a MessageRule selects (MessageKinds lists them).
const (
	KindBlock       = "block"       // beacon blocks
	KindAttestation = "attestation" // beacon attestations with one attester
	KindAggregate   = "aggregate"   // beacon attestations with more than one
	KindSlashing    = "slashing"    // proposer and attester slashings
	KindExit        = "exit"        // voluntary exits
	KindShardBlock  = "shard_block" // shard blocks
	KindTransaction = "transaction" // shard transactions
	KindClaim       = "claim"       // receipt claims (on the shard transaction topics)
	KindFraudProof  = "fraud_proof" // shard fraud proofs
	KindRequest     = "request"     // every request and response (status, sync, crosslink data, inbox)
)

// MessageKinds are the kinds a MessageRule may name.
var MessageKinds = []string{KindBlock, KindAttestation, KindAggregate, KindSlashing, KindExit,
	KindShardBlock, KindTransaction, KindClaim, KindFraudProof, KindRequest}

// MessageRule delays, drops or reorders chosen kinds of messages between
// chosen nodes, on top of the network's latency and loss and any link
// fault (as a tc netem filter on one traffic class would).
type MessageRule struct {
	// Kinds are the message kinds affected (MessageKinds; empty: all).
	Kinds []string
	// From and To are the sending and receiving nodes (empty: any).
	From, To []int
	// Delay is added to each affected message's latency.
	Delay Latency
	// Loss is the probability that an affected message is lost.
	Loss float64
	// Reorder lets affected messages leave their link's first in, first
	// out order: with a jittered Delay they overtake each other and the
	// link's other messages.
	Reorder bool
}

// validate checks r against a network of n nodes.
func (r MessageRule) validate(n int) error {
	for _, k := range r.Kinds {
		if !slices.Contains(MessageKinds, k) {
			return fmt.Errorf("%w: message kind %q, expected one of %s", ErrInvalidConfig, k, strings.Join(MessageKinds, ", "))
		}
	}
	for _, i := range slices.Concat(r.From, r.To) {
		if i < 0 || i >= n {
			return fmt.Errorf("%w: node %d of %d", ErrInvalidConfig, i, n)
		}
	}
	if r.Loss < 0 || r.Loss >= 1 || math.IsNaN(r.Loss) {
		return fmt.Errorf("%w: loss %v not in [0, 1)", ErrInvalidConfig, r.Loss)
	}
	return r.Delay.validate()
}

// AddMessageRule applies r to the messages sent from now on and returns
// its id for RemoveMessageRule. Messages in flight keep their fate.
func (s *Sim) AddMessageRule(r MessageRule) (int, error) {
	if err := r.validate(len(s.nodes)); err != nil {
		return 0, fmt.Errorf("add message rule: %w", err)
	}
	s.ruleSeq++
	s.rules = append(s.rules, rule{id: s.ruleSeq, MessageRule: r})
	return s.ruleSeq, nil
}

// RemoveMessageRule lifts the rule AddMessageRule returned id for.
func (s *Sim) RemoveMessageRule(id int) error {
	i := slices.IndexFunc(s.rules, func(r rule) bool { return r.id == id })
	if i < 0 {
		return fmt.Errorf("remove message rule: %w: no rule %d", ErrInvalidConfig, id)
	}
	s.rules = slices.Delete(s.rules, i, i+1)
	return nil
}

// rule is an active MessageRule.
type rule struct {
	id int
	MessageRule
}

// messageKind classifies a message by its topic or protocol label (and,
// for attestations and shard transaction topics, its content).
func messageKind(label string, data []byte) string {
	switch label {
	case p2p.BeaconBlockTopic:
		return KindBlock
	case p2p.BeaconAttestationTopic:
		var a types.Attestation
		if types.Decode(&a, data) == nil && setBits(a.AggregationBits) > 1 {
			return KindAggregate
		}
		return KindAttestation
	case p2p.ProposerSlashingTopic, p2p.AttesterSlashingTopic:
		return KindSlashing
	case p2p.VoluntaryExitTopic:
		return KindExit
	case p2p.ShardFraudProofTopic:
		return KindFraudProof
	}
	if strings.HasPrefix(label, "shard_") && strings.HasSuffix(label, "_block") {
		return KindShardBlock
	}
	if strings.HasPrefix(label, "shard_") && strings.HasSuffix(label, "_tx") {
		var m shardhandler.ShardMessage
		if types.Decode(&m, data) == nil && len(m.Claim) > 0 {
			return KindClaim
		}
		return KindTransaction
	}
	return KindRequest
}

// setBits counts the set bits of an SSZ bitlist (without its length bit).
func setBits(bl []byte) int {
	n := 0
	for _, b := range bl {
		n += bits.OnesCount8(b)
	}
	return max(n-1, 0)
}

// applyRules draws the fate of a message under the active rules: lost,
// or its extra delay and whether it skips the link's order. No draw is
// made when no rule matches, so runs without rules keep their trace.
func (s *Sim) applyRules(from, to int, label string, data []byte) (lost bool, delay time.Duration, reorder bool) {
	if len(s.rules) == 0 {
		return false, 0, false
	}
	kind := ""
	for _, r := range s.rules {
		if (len(r.From) > 0 && !slices.Contains(r.From, from)) || (len(r.To) > 0 && !slices.Contains(r.To, to)) {
			continue
		}
		if len(r.Kinds) > 0 {
			if kind == "" {
				kind = messageKind(label, data)
			}
			if !slices.Contains(r.Kinds, kind) {
				continue
			}
		}
		if r.Loss > 0 && s.rng.Float64() < r.Loss {
			return true, 0, false
		}
		delay += r.Delay.sample(s.rng)
		reorder = reorder || r.Reorder
	}
	return false, delay, reorder
}
