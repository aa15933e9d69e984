package testnet

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// NodeStatus is one process's state as its HTTP API reports it.
type NodeStatus struct {
	Name, Role string
	Shards     []uint64
	// State is "up", "down" (stopped by the orchestrator or not started) or
	// "exited" (on its own; Exit says how).
	State string
	Exit  string
	// Pid is the process's pid while it runs (0 otherwise).
	Pid int
	// Err is the API error when the node did not answer ("" if it did).
	Err      string
	Sync     SyncInfo
	Finality Finality
	Peers    int
}

// ShardStatus is one shard's state, from a node serving it (or, without
// shard nodes, its crosslink from a beacon node's head state).
type ShardStatus struct {
	Shard uint64
	Node  string // the shard node it was read from ("" without one)
	// HeadSlot is the shard chain's head (HasHead false when unknown).
	HasHead   bool
	HeadSlot  uint64
	Crosslink *Crosslink
	// Receipts are the receipts the shard sent (HasReceipts false when
	// unknown).
	HasReceipts bool
	Receipts    ReceiptCounts
}

// Snapshot is the testnet's state at one moment.
type Snapshot struct {
	Time time.Time
	// Slot is the wall-clock slot (0 before genesis; ToGenesis > 0 then).
	Slot, Epoch uint64
	ToGenesis   time.Duration
	Nodes       []NodeStatus
	Shards      []ShardStatus
	// Included is the number of transactions in canonical shard blocks
	// (from the shard nodes' /stats; HasIncluded false when unknown).
	HasIncluded bool
	Included    uint64
}

// target is a process to poll.
type target struct {
	spec    NodeSpec
	running bool
	pid     int    // while running
	exit    string // how it exited on its own, "" otherwise
}

// poll reads the state of every target over HTTP, in parallel.
func poll(ctx context.Context, targets []target, genesis time.Time, secondsPerSlot, slotsPerEpoch, shards uint64) *Snapshot {
	now := time.Now()
	s := &Snapshot{Time: now}
	if d := genesis.Sub(now); d > 0 {
		s.ToGenesis = d
	} else {
		s.Slot = uint64(now.Sub(genesis) / (time.Duration(secondsPerSlot) * time.Second))
		s.Epoch = s.Slot / slotsPerEpoch
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()

	s.Nodes = make([]NodeStatus, len(targets))
	type shardRead struct {
		infos    []ShardInfo
		receipts map[uint64]ReceiptCounts
		stats    *ShardStats
	}
	reads := make([]shardRead, len(targets))
	var wg sync.WaitGroup
	for i, tg := range targets {
		ns := NodeStatus{Name: tg.spec.Name, Role: tg.spec.Role, Shards: tg.spec.Shards, State: "up", Pid: tg.pid}
		if !tg.running {
			ns.State = "down"
			if tg.exit != "" {
				ns.State, ns.Exit = "exited", tg.exit
			}
			s.Nodes[i] = ns
			continue
		}
		wg.Go(func() {
			c := NewClient(tg.spec.URL())
			var err error
			if ns.Sync, err = c.Syncing(ctx); err == nil {
				if ns.Finality, err = c.Finality(ctx); err == nil {
					ns.Peers, err = c.PeerCount(ctx)
				}
			}
			if err != nil {
				ns.Err = shortErr(err)
			}
			s.Nodes[i] = ns
			if tg.spec.Role != RoleShard || err != nil {
				return
			}
			r := shardRead{receipts: make(map[uint64]ReceiptCounts)}
			if infos, err := c.Shards(ctx); err == nil {
				r.infos = infos
			}
			for _, sh := range tg.spec.Shards {
				if rc, err := c.Receipts(ctx, sh); err == nil {
					r.receipts[sh] = rc
				}
			}
			if st, err := c.Stats(ctx); err == nil {
				r.stats = &st
			}
			reads[i] = r
		})
	}
	wg.Wait()

	// Shards: from the first running shard node serving each.
	s.Shards = make([]ShardStatus, shards)
	for sh := range s.Shards {
		s.Shards[sh].Shard = uint64(sh)
	}
	anyShardNode := false
	included, haveAll := uint64(0), true
	served := make(map[uint64]bool)
	for i, tg := range targets {
		if tg.spec.Role != RoleShard {
			continue
		}
		anyShardNode = true
		r := reads[i]
		overlap := false
		for _, sh := range tg.spec.Shards {
			overlap = overlap || served[sh]
			served[sh] = true
		}
		if r.stats == nil {
			haveAll = false
		} else if !overlap {
			included += r.stats.Transactions
		}
		for _, info := range r.infos {
			if info.Shard >= shards || s.Shards[info.Shard].Node != "" {
				continue
			}
			ss := &s.Shards[info.Shard]
			ss.Node, ss.HasHead, ss.HeadSlot, ss.Crosslink = tg.spec.Name, true, info.HeadSlot, info.Crosslink
			if rc, ok := r.receipts[info.Shard]; ok {
				ss.HasReceipts, ss.Receipts = true, rc
			}
		}
	}
	if anyShardNode && haveAll {
		s.HasIncluded, s.Included = true, included
	}
	if !anyShardNode {
		// Crosslinks from the first beacon node that answers.
		for _, tg := range targets {
			if !tg.running {
				continue
			}
			cls, err := NewClient(tg.spec.URL()).StateCrosslinks(ctx)
			if err != nil {
				continue
			}
			for i, c := range cls {
				if uint64(i) < shards {
					s.Shards[i].Crosslink = &c
				}
			}
			break
		}
	}
	return s
}

// shortErr shortens an API error for the table.
func shortErr(err error) string {
	s := err.Error()
	switch {
	case strings.Contains(s, "connection refused"):
		return "connection refused"
	case strings.Contains(s, "deadline exceeded"), strings.Contains(s, "Timeout"):
		return "timeout"
	}
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

// syncText renders a node's sync state.
func syncText(n NodeStatus) string {
	switch {
	case n.State == "exited":
		return "exited: " + n.Exit
	case n.State != "up":
		return n.State
	case n.Err != "":
		return "? " + n.Err
	case n.Sync.IsSyncing:
		return fmt.Sprintf("syncing (%d behind)", n.Sync.SyncDistance)
	case n.Sync.SyncDistance > 1:
		return fmt.Sprintf("%d behind", n.Sync.SyncDistance)
	}
	return "synced"
}

func shortRoot(r string) string {
	if len(r) > 12 {
		return r[:10] + "…"
	}
	if r == "" {
		return "-"
	}
	return r
}

// header renders the snapshot's first line.
func (s *Snapshot) header() string {
	if s.ToGenesis > 0 {
		return fmt.Sprintf("%s  waiting for genesis: %.0fs", s.Time.Format("15:04:05"), s.ToGenesis.Seconds())
	}
	return fmt.Sprintf("%s  slot %d  epoch %d", s.Time.Format("15:04:05"), s.Slot, s.Epoch)
}

// Table renders the snapshot as a text table: one row per node, one per
// shard.
func (s *Snapshot) Table() string {
	var b strings.Builder
	b.WriteString(s.header())
	b.WriteByte('\n')
	fmt.Fprintf(&b, "%-10s %-6s %7s %6s %5s %5s %5s  %s\n", "NODE", "ROLE", "PID", "HEAD", "JUST", "FIN", "PEERS", "SYNC")
	for _, n := range s.Nodes {
		pid := "-"
		if n.Pid != 0 {
			pid = fmt.Sprint(n.Pid)
		}
		if n.State == "up" && n.Err == "" {
			fmt.Fprintf(&b, "%-10s %-6s %7s %6d %5d %5d %5d  %s\n", n.Name, n.Role, pid, n.Sync.HeadSlot,
				n.Finality.Justified.Epoch, n.Finality.Finalized.Epoch, n.Peers, syncText(n))
		} else {
			fmt.Fprintf(&b, "%-10s %-6s %7s %6s %5s %5s %5s  %s\n", n.Name, n.Role, pid, "-", "-", "-", "-", syncText(n))
		}
	}
	shardNodes := false
	for _, sh := range s.Shards {
		shardNodes = shardNodes || sh.Node != ""
	}
	if len(s.Shards) > 0 && !shardNodes {
		// Beacon nodes only: the crosslinks of the beacon state.
		parts := make([]string, 0, len(s.Shards))
		for _, sh := range s.Shards {
			e := "-"
			if sh.Crosslink != nil {
				e = fmt.Sprint(sh.Crosslink.EndEpoch)
			}
			parts = append(parts, fmt.Sprintf("%d:%s", sh.Shard, e))
		}
		fmt.Fprintf(&b, "crosslinked epochs (shard:end epoch, no shard nodes): %s\n", strings.Join(parts, " "))
	}
	if len(s.Shards) > 0 && shardNodes {
		fmt.Fprintf(&b, "%-5s %-8s %6s %6s %-13s %6s %7s %7s %8s\n", "SHARD", "NODE", "HEAD", "XLINK", "XLINK STATE", "SENT", "CLAIMED", "PENDING", "RECEIVED")
		for _, sh := range s.Shards {
			node, head, xl, root := "-", "-", "-", "-"
			if sh.Node != "" {
				node = sh.Node
			}
			if sh.HasHead {
				head = fmt.Sprint(sh.HeadSlot)
			}
			if c := sh.Crosslink; c != nil {
				xl = fmt.Sprint(c.EndEpoch)
				if c.HasHeader {
					root = shortRoot(c.HeaderStateRoot)
				}
			}
			sent, claimed, pending, recv := "-", "-", "-", "-"
			if sh.HasReceipts {
				r := sh.Receipts
				sent, claimed, pending, recv = fmt.Sprint(r.Sent), fmt.Sprint(r.Claimed), fmt.Sprint(r.Pending), fmt.Sprint(r.Received)
			}
			fmt.Fprintf(&b, "%-5d %-8s %6s %6s %-13s %6s %7s %7s %8s\n", sh.Shard, node, head, xl, root, sent, claimed, pending, recv)
		}
	}
	return b.String()
}

// Line renders the snapshot as one line (non-TTY output between tables).
func (s *Snapshot) Line() string {
	if s.ToGenesis > 0 {
		return s.header()
	}
	var heads, fins []string
	up, peers := 0, 0
	for _, n := range s.Nodes {
		switch {
		case n.State != "up":
			heads = append(heads, n.State)
			fins = append(fins, "-")
		case n.Err != "":
			heads = append(heads, "?")
			fins = append(fins, "?")
		default:
			up++
			peers += n.Peers
			heads = append(heads, fmt.Sprint(n.Sync.HeadSlot))
			fins = append(fins, fmt.Sprintf("%d/%d", n.Finality.Justified.Epoch, n.Finality.Finalized.Epoch))
		}
	}
	line := fmt.Sprintf("%s | heads %s | just/fin %s", s.header(), strings.Join(heads, " "), compact(fins))
	if up > 0 {
		line += fmt.Sprintf(" | peers %.1f avg", float64(peers)/float64(up))
	}
	if rc, ok := s.ReceiptTotals(); ok {
		line += fmt.Sprintf(" | receipts %d sent %d credited", rc.Sent, rc.Claimed)
	}
	return line
}

// ReceiptTotals sums the shards' receipts network-wide: Sent over the
// sources, Claimed from the destinations' own chains (the sum of Received,
// what the summary calls "credited": not the sources' view, the table's
// CLAIMED column, which trails), Pending the difference (receipts
// in flight), Received equal to Claimed. ok is false when no shard
// reported its receipts.
func (s *Snapshot) ReceiptTotals() (rc ReceiptCounts, ok bool) {
	for _, sh := range s.Shards {
		if sh.HasReceipts {
			ok = true
			rc.Sent += sh.Receipts.Sent
			rc.Received += sh.Receipts.Received
		}
	}
	rc.Claimed = rc.Received
	if rc.Sent > rc.Claimed { // the nodes' heads are read at slightly different times
		rc.Pending = rc.Sent - rc.Claimed
	}
	return rc, ok
}

// compact renders equal values once ("3/2 x8"), else all of them.
func compact(v []string) string {
	if len(v) == 0 {
		return "-"
	}
	for _, x := range v[1:] {
		if x != v[0] {
			return strings.Join(v, " ")
		}
	}
	return fmt.Sprintf("%s x%d", v[0], len(v))
}

// printer writes progress lines and the status table: in place on a TTY
// (the previous table is erased with ANSI escapes), as lines otherwise.
type printer struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	drawn int // lines of the table on screen (TTY)
}

func newPrinter(w io.Writer, tty bool) *printer {
	if w == nil {
		w = io.Discard
	}
	return &printer{w: w, tty: tty}
}

// erase removes the drawn table (TTY).
func (p *printer) erase() {
	if p.tty && p.drawn > 0 {
		fmt.Fprintf(p.w, "\x1b[%dF\x1b[J", p.drawn)
		p.drawn = 0
	}
}

// progress prints a line above the table.
func (p *printer) progress(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.erase()
	fmt.Fprintf(p.w, "testnet: "+format+"\n", args...)
}

// table draws text in place of the previous table (TTY) or prints it.
func (p *printer) table(text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.erase()
	io.WriteString(p.w, text)
	if p.tty {
		p.drawn = strings.Count(text, "\n")
	}
}

// release leaves the drawn table on screen: what follows is printed below.
func (p *printer) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.drawn = 0
}

// Status polls the testnet in dir once and returns the snapshot. A node
// runs when its pid file names a live shardlab process on its data dir, or
// when one is found on its data dir (started by hand: its pid file is
// then written).
func Status(ctx context.Context, dir string) (*Snapshot, *Manifest, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, nil, err
	}
	dirs := scanDataDirs()
	targets := make([]target, len(m.Nodes))
	for i, n := range m.Nodes {
		pid, ok := livePid(n, dirs)
		targets[i] = target{spec: n, running: ok, pid: pid}
	}
	return poll(ctx, targets, time.Unix(m.GenesisTime, 0), m.SecondsPerSlot, m.SlotsPerEpoch, m.Shards), m, nil
}
