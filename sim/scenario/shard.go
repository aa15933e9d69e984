package scenario

import (
	"encoding/hex"
	"fmt"
	"math"
	"slices"

	"gopkg.in/yaml.v3"

	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/sim/netsim"
)

// The shard layer of scenarios: shard nodes in the network, shard-layer
// byzantine actions (sim/netsim shard_byzantine.go, shard_attack.go), and
// expectations on crosslinks, fraud proofs, receipts and claims. Shard
// nodes are numbered from 0 among themselves (the simulator's node
// Nodes+k).

// ShardNetwork is the shard side of a scenario's network.
type ShardNetwork struct {
	// ShardNodes is the number of shard nodes (0: a beacon-only run).
	ShardNodes int `json:"shard_nodes,omitempty"`
	// Shards is SHARD_COUNT (at least 8, the minimal SLOTS_PER_EPOCH).
	Shards uint64 `json:"shards,omitempty"`
	// TxRate is the transactions a second; CrossShard their share sent to
	// another shard.
	TxRate     float64 `json:"tx_rate,omitempty"`
	CrossShard float64 `json:"cross_shard,omitempty"`
	// Fishermen are the shard nodes running a fisherman (nil, null in
	// JSON: all; empty: none).
	Fishermen []int `json:"fishermen"`
}

var (
	shardNetworkKeys = []string{"shard_nodes", "shards", "tx_rate", "cross_shard", "fishermen"}
	shardActionKeys  = []string{"shard_fraud", "wrong_data_root", "fishermen_off", "fishermen_on", "claim_attack", "garbage_peer", "censor_claims", "end_censor"}
	shardActionArgs  = []string{"shard", "kind", "share", "node"}
	garbageArgs      = []string{"node", "per_slot", "slots"}
	shardChecks      = []string{"fraud_proofs", "crosslink_rolled_back", "fraud_crosslinked", "offenders_slashed", "receipts_conserved", "receipts_claimed", "claims_rejected", "garbage", "shard_claims", "claims_from_shard", "balance_change"}
	// countChecks are per-shard counts, which may also be advancing or
	// not_advancing over a window.
	countChecks = []string{"shard_claims", "claims_from_shard"}
	// boolChecks hold or not; value 0 expects that they do not.
	boolChecks = []string{"crosslink_rolled_back", "fraud_crosslinked", "offenders_slashed", "receipts_conserved"}
)

// ShardAction holds the arguments of a shard-layer action.
type ShardAction struct {
	Shard uint64  `json:"shard"`
	Kind  string  `json:"kind,omitempty"`
	Share float64 `json:"share,omitempty"`
	// Node is the byzantine sender (a simulator node index) of
	// claim_attack and garbage_peer.
	Node    int `json:"node"`
	PerSlot int `json:"per_slot,omitempty"`
	Slots   int `json:"slots,omitempty"`
}

// shardNetwork reads one shard key of network.
func (p *parser) shardNetwork(k string, v *yaml.Node, nw *Network) {
	switch k {
	case "shard_nodes":
		nw.ShardNodes = int(p.uint(v))
	case "shards":
		nw.Shards = p.uint(v)
	case "tx_rate":
		nw.TxRate = p.float(v)
	case "cross_shard":
		nw.CrossShard = p.float(v)
	case "fishermen":
		nw.Fishermen = p.ints(v)
		if nw.Fishermen == nil {
			nw.Fishermen = []int{}
		}
	}
}

// shardConfig sets c's shard side from nw.
func (nw Network) shardConfig(c *netsim.Config) error {
	sn := nw.ShardNetwork
	c.Shard = netsim.ShardConfig{Nodes: sn.ShardNodes, Shards: sn.Shards, TxRate: sn.TxRate, CrossShard: sn.CrossShard}
	for _, f := range sn.Fishermen {
		if f >= sn.ShardNodes {
			return fmt.Errorf("fishermen names shard node %d, expected 0..%d", f, sn.ShardNodes-1)
		}
	}
	return nil
}

// shardAction reads a shard-layer action's arguments.
func (p *parser) shardAction(k string, v *yaml.Node, a *Action) {
	sa := &ShardAction{Share: 1, PerSlot: 1, Slots: 1}
	a.Shard = sa
	switch k {
	case "fishermen_off", "fishermen_on":
		a.Nodes = p.ints(v)
		return
	case "garbage_peer":
		p.mapping(v, garbageArgs, func(k string, v *yaml.Node) {
			switch k {
			case "node":
				sa.Node = int(p.uint(v))
			case "per_slot":
				sa.PerSlot = int(p.uint(v))
			case "slots":
				sa.Slots = int(p.uint(v))
			}
		})
		return
	}
	p.mapping(v, shardActionArgs, func(k string, v *yaml.Node) {
		switch k {
		case "shard":
			sa.Shard = p.uint(v)
		case "kind":
			sa.Kind = p.str(v)
		case "share":
			sa.Share = p.float(v)
		case "node":
			sa.Node = int(p.uint(v))
		}
	})
}

// checkShardAction checks a shard-layer action against the network.
func checkShardAction(a Action, nw Network) error {
	sa := a.Shard
	if sa == nil {
		return nil
	}
	if nw.ShardNodes == 0 {
		return fmt.Errorf("%s needs shard nodes (network.shard_nodes)", a.Kind)
	}
	if sa.Shard >= nw.Shards {
		return fmt.Errorf("%s names shard %d, expected 0..%d", a.Kind, sa.Shard, nw.Shards-1)
	}
	if sa.Node >= nw.Nodes+nw.ShardNodes {
		return fmt.Errorf("%s names node %d, expected 0..%d", a.Kind, sa.Node, nw.Nodes+nw.ShardNodes-1)
	}
	switch a.Kind {
	case "shard_fraud":
		_, err := netsim.ParseShardFraudKind(sa.Kind)
		return err
	case "claim_attack":
		_, err := netsim.ParseClaimAttackKind(sa.Kind)
		return err
	case "wrong_data_root":
		if sa.Share <= 0 || sa.Share > 1 || math.IsNaN(sa.Share) {
			return fmt.Errorf("share %v, expected (0, 1]", sa.Share)
		}
	case "fishermen_off", "fishermen_on":
		for _, n := range a.Nodes {
			if n >= nw.ShardNodes {
				return fmt.Errorf("%s names shard node %d, expected 0..%d", a.Kind, n, nw.ShardNodes-1)
			}
		}
	case "garbage_peer":
		if sa.PerSlot < 1 || sa.Slots < 1 {
			return fmt.Errorf("garbage_peer of %d messages a slot for %d slots, expected at least 1 of each", sa.PerSlot, sa.Slots)
		}
	}
	return nil
}

// checkShardExpectation checks a shard expectation against the network.
func checkShardExpectation(e Expectation, nw Network) error {
	if !slices.Contains(shardChecks, e.Check) {
		return nil
	}
	if nw.ShardNodes == 0 {
		return fmt.Errorf("check %s needs shard nodes (network.shard_nodes)", e.Check)
	}
	if (e.Check == "crosslink_rolled_back" || e.Check == "fraud_crosslinked" || slices.Contains(countChecks, e.Check) || e.Check == "balance_change") && e.Shard >= nw.Shards {
		return fmt.Errorf("check %s names shard %d, expected 0..%d", e.Check, e.Shard, nw.Shards-1)
	}
	if !slices.Contains(boolChecks, e.Check) && e.Op == "" {
		return fmt.Errorf("check %s needs op: >=, <= or =", e.Check)
	}
	return nil
}

// startShard switches off the fishermen the network leaves out.
func (r *run) startShard() error {
	nw := r.sc.Network
	if nw.ShardNodes == 0 {
		return nil
	}
	if nw.Fishermen != nil {
		for k := range nw.ShardNodes {
			if !slices.Contains(nw.Fishermen, k) {
				if err := r.sim.SetFisherman(nw.Nodes+k, false); err != nil {
					return err
				}
			}
		}
	}
	r.rep.Shard = &ShardSeries{Frauds: []FraudBlock{}, Complicit: []uint64{}, Samples: []ShardSample{}}
	return nil
}

// fireShard applies a shard-layer step and returns its detail.
func (r *run) fireShard(a Action, slot uint64) (string, error) {
	s, sa := r.sim, a.Shard
	nw := r.sc.Network
	switch a.Kind {
	case "shard_fraud":
		kind, err := netsim.ParseShardFraudKind(sa.Kind)
		if err == nil {
			err = s.PublishFraudulentShardBlock(types.Shard(sa.Shard), kind)
		}
		r.openWindow("byzantine", fmt.Sprintf("fraud %d", slot), fmt.Sprintf("fraudulent block (%s) on shard %d", sa.Kind, sa.Shard), slot)
		r.closeWindow(fmt.Sprintf("fraud %d", slot), slot+1)
		return fmt.Sprintf("shard %d %s", sa.Shard, sa.Kind), err
	case "wrong_data_root":
		key := fmt.Sprintf("wrong root %d", slot)
		r.openWindow("byzantine", key, fmt.Sprintf("wrong data root votes on shard %d", sa.Shard), slot)
		r.closeWindow(key, slot+slotsPerEpoch)
		return fmt.Sprintf("shard %d share %g", sa.Shard, sa.Share), s.WrongDataRootVotes(types.Shard(sa.Shard), sa.Share)
	case "fishermen_off", "fishermen_on":
		for _, k := range a.Nodes {
			if err := s.SetFisherman(nw.Nodes+k, a.Kind == "fishermen_on"); err != nil {
				return "", err
			}
			key := fmt.Sprintf("fisherman %d", k)
			if a.Kind == "fishermen_off" {
				r.openWindow("byzantine", key, fmt.Sprintf("shard node %d: no fisherman", k), slot)
			} else {
				r.closeWindow(key, slot)
			}
		}
		return fmt.Sprintf("shard nodes %v", a.Nodes), nil
	case "claim_attack":
		kind, err := netsim.ParseClaimAttackKind(sa.Kind)
		if err == nil {
			err = s.ReplayClaim(sa.Node, types.Shard(sa.Shard), kind)
		}
		return fmt.Sprintf("node %d replays a claim of shard %d: %s", sa.Node, sa.Shard, sa.Kind), err
	case "censor_claims", "end_censor":
		key := fmt.Sprintf("censor %d", sa.Shard)
		if a.Kind == "censor_claims" {
			r.openWindow("byzantine", key, fmt.Sprintf("shard %d proposers censor claims", sa.Shard), slot)
		} else {
			r.closeWindow(key, slot)
		}
		return fmt.Sprintf("shard %d", sa.Shard), s.CensorClaims(types.Shard(sa.Shard), a.Kind == "censor_claims")
	case "garbage_peer":
		key := fmt.Sprintf("garbage %d", slot)
		r.openWindow("byzantine", key, fmt.Sprintf("node %d sends garbage", sa.Node), slot)
		r.closeWindow(key, slot+uint64(sa.Slots))
		return fmt.Sprintf("node %d, %d a slot for %d slots", sa.Node, sa.PerSlot, sa.Slots), s.GarbagePeer(sa.Node, sa.PerSlot, sa.Slots)
	}
	return "", fmt.Errorf("unknown shard action %q", a.Kind)
}

// ShardSeries is the shard layer over the run, for the report's charts.
type ShardSeries struct {
	// Frauds are the fraudulent blocks published; Complicit the
	// validators that voted a wrong data root; WrongRoots those roots.
	Frauds     []FraudBlock `json:"frauds"`
	Complicit  []uint64     `json:"complicit"`
	WrongRoots []string     `json:"wrong_roots,omitempty"`
	// Samples has one entry a slot, at its start.
	Samples []ShardSample `json:"samples"`
}

// FraudBlock is a fraudulent shard block of the run.
type FraudBlock struct {
	Slot     uint64 `json:"slot"`
	Shard    uint64 `json:"shard"`
	Kind     string `json:"kind"`
	Root     string `json:"root"`
	Proposer uint64 `json:"proposer"`
	Receipts int    `json:"receipts"`
}

// ShardSample is the shard layer at a slot's start.
type ShardSample struct {
	Slot uint64 `json:"slot"`
	// Crosslinks are the shards' current crosslink end epochs (node 0's
	// head state); DataRoots their data roots (first 4 bytes, hex).
	Crosslinks []uint64 `json:"crosslinks"`
	DataRoots  []string `json:"data_roots"`
	// ReceiptsSent and ReceiptsClaimed count receipts; FraudProofs the
	// proofs in node 0's canonical beacon blocks.
	ReceiptsSent    uint64 `json:"receipts_sent"`
	ReceiptsClaimed uint64 `json:"receipts_claimed"`
	// ClaimedBy counts the receipts each shard claimed, ClaimedFrom
	// those claimed of each shard's, by shard.
	ClaimedBy   []uint64 `json:"claimed_by"`
	ClaimedFrom []uint64 `json:"claimed_from"`
	FraudProofs uint64   `json:"fraud_proofs"`
	// Conserved says balances + receipts in flight equal the genesis
	// total and no receipt was claimed twice; InFlight is the amount in
	// flight (Gwei).
	Conserved bool   `json:"conserved"`
	InFlight  uint64 `json:"in_flight"`
	// ClaimsRefused counts the attack claims refused, by reason;
	// ClaimsAccepted those accepted.
	ClaimsRefused  map[string]uint64 `json:"claims_refused,omitempty"`
	ClaimsAccepted uint64            `json:"claims_accepted"`
	// Garbage counts the garbage deliveries by verdict.
	Garbage map[string]uint64 `json:"garbage,omitempty"`
	// Balances are the balances of the accounts balance_change checks
	// name, by "shard/account".
	Balances map[string]uint64 `json:"balances,omitempty"`
}

// sampleShard records the shard layer at slot's start.
func (r *run) sampleShard(slot uint64) error {
	if r.rep.Shard == nil {
		return nil
	}
	st, err := r.sim.ShardStatus()
	if err != nil {
		return err
	}
	smp := ShardSample{Slot: slot, Crosslinks: st.Crosslinks, ReceiptsSent: st.Sent, ReceiptsClaimed: st.Claimed, ClaimedBy: st.ClaimedBy, ClaimedFrom: st.ClaimedFrom,
		FraudProofs: st.FraudProofs, Conserved: st.Conserved, InFlight: st.InFlight,
		ClaimsRefused: st.ClaimsRefused, ClaimsAccepted: st.ClaimsAccepted, Garbage: st.Garbage}
	for _, d := range st.DataRoots {
		smp.DataRoots = append(smp.DataRoots, hex.EncodeToString(d[:4]))
	}
	for _, e := range r.sc.Expect {
		if e.Check != "balance_change" {
			continue
		}
		b, err := r.sim.ShardBalance(types.Shard(e.Shard), e.Account)
		if err != nil {
			return err
		}
		if smp.Balances == nil {
			smp.Balances = make(map[string]uint64)
		}
		smp.Balances[accountKey(e.Shard, e.Account)] = b
	}
	ser := r.rep.Shard
	if n := len(ser.Samples); n > 0 && ser.Samples[n-1].FraudProofs < smp.FraudProofs {
		fmt.Fprintf(r.out, "slot %4d  fraud proofs included: %d\n", slot, smp.FraudProofs)
	}
	ser.Samples = append(ser.Samples, smp)
	ser.Frauds = ser.Frauds[:0]
	for _, f := range r.sim.ShardFrauds() {
		ser.Frauds = append(ser.Frauds, FraudBlock{Slot: uint64(f.Slot), Shard: uint64(f.Shard), Kind: f.Kind.String(),
			Root: hex.EncodeToString(f.Root[:]), Proposer: uint64(f.Proposer), Receipts: f.Receipts})
	}
	ser.Complicit = ser.Complicit[:0]
	for _, v := range r.sim.ComplicitVoters() {
		ser.Complicit = append(ser.Complicit, uint64(v))
	}
	ser.WrongRoots = ser.WrongRoots[:0]
	for _, w := range r.sim.WrongDataRoots() {
		ser.WrongRoots = append(ser.WrongRoots, hex.EncodeToString(w[:4]))
	}
	return nil
}
