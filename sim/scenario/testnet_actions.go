package scenario

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/shardlab/shardlab/sim/testnet"
)

// More of the testnet engine's actions (testnet_steps.go has the others):
// late joins, voluntary exits, single validators offline and crosslink
// votes for a wrong data root, each through a node's debug API or the
// process lifecycle; and what they need of the run: the late nodes held
// back at the start, network.config written for the genesis, and the
// watched validators sampled for the registry checks.

// lateNodes are the beacon nodes the late_join steps of sc start (held
// back at genesis), ascending.
func lateNodes(sc *Scenario) ([]int, error) {
	var out []int
	for _, st := range sc.Timeline {
		if st.Action.Kind != "late_join" {
			continue
		}
		for _, n := range st.Action.Nodes {
			if slices.Contains(out, n) {
				return nil, fmt.Errorf("%w: node %d joins late twice", ErrInvalid, n)
			}
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

// writeChainConfig writes network.config, when set, as a chain config
// file for the genesis (the minimal preset amended) and returns its path
// ("" without overrides) and a function removing it.
func writeChainConfig(nw Network) (string, func(), error) {
	c, err := nw.chainParams()
	if err != nil || c == nil {
		return "", func() {}, err
	}
	f, err := os.CreateTemp("", "shardlab-scenario-config-*.yaml")
	if err != nil {
		return "", func() {}, fmt.Errorf("write chain config: %w", err)
	}
	remove := func() { _ = os.Remove(f.Name()) }
	_, werr := f.Write(append([]byte("PRESET_BASE: minimal\n"), c.MarshalYAML()...))
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		remove()
		return "", func() {}, fmt.Errorf("write chain config: %w", werr)
	}
	return f.Name(), remove, nil
}

// fireMore applies the actions of this file; ok is false for others.
func (r *tnRun) fireMore(ctx, cctx context.Context, st Step, done func(string)) (ok bool, err error) {
	a, slot := st.Action, st.Slot
	switch a.Kind {
	case "late_join":
		for _, n := range a.Nodes {
			r.closeWindow(fmt.Sprintf("late %d", n), slot)
		}
		r.background(ctx, func(ctx context.Context) (string, error) { return r.join(ctx, a.Nodes) }, done)
	case "exit":
		var out []string
		for _, v := range a.Indices {
			n, err := r.host(v)
			if err != nil {
				return true, err
			}
			epoch, err := testnet.NewClient(r.beacon[n].Spec.URL()).Exit(cctx, v)
			if err != nil {
				return true, fmt.Errorf("exit of validator %d on node %d: %w", v, n, err)
			}
			out = append(out, fmt.Sprintf("%d from epoch %d", v, epoch))
		}
		done("validators " + strings.Join(out, ", "))
	case "wrong_data_root":
		detail, err := r.wrongDataRoot(cctx, a.Shard.Shard, a.Shard.Share)
		if err != nil {
			return true, err
		}
		key := fmt.Sprintf("wrong root %d", slot)
		r.openWindow("byzantine", key, fmt.Sprintf("wrong data root votes on shard %d", a.Shard.Shard), slot)
		r.closeWindow(key, slot+slotsPerEpoch)
		done(detail)
	case "shard_fraud":
		return true, r.fraudBlock(ctx, a.Shard.Shard, a.Shard.Kind, slot, done)
	case "claim_attack":
		sa := a.Shard
		p := r.shardServer(sa.Shard)
		if p == nil {
			return true, fmt.Errorf("claim_attack: no running shard node with keys serves shard %d", sa.Shard)
		}
		rc, err := testnet.NewClient(p.Spec.URL()).ClaimAttack(cctx, sa.Shard, sa.Kind)
		if err != nil {
			return true, fmt.Errorf("claim_attack on %s: %w", p.Spec.Name, err)
		}
		done(fmt.Sprintf("%s replays the claim of receipt %d from shard %d included on shard %d: %s, to shard %d",
			p.Spec.Name, rc.Nonce, rc.Src, rc.Shard, sa.Kind, rc.Target))
	default:
		return false, nil
	}
	return true, nil
}

// fraudBlock has a shard node serving shard (with every key) publish the
// next slot's block of the shard made fraudulent as kind says (state_root
// or early_claim), in the background (it waits for the next slot).
func (r *tnRun) fraudBlock(ctx context.Context, shard uint64, kind string, slot uint64, done func(string)) error {
	p := r.shardServer(shard)
	if p == nil {
		return fmt.Errorf("fraudulent block (%s): no running shard node with keys serves shard %d", kind, shard)
	}
	key := fmt.Sprintf("fraud %d", slot)
	what := map[string]string{"state_root": "a wrong state root", "early_claim": "an early claim"}[kind]
	r.openWindow("byzantine", key, fmt.Sprintf("shard %d block with %s", shard, what), slot)
	r.closeWindow(key, slot+1)
	slotTime := time.Duration(r.tn.ChainConfig().SecondsPerSlot) * time.Second
	tries := 1
	if kind == "early_claim" {
		tries = 2 * int(slotsPerEpoch) // until a receipt is claimable early
	}
	r.background(ctx, func(ctx context.Context) (string, error) {
		for try := 1; ; try++ {
			cctx, cancel := context.WithTimeout(ctx, stepTimeout+2*slotTime)
			bslot, proposer, err := testnet.NewClient(p.Spec.URL()).FraudShardBlock(cctx, shard, kind)
			cancel()
			if err == nil {
				return fmt.Sprintf("shard %d block of slot %d (%s) by proposer %d, from %s (try %d)", shard, bslot, kind, proposer, p.Spec.Name, try), nil
			}
			if try >= tries || !strings.Contains(err.Error(), "no receipt to claim early") {
				return "", fmt.Errorf("%s (try %d): %w", p.Spec.Name, try, err)
			}
			if err := wallClock.WaitUntil(ctx, time.Now().Add(slotTime)); err != nil {
				return "", err
			}
		}
	}, done)
	return nil
}

// join starts the late nodes with empty data dirs, reads their peer IDs
// and applies the partition in force to every process.
func (r *tnRun) join(ctx context.Context, nodes []int) (string, error) {
	for _, n := range nodes {
		p := r.beacon[n]
		if err := r.tn.Join(ctx, p.Spec.Name); err != nil {
			return "", err
		}
		cctx, cancel := context.WithTimeout(ctx, stepTimeout)
		id, err := testnet.NewClient(p.Spec.URL()).PeerID(cctx)
		cancel()
		if err != nil {
			return "", fmt.Errorf("peer id of %s: %w", p.Spec.Name, err)
		}
		r.mu.Lock()
		r.peers[p.Spec.Name] = id
		r.mu.Unlock()
	}
	if groups := r.currentGroups(); groups != nil {
		cctx, cancel := context.WithTimeout(ctx, stepTimeout)
		defer cancel()
		if err := r.partition(cctx, groups); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("%v (empty data dirs)", nodes), nil
}

// wrongDataRoot has every running beacon node cast the wrong data root
// votes of the voters it hosts.
func (r *tnRun) wrongDataRoot(ctx context.Context, shard uint64, share float64) (string, error) {
	var (
		slot   uint64
		voters []uint64
		cast   []uint64
	)
	for i, p := range r.beacon {
		if !p.Running() {
			continue
		}
		s, vs, hosted, err := testnet.NewClient(p.Spec.URL()).WrongDataRootVotes(ctx, shard, share)
		if err != nil {
			return "", fmt.Errorf("wrong data root votes on node %d: %w", i, err)
		}
		slot, voters, cast = s, vs, append(cast, hosted...)
	}
	slices.Sort(cast)
	return fmt.Sprintf("shard %d share %g: voters %v at slot %d (cast: %v)", shard, share, voters, slot, cast), nil
}

// offlineValidators takes single validators offline or back online on
// the nodes hosting them (a range or fraction that is not whole nodes'
// validators).
func (r *tnRun) offlineValidators(ctx context.Context, a Action, slot uint64) (string, error) {
	vs, err := validatorSet(a, r.sc.Network.Validators)
	if err != nil {
		return "", err
	}
	byNode := map[int][]uint64{}
	for _, v := range vs {
		n, err := r.host(uint64(v))
		if err != nil {
			return "", err
		}
		byNode[n] = append(byNode[n], uint64(v))
	}
	for n, mine := range byNode {
		if _, err := testnet.NewClient(r.beacon[n].Spec.URL()).SetValidatorDuties(ctx, mine, a.Kind == "online"); err != nil {
			return "", fmt.Errorf("%s validators %v on node %d: %w", a.Kind, mine, n, err)
		}
	}
	detail := "validators " + rangeText(vs)
	key := "validators " + a.Validators + fmt.Sprint(a.Fraction)
	if a.Kind == "offline" {
		r.openWindow("offline", key, detail+" offline", slot)
	} else {
		r.closeWindow(key, slot)
	}
	return detail, nil
}

// wholeNodes reports whether nodes host exactly the validators a names.
func (r *tnRun) wholeNodes(nodes []int, a Action) bool {
	vs, err := validatorSet(a, r.sc.Network.Validators)
	if err != nil {
		return false
	}
	hosted := uint64(0)
	for _, n := range nodes {
		_, count, _ := r.ValidatorRange(n)
		hosted += count
	}
	return hosted == uint64(len(vs))
}

// watchOf fills ns's registry size and watched validators from the
// node's validators at slot's start (registry.go's checks).
func (r *tnRun) watchOf(ns *NodeSample, vs []testnet.ValidatorInfo, slot uint64) {
	ns.Registry = len(vs)
	epoch := slot / slotsPerEpoch
	ns.Watch = map[uint64]watched{}
	for v := range r.watch {
		if v >= uint64(len(vs)) {
			ns.Watch[v] = watched{}
			continue
		}
		val := vs[v]
		ns.Watch[v] = watched{Exists: true, Activation: val.ActivationEpoch, Exit: val.ExitEpoch, Balance: val.Balance,
			ActiveNow: val.ActivationEpoch <= epoch && epoch < val.ExitEpoch, ExitedNow: val.ExitEpoch <= epoch}
	}
}

// peerID is the named process's peer ID ("" before it first started).
func (r *tnRun) peerID(name string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.peers[name]
}

// watchedValidators are the validators sc's expectations name (the
// registry checks sample them).
func watchedValidators(sc *Scenario) map[uint64]bool {
	out := map[uint64]bool{}
	for _, e := range sc.Expect {
		for _, v := range e.Validators {
			out[v] = true
		}
	}
	return out
}
