package testnet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/shardlab/shardlab/beacon/params"
	bt "github.com/shardlab/shardlab/beacon/types"
	shardcore "github.com/shardlab/shardlab/shard/core"
)

// Milestone is when something first happened.
type Milestone struct {
	Epoch uint64        `json:"epoch"`
	Slot  uint64        `json:"slot"`
	After time.Duration `json:"after_genesis_ns"`
	Node  string        `json:"node"`
}

// monitor follows the snapshots of a run: the first finalization, the
// crosslinks of every shard, the processes that exited on their own (and
// did not run again) and the restarts.
type monitor struct {
	emptyRoot  string
	genesis    time.Time
	firstFinal *Milestone
	xl         []xlTrack
	exited     map[string]string
	restarts   []string
	seen       map[string]NodeStatus // the last state of every node
	last       *Snapshot
}

// xlTrack counts the distinct crosslinks a shard went through.
type xlTrack struct {
	last     string
	count    int
	withData int
	current  *Crosslink
}

func newMonitor(t *Testnet) *monitor {
	return &monitor{emptyRoot: emptyDataRoot(t.chain), genesis: t.genesis, xl: make([]xlTrack, t.cfg.Shards),
		exited: make(map[string]string), seen: make(map[string]NodeStatus)}
}

// emptyDataRoot is the data root of a crosslink over no shard block.
func emptyDataRoot(cfg *params.Config) string {
	empty, err := shardcore.CrosslinkDataRoot(cfg, nil)
	if err != nil {
		return "" // cannot happen: no headers
	}
	return empty.String()
}

// hasData reports whether a crosslink commits to at least one shard block.
func (m *monitor) hasData(c *Crosslink) bool { return crosslinkHasData(c, m.emptyRoot) }

func crosslinkHasData(c *Crosslink, emptyRoot string) bool {
	return c.DataRoot != emptyRoot && c.DataRoot != (bt.Root{}).String()
}

// observe folds a snapshot in; it returns lines worth telling the user.
func (m *monitor) observe(s *Snapshot) []string {
	m.last = s
	var notes []string
	if m.firstFinal == nil {
		for _, n := range s.Nodes {
			if n.State == "up" && n.Err == "" && n.Finality.Finalized.Epoch > 0 {
				m.firstFinal = &Milestone{Epoch: n.Finality.Finalized.Epoch, Slot: s.Slot, After: s.Time.Sub(m.genesis), Node: n.Name}
				notes = append(notes, fmt.Sprintf("first finalization: epoch %d on %s at slot %d, %.0fs after genesis",
					m.firstFinal.Epoch, n.Name, s.Slot, m.firstFinal.After.Seconds()))
				break
			}
		}
	}
	if m.seen == nil {
		m.seen = make(map[string]NodeStatus)
	}
	for _, n := range s.Nodes {
		prev, had := m.seen[n.Name]
		m.seen[n.Name] = n
		switch {
		case n.State == "exited":
			if _, noted := m.exited[n.Name]; !noted {
				m.exited[n.Name] = n.Exit
				notes = append(notes, fmt.Sprintf("%s exited on its own (%s)", n.Name, n.Exit))
			}
		case n.State == "up" && had && (prev.State != "up" || prev.Pid != n.Pid):
			what := fmt.Sprintf("%s runs again as pid %d", n.Name, n.Pid)
			switch {
			case prev.State == "exited":
				what += fmt.Sprintf(" (after it exited: %s)", prev.Exit)
			case prev.State == "up":
				what += fmt.Sprintf(" (was pid %d)", prev.Pid)
			}
			delete(m.exited, n.Name)
			m.restarts = append(m.restarts, what)
			notes = append(notes, what)
		case n.State == "down" && had && prev.State == "up":
			notes = append(notes, fmt.Sprintf("%s stopped (pid %d)", n.Name, prev.Pid))
		}
	}
	for _, sh := range s.Shards {
		c := sh.Crosslink
		if c == nil || sh.Shard >= uint64(len(m.xl)) || c.EndEpoch == 0 {
			continue
		}
		tr := &m.xl[sh.Shard]
		key := fmt.Sprintf("%d-%d-%s", c.StartEpoch, c.EndEpoch, c.DataRoot)
		if key != tr.last {
			tr.last = key
			tr.count++
			if m.hasData(c) {
				tr.withData++
			}
		}
		cc := *c
		tr.current = &cc
	}
	return notes
}

// Run drives a started testnet: it submits the workload (from slot 1, when
// TxRate > 0 and there are shard nodes), polls every node once per slot
// (in the middle of the slot), shows the status table, and returns after
// Config.Epochs epochs (at the first slot of epoch Epochs) or when ctx
// ends, with the summary. The processes keep running: call Stop (unless
// Keep). The summary is also written to DIR/summary.json.
func (t *Testnet) Run(ctx context.Context) (*Summary, error) {
	if t.chain == nil {
		return nil, errors.New("run testnet: not started")
	}
	slot := time.Duration(t.chain.SecondsPerSlot) * time.Second
	var end time.Time
	if t.cfg.Epochs > 0 {
		end = t.genesis.Add(time.Duration(t.cfg.Epochs*t.chain.SlotsPerEpoch) * slot)
		t.out.progress("running until epoch %d (%s, in %.0fs); Ctrl-C stops earlier", t.cfg.Epochs,
			end.Format("15:04:05"), time.Until(end).Seconds())
	} else {
		t.out.progress("running until Ctrl-C")
	}

	loadCtx, stopLoad := context.WithCancel(ctx)
	load, waitLoad := t.StartLoad(loadCtx)
	defer func() {
		stopLoad()
		waitLoad()
	}()
	if load != nil {
		t.out.progress("workload: %.1f tx/s, %.0f%% cross-shard, seed %d, from slot 1", t.cfg.TxRate, 100*t.cfg.CrossShard, t.cfg.Seed)
	}

	mon := newMonitor(t)
	lastTable := ^uint64(0)
	interrupted := false
	for {
		// The next poll: mid-slot, or every second before genesis.
		now := time.Now()
		var next time.Time
		if now.Before(t.genesis) {
			next = now.Add(min(time.Second, t.genesis.Sub(now)+slot/2))
		} else {
			k := now.Sub(t.genesis) / slot
			next = t.genesis.Add(k*slot + slot/2)
			if !next.After(now) {
				next = next.Add(slot)
			}
		}
		if !end.IsZero() && next.After(end.Add(slot/2)) {
			next = end.Add(slot / 2)
		}
		select {
		case <-ctx.Done():
			interrupted = true
		case <-time.After(time.Until(next)):
		}
		if interrupted {
			break
		}
		snap := t.poll(ctx)
		for _, n := range mon.observe(snap) {
			t.out.progress("%s", n)
		}
		t.show(snap, load, &lastTable)
		if !end.IsZero() && !snap.Time.Before(end) {
			break
		}
	}
	stopLoad()
	waitLoad()
	t.out.release()
	if interrupted {
		t.out.progress("interrupted: collecting the summary")
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	sum := t.summarize(fctx, mon, load, interrupted)
	if b, err := json.MarshalIndent(sum, "", "  "); err == nil {
		_ = os.WriteFile(filepath.Join(t.cfg.Dir, SummaryFile), append(b, '\n'), 0o644)
	}
	return sum, nil
}

// StartLoad starts the workload (Config.TxRate, CrossShard, Seed) through
// the shard nodes from slot 1 until ctx ends; wait returns once it has
// stopped. The load is nil (and wait returns at once) without shard nodes
// or with TxRate 0.
func (t *Testnet) StartLoad(ctx context.Context) (l *Load, wait func()) {
	if t.cfg.TxRate <= 0 || t.chain == nil {
		return nil, func() {}
	}
	targets := make(map[uint64]*Client)
	for _, p := range t.Processes() {
		if p.Spec.Role != RoleShard {
			continue
		}
		for _, s := range p.Spec.Shards {
			if _, ok := targets[s]; !ok {
				targets[s] = NewClient(p.Spec.URL())
			}
		}
	}
	if len(targets) == 0 {
		return nil, func() {}
	}
	l = NewLoad(t.chain, targets, t.cfg.TxRate, t.cfg.CrossShard, t.cfg.Seed)
	done := make(chan struct{})
	start := t.genesis.Add(time.Duration(t.chain.SecondsPerSlot) * time.Second)
	go func() {
		defer close(done)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(start)):
		}
		l.Run(ctx)
	}()
	return l, func() { <-done }
}

// CrosslinkHasData reports whether c commits to at least one shard block
// (its data root is neither zero nor the empty range's).
func (t *Testnet) CrosslinkHasData(c *Crosslink) bool {
	return crosslinkHasData(c, emptyDataRoot(t.chain))
}

// Poll reads the state of every process once.
func (t *Testnet) Poll(ctx context.Context) *Snapshot { return t.poll(ctx) }

func (t *Testnet) poll(ctx context.Context) *Snapshot {
	procs := t.Processes()
	targets := make([]target, len(procs))
	for i, p := range procs {
		p.Follow() // a node started again outside this Testnet
		targets[i] = target{spec: p.Spec, running: p.Running()}
		if targets[i].running {
			targets[i].pid = p.Pid()
		}
		if crashed, err := p.Crashed(); crashed {
			targets[i].exit = "exit status 0"
			if err != nil {
				targets[i].exit = err.Error()
			}
		}
	}
	return poll(ctx, targets, t.genesis, t.chain.SecondsPerSlot, t.chain.SlotsPerEpoch, t.cfg.Shards)
}

// show draws the table (TTY: every poll; otherwise the full table at each
// epoch's first poll and one line per slot).
func (t *Testnet) show(s *Snapshot, load *Load, lastTable *uint64) {
	txLine := ""
	if load != nil {
		ls := load.Stats()
		txLine = fmt.Sprintf("txs: submitted %d, accepted %d (%d cross-shard), rejected %d, failed %d",
			ls.Submitted, ls.Accepted, ls.CrossShard, ls.Rejected, ls.Failed)
		if s.HasIncluded {
			txLine += fmt.Sprintf("; in blocks %d", s.Included)
		}
		if e := load.LastError(); e != "" && (ls.Rejected > 0 || ls.Failed > 0) {
			txLine += "\n  last error: " + shortErr(errors.New(e))
		}
	} else if s.HasIncluded {
		txLine = fmt.Sprintf("txs: in blocks %d", s.Included)
	}
	if t.cfg.TTY {
		text := s.Table()
		if txLine != "" {
			text += txLine + "\n"
		}
		t.out.table(text)
		return
	}
	if s.ToGenesis == 0 && s.Epoch != *lastTable {
		*lastTable = s.Epoch
		text := s.Table()
		if txLine != "" {
			text += txLine + "\n"
		}
		t.out.table(text)
		return
	}
	line := s.Line()
	if load != nil {
		ls := load.Stats()
		line += fmt.Sprintf(" | txs %d/%d accepted", ls.Accepted, ls.Submitted)
	}
	t.out.table(line + "\n")
}
