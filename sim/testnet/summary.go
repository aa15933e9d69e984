package testnet

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	bt "github.com/shardlab/shardlab/beacon/types"
)

// NodeFinality is a node's finalized checkpoint at the end of a run.
type NodeFinality struct {
	Name  string `json:"name"`
	Epoch uint64 `json:"epoch"`
	Root  string `json:"root"`
	Err   string `json:"error,omitempty"`
}

// Agreement is the check that the nodes' finalized checkpoints lie on one
// chain: every answering node has the lowest finalized checkpoint's block
// on its canonical chain, and nodes at the same finalized epoch have the
// same root.
type Agreement struct {
	Epoch    uint64         `json:"epoch"`
	Root     string         `json:"root"`
	Nodes    []NodeFinality `json:"nodes"`
	Agree    []string       `json:"agree"`
	Disagree []string       `json:"disagree,omitempty"` // "name: reason"
}

// OK reports whether every node agrees (and at least one answered).
func (a Agreement) OK() bool { return len(a.Agree) > 0 && len(a.Disagree) == 0 }

// ShardCrosslinks are the crosslinks a shard went through during a run.
type ShardCrosslinks struct {
	Shard uint64 `json:"shard"`
	// Crosslinks counts the distinct crosslinks seen (after genesis);
	// WithData those committing to at least one shard block.
	Crosslinks int `json:"crosslinks"`
	WithData   int `json:"with_data"`
	// LastEndEpoch and StateRoot describe the last one (StateRoot: its
	// last header's shard state root, when the shard node knows it).
	LastEndEpoch uint64 `json:"last_end_epoch"`
	StateRoot    string `json:"state_root,omitempty"`
}

// Summary is the outcome of a run.
type Summary struct {
	BeaconNodes int           `json:"beacon_nodes"`
	ShardNodes  int           `json:"shard_nodes"`
	Validators  uint64        `json:"validators"`
	Shards      uint64        `json:"shards"`
	SlotTime    time.Duration `json:"slot_time_ns"`
	// SlotsPerEpoch is the chain's SLOTS_PER_EPOCH.
	SlotsPerEpoch uint64 `json:"slots_per_epoch"`
	Epochs        uint64 `json:"epochs"`
	Interrupted   bool   `json:"interrupted"`
	// LastSlot is the wall-clock slot at the end.
	LastSlot uint64 `json:"last_slot"`

	FirstFinalized *Milestone        `json:"first_finalized,omitempty"`
	Agreement      Agreement         `json:"agreement"`
	Crosslinks     []ShardCrosslinks `json:"crosslinks"`
	HasReceipts    bool              `json:"has_receipts"`
	Receipts       ReceiptCounts     `json:"receipts"`
	Load           *LoadStats        `json:"load,omitempty"`
	HasIncluded    bool              `json:"has_included"`
	Included       uint64            `json:"included"`
	Latency        Latency           `json:"latency"`
	// Exited are the processes that exited on their own and did not run
	// again; Restarts the nodes started again during the run (by
	// `testnet restart|start`, StartNode or by hand).
	Exited   map[string]string `json:"exited,omitempty"`
	Restarts []string          `json:"restarts,omitempty"`
	// Failures are the reasons the run failed (empty: it passed).
	Failures []string `json:"failures,omitempty"`
}

// OK reports whether the run passed: finality reached, the finalized roots
// agree, no process exited on its own.
func (s *Summary) OK() bool { return len(s.Failures) == 0 }

// CheckAgreement compares the finalized checkpoints of the running
// processes (see Agreement).
func (t *Testnet) CheckAgreement(ctx context.Context) Agreement {
	var clients []*Client
	var names []string
	for _, p := range t.Processes() {
		if p.Running() {
			clients = append(clients, NewClient(p.Spec.URL()))
			names = append(names, p.Spec.Name)
		}
	}
	return checkAgreement(ctx, names, clients)
}

func checkAgreement(ctx context.Context, names []string, clients []*Client) Agreement {
	var a Agreement
	fins := make([]NodeFinality, len(clients))
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() {
			fins[i].Name = names[i]
			f, err := c.Finality(ctx)
			if err != nil {
				fins[i].Err = shortErr(err)
				return
			}
			fins[i].Epoch, fins[i].Root = f.Finalized.Epoch, f.Finalized.Root
		})
	}
	wg.Wait()
	a.Nodes = fins
	low := -1
	for i, f := range fins {
		if f.Err == "" && (low < 0 || f.Epoch < fins[low].Epoch) {
			low = i
		}
	}
	if low < 0 {
		for _, f := range fins {
			a.Disagree = append(a.Disagree, f.Name+": "+f.Err)
		}
		return a
	}
	a.Epoch, a.Root = fins[low].Epoch, fins[low].Root
	zero := (bt.Root{}).String()
	for i, f := range fins {
		switch {
		case f.Err != "":
			a.Disagree = append(a.Disagree, f.Name+": no answer: "+f.Err)
		case f.Epoch == a.Epoch && f.Root != a.Root:
			a.Disagree = append(a.Disagree, fmt.Sprintf("%s: finalized %s at epoch %d, %s has %s", f.Name, f.Root, f.Epoch, fins[low].Name, a.Root))
		case a.Root == zero:
			a.Agree = append(a.Agree, f.Name) // nothing finalized yet: genesis
		default:
			h, err := clients[i].Header(ctx, a.Root)
			switch {
			case err != nil:
				a.Disagree = append(a.Disagree, fmt.Sprintf("%s: finalized block %s of epoch %d: %s", f.Name, a.Root, a.Epoch, shortErr(err)))
			case !h.Canonical:
				a.Disagree = append(a.Disagree, fmt.Sprintf("%s: finalized block %s of epoch %d is not on its canonical chain", f.Name, a.Root, a.Epoch))
			default:
				a.Agree = append(a.Agree, f.Name)
			}
		}
	}
	return a
}

// Arrivals returns every running process's block arrivals since slot 1.
func (t *Testnet) Arrivals(ctx context.Context) map[string][]Arrival {
	var mu sync.Mutex
	out := make(map[string][]Arrival)
	var wg sync.WaitGroup
	for _, p := range t.Processes() {
		if !p.Running() {
			continue
		}
		wg.Go(func() {
			arr, err := NewClient(p.Spec.URL()).BlockArrivals(ctx, 1)
			if err != nil {
				return
			}
			mu.Lock()
			out[p.Spec.Name] = arr
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

// shardCheckEpochs is the run length (--epochs) from which the summary
// also fails a run in which a shard never crosslinked shard blocks or no
// cross-shard receipt was claimed: a crosslink takes about two epochs, a
// claim one more for the challenge window and one to be included.
const shardCheckEpochs = 6

// summarize builds the summary from the monitor and a final look at the
// nodes.
func (t *Testnet) summarize(ctx context.Context, mon *monitor, load *Load, interrupted bool) *Summary {
	s := &Summary{BeaconNodes: t.cfg.BeaconNodes, ShardNodes: t.cfg.ShardNodes, Validators: t.cfg.Validators,
		Shards: t.cfg.Shards, SlotTime: t.cfg.SlotTime, SlotsPerEpoch: t.chain.SlotsPerEpoch, Epochs: t.cfg.Epochs,
		FirstFinalized: mon.firstFinal, Interrupted: interrupted}
	last := t.poll(ctx)
	mon.observe(last)
	s.LastSlot = last.Slot
	s.Agreement = t.CheckAgreement(ctx)
	for i, tr := range mon.xl {
		sc := ShardCrosslinks{Shard: uint64(i), Crosslinks: tr.count, WithData: tr.withData}
		if tr.current != nil {
			sc.LastEndEpoch = tr.current.EndEpoch
			if tr.current.HasHeader {
				sc.StateRoot = tr.current.HeaderStateRoot
			}
		}
		s.Crosslinks = append(s.Crosslinks, sc)
	}
	s.Receipts, s.HasReceipts = last.ReceiptTotals()
	if load != nil {
		ls := load.Stats()
		s.Load = &ls
	}
	s.HasIncluded, s.Included = last.HasIncluded, last.Included
	s.Latency = GossipLatency(t.Arrivals(ctx))
	if len(mon.exited) > 0 {
		s.Exited = mon.exited
	}
	s.Restarts = mon.restarts

	if len(s.Agreement.Agree) == 0 {
		s.Failures = append(s.Failures, "no node answered")
	} else if s.Agreement.Epoch == 0 {
		s.Failures = append(s.Failures, "no finality: the finalized epoch is 0 (first finalization needs about 4 epochs)")
	}
	if len(s.Agreement.Disagree) > 0 {
		s.Failures = append(s.Failures, "finalized checkpoints disagree: "+strings.Join(s.Agreement.Disagree, "; "))
	}
	for name, how := range mon.exited {
		s.Failures = append(s.Failures, fmt.Sprintf("%s exited on its own (%s)", name, how))
	}
	s.Failures = append(s.Failures, s.shardFailures()...)
	return s
}

// shardFailures are the shard layer's failures of a run that went its full
// length of at least shardCheckEpochs with shard nodes: a shard without a
// crosslink of shard blocks, or a cross-shard workload of which no receipt
// was claimed.
func (s *Summary) shardFailures() []string {
	if s.Interrupted || s.ShardNodes == 0 || s.Epochs < shardCheckEpochs {
		return nil
	}
	var out, none []string
	for _, c := range s.Crosslinks {
		if c.WithData == 0 {
			none = append(none, fmt.Sprint(c.Shard))
		}
	}
	if len(none) > 0 {
		out = append(out, "no crosslink of shard blocks on shard(s) "+strings.Join(none, ", "))
	}
	if s.Load != nil && s.Load.CrossShard > 0 && s.Receipts.Claimed == 0 {
		out = append(out, fmt.Sprintf("none of %d cross-shard transfers was credited on its destination shard", s.Load.CrossShard))
	}
	return out
}

// Write prints the summary for people.
func (s *Summary) Write(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("")
	how := ""
	if s.Interrupted {
		how = ", interrupted"
	}
	p("summary: %d beacon nodes, %d shard nodes, %d validators, %d shards, %v slots; ran to slot %d (epoch %d)%s",
		s.BeaconNodes, s.ShardNodes, s.Validators, s.Shards, s.SlotTime, s.LastSlot, s.LastSlot/max(s.SlotsPerEpoch, 1), how)
	if f := s.FirstFinalized; f != nil {
		p("  finality:     first finalized epoch %d at slot %d, %.1fs after genesis (seen on %s)", f.Epoch, f.Slot, f.After.Seconds(), f.Node)
	} else {
		p("  finality:     not reached")
	}
	a := s.Agreement
	switch {
	case a.OK() && a.Epoch > 0:
		fins := make([]string, 0, len(a.Nodes))
		for _, n := range a.Nodes {
			fins = append(fins, fmt.Sprintf("%s %d", n.Name, n.Epoch))
		}
		p("  agreement:    all %d nodes have the finalized block of epoch %d (%s) on their canonical chain", len(a.Agree), a.Epoch, shortRoot(a.Root))
		p("                finalized epochs: %s", strings.Join(fins, ", "))
	case a.OK():
		p("  agreement:    %d nodes answered; nothing finalized to compare", len(a.Agree))
	default:
		p("  agreement:    FAILED: %s", strings.Join(a.Disagree, "; "))
	}
	if len(s.Crosslinks) > 0 {
		var parts []string
		for _, c := range s.Crosslinks {
			part := fmt.Sprintf("%d=%d", c.Shard, c.Crosslinks)
			if c.WithData != c.Crosslinks {
				part += fmt.Sprintf(" (%d with data)", c.WithData)
			}
			parts = append(parts, part)
		}
		p("  crosslinks:   how many per shard (shard=count): %s", strings.Join(parts, ", "))
		var roots []string
		for _, c := range s.Crosslinks {
			if c.StateRoot != "" {
				roots = append(roots, fmt.Sprintf("%d@%d %s", c.Shard, c.LastEndEpoch, shortRoot(c.StateRoot)))
			}
		}
		if len(roots) > 0 {
			p("                last crosslinked state roots (shard@end epoch): %s", strings.Join(roots, ", "))
		}
	}
	if s.HasReceipts {
		p("  receipts:     %d sent, %d credited by their destination shards, %d in flight", s.Receipts.Sent, s.Receipts.Claimed, s.Receipts.Pending)
	}
	if l := s.Load; l != nil {
		line := fmt.Sprintf("  transactions: %d submitted, %d accepted (%d cross-shard), %d rejected, %d failed", l.Submitted, l.Accepted, l.CrossShard, l.Rejected, l.Failed)
		if s.HasIncluded {
			line += fmt.Sprintf("; %d in canonical blocks", s.Included)
		}
		p("%s", line)
	}
	if len(s.Restarts) > 0 {
		p("  restarts:     %s", strings.Join(s.Restarts, "; "))
	}
	if l := s.Latency; l.Samples > 0 {
		p("  gossip:       beacon block latency over %d blocks, %d arrivals at %d processes: p50 %s, p90 %s, p99 %s, max %s",
			l.Blocks, l.Samples, l.Processes, fmtDur(l.P50), fmtDur(l.P90), fmtDur(l.P99), fmtDur(l.Max))
	} else {
		p("  gossip:       no block seen by two nodes")
	}
	if s.OK() {
		p("result: PASS")
	} else {
		p("result: FAIL: %s", strings.Join(s.Failures, "; "))
	}
}

func fmtDur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
	case d < 10*time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	}
	return d.Round(time.Millisecond).String()
}
