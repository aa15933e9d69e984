package scenario

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/shardlab/shardlab/sim/testnet"
)

// The testnet engine's actions. Each is staged on the real processes:
// partitions through the nodes' peer blocklists, crashes with SIGKILL,
// restarts on the data dir, offline validators, byzantine votes and
// proposals and invalid shard blocks through the debug API. A step that
// takes time (a restart waits for the node to listen, an invalid shard
// block for the next slot) runs in the background and is recorded when it
// is done; its fault window opens or closes at its slot.

// stepTimeout bounds one debug API call.
const stepTimeout = 10 * time.Second

// fireTestnet applies one step.
func (r *tnRun) fireTestnet(ctx context.Context, st Step) error {
	a, slot := st.Action, st.Slot
	done := func(detail string) {
		r.addStep(Fired{Slot: slot, Name: st.Name, Action: a.Kind, Detail: detail}, st.Name)
	}
	cctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	switch a.Kind {
	case "partition", "isolate":
		groups := a.Groups
		if a.Kind == "isolate" {
			groups = [][]int{a.Nodes}
		}
		if err := r.partition(cctx, groups); err != nil {
			return err
		}
		detail := fmt.Sprint(groups)
		if a.Kind == "isolate" {
			detail = fmt.Sprint(a.Nodes)
		}
		r.closeWindow("net", slot)
		r.openWindow("partition", "net", a.Kind+" "+detail, slot)
		done(detail)
	case "heal":
		r.mu.Lock()
		r.groups = nil
		r.mu.Unlock()
		for _, p := range r.tn.Processes() {
			if p.Running() {
				if err := testnet.NewClient(p.Spec.URL()).UnblockPeers(cctx, nil); err != nil {
					return fmt.Errorf("heal %s: %w", p.Spec.Name, err)
				}
			}
		}
		r.closeWindow("net", slot)
		done("")
	case "crash":
		for _, n := range a.Nodes {
			if err := r.tn.Kill(r.beacon[n].Spec.Name); err != nil {
				return err
			}
			r.openWindow("crash", fmt.Sprintf("crash %d", n), fmt.Sprintf("node %d down", n), slot)
		}
		done(fmt.Sprint(a.Nodes) + " (SIGKILL)")
	case "restart":
		for _, n := range a.Nodes {
			r.closeWindow(fmt.Sprintf("crash %d", n), slot)
		}
		r.background(ctx, func(ctx context.Context) (string, error) { return r.restart(ctx, a.Nodes) }, done)
	case "offline", "online":
		nodes, err := offlineNodes(r, a)
		if len(a.Nodes) == 0 && (err != nil || !r.wholeNodes(nodes, a)) {
			// Not exactly whole nodes' validators: single validators.
			detail, err := r.offlineValidators(cctx, a, slot)
			if err != nil {
				return err
			}
			done(detail)
			return nil
		}
		if err != nil {
			return err
		}
		for _, n := range nodes {
			c := testnet.NewClient(r.beacon[n].Spec.URL())
			if err := c.SetDuties(cctx, a.Kind == "online"); err != nil {
				return fmt.Errorf("%s node %d: %w", a.Kind, n, err)
			}
			if a.Kind == "online" { // single validators taken offline too
				if _, err := c.SetValidatorDuties(cctx, nil, true); err != nil {
					return fmt.Errorf("online node %d: %w", n, err)
				}
			}
			key := fmt.Sprintf("offline %d", n)
			if a.Kind == "offline" {
				first, count, _ := r.ValidatorRange(n)
				r.openWindow("offline", key, fmt.Sprintf("validators %d..%d offline", first, first+count), slot)
			} else {
				r.closeWindow(key, slot)
			}
		}
		done("nodes " + fmt.Sprint(nodes))
	case "double_vote", "surround_vote":
		var duty []string
		for _, v := range a.Indices {
			n, err := r.host(v)
			if err != nil {
				return err
			}
			at, err := testnet.NewClient(r.beacon[n].Spec.URL()).ByzantineVote(cctx, a.Kind, v)
			if err != nil {
				return fmt.Errorf("%s of validator %d on node %d: %w", a.Kind, v, n, err)
			}
			duty = append(duty, fmt.Sprintf("%d at slot %d", v, at))
		}
		detail := "validators " + strings.Join(duty, ", ")
		key := a.Kind + fmt.Sprint(slot)
		r.openWindow("byzantine", key, strings.ReplaceAll(a.Kind, "_", " ")+" "+detail, slot)
		r.closeWindow(key, slot+slotsPerEpoch)
		done(detail)
	case "equivocate":
		for i, p := range r.beacon {
			if !p.Running() {
				continue
			}
			if err := testnet.NewClient(p.Spec.URL()).Equivocate(cctx, slot); err != nil {
				return fmt.Errorf("equivocate on node %d: %w", i, err)
			}
		}
		r.openWindow("byzantine", fmt.Sprintf("equivocate %d", slot), "double proposal", slot)
		r.closeWindow(fmt.Sprintf("equivocate %d", slot), slot+1)
		done(fmt.Sprintf("proposer of slot %d", slot))
	case "invalid_state_root":
		return r.fraudBlock(ctx, a.InvalidShard, "state_root", slot, done)
	default:
		if ok, err := r.fireMore(ctx, cctx, st, done); ok || err != nil {
			return err
		}
		return fmt.Errorf("%w: action %s is not supported on the testnet engine", ErrInvalid, a.Kind)
	}
	return nil
}

// background runs a slow step and records it when it is done; a failure
// is recorded as the step's detail and logged.
func (r *tnRun) background(ctx context.Context, f func(context.Context) (string, error), done func(string)) {
	r.pending.Go(func() {
		detail, err := f(ctx)
		if err != nil {
			r.log.Warn("scenario step failed", "err", err)
			detail = "FAILED: " + err.Error()
		}
		done(detail)
	})
}

// restart starts the crashed nodes again on their data dirs and applies
// the current partition to them.
func (r *tnRun) restart(ctx context.Context, nodes []int) (string, error) {
	var errs []error
	for _, n := range nodes {
		p := r.beacon[n]
		if err := r.tn.Restart(ctx, p.Spec.Name); err != nil {
			errs = append(errs, err)
			continue
		}
		if groups := r.currentGroups(); groups != nil {
			cctx, cancel := context.WithTimeout(ctx, stepTimeout)
			err := r.blockFor(cctx, p, groups)
			cancel()
			errs = append(errs, err)
		}
	}
	return fmt.Sprint(nodes), errors.Join(errs...)
}

// currentGroups is the partition in force (nil: none).
func (r *tnRun) currentGroups() [][]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.groups
}

// partition cuts the testnet into groups of beacon nodes; the nodes in no
// group form one more group. Shard node j (fishermen included) joins the
// group of beacon node j*N/S (N beacon nodes, S shard nodes), so that its
// links do not bridge the groups. Every process blocks the peers of the
// other groups (a previous partition is lifted first).
func (r *tnRun) partition(ctx context.Context, groups [][]int) error {
	var rest []int
	for i := range r.beacon {
		in := false
		for _, g := range groups {
			for _, n := range g {
				in = in || n == i
			}
		}
		if !in {
			rest = append(rest, i)
		}
	}
	if len(rest) > 0 {
		groups = append(groups, rest)
	}
	r.mu.Lock()
	r.groups = groups
	r.mu.Unlock()
	var errs []error
	for _, p := range r.tn.Processes() {
		if p.Running() {
			errs = append(errs, r.blockFor(ctx, p, groups))
		}
	}
	return errors.Join(errs...)
}

// blockFor sets p's blocklist to the processes outside its group.
func (r *tnRun) blockFor(ctx context.Context, p *testnet.Process, groups [][]int) error {
	group := r.groupOf(p.Spec.Name, groups)
	var block []string
	for _, q := range r.tn.Processes() {
		if id := r.peerID(q.Spec.Name); q != p && id != "" && r.groupOf(q.Spec.Name, groups) != group {
			block = append(block, id)
		}
	}
	c := testnet.NewClient(p.Spec.URL())
	if err := c.UnblockPeers(ctx, nil); err != nil {
		return fmt.Errorf("partition %s: %w", p.Spec.Name, err)
	}
	if len(block) == 0 {
		return nil
	}
	if err := c.BlockPeers(ctx, block); err != nil {
		return fmt.Errorf("partition %s: %w", p.Spec.Name, err)
	}
	return nil
}

// groupOf is the index of the group of the named process.
func (r *tnRun) groupOf(name string, groups [][]int) int {
	beacon := -1
	for i, p := range r.beacon {
		if p.Spec.Name == name {
			beacon = i
		}
	}
	for j, p := range r.shard {
		if p.Spec.Name == name {
			beacon = j * len(r.beacon) / len(r.shard)
		}
	}
	for g, members := range groups {
		for _, n := range members {
			if n == beacon {
				return g
			}
		}
	}
	return -1
}

// shardServer is a running shard node serving shard with every key (not a
// fisherman).
func (r *tnRun) shardServer(shard uint64) *testnet.Process {
	for _, p := range r.shard {
		if p.Spec.Validators != fmt.Sprintf("0-%d", r.sc.Network.Validators-1) || !p.Running() {
			continue
		}
		for _, s := range p.Spec.Shards {
			if s == shard {
				return p
			}
		}
	}
	return nil
}

// lockedWriter serialises the progress lines of the runner and of its
// background steps.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
