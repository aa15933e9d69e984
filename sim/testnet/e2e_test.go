package testnet_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shardlab/shardlab/sim/testnet"
)

// End-to-end tests: real shardlab processes on 127.0.0.1, checked through
// their HTTP API only.
//
//	TestE2EShort      2 beacon + 2 shard nodes, 1 s slots, about 50 s; part
//	                  of go test ./... (skipped with -short)
//	TestE2ELifecycle  2 beacon + 1 shard node, 1 s slots, about 50 s: nodes
//	                  restarted through StopNode/StartNode and by hand
//	                  while Run drives the testnet (e2e_lifecycle_test.go);
//	                  part of go test ./... (skipped with -short)
//	TestE2EFull       4 beacon + 4 shard nodes, 2 s slots, about 3 minutes,
//	                  plus the gossip latency; runs with SHARDLAB_E2E=full
//	                  (make e2e)
//
// The binary is $SHARDLAB_BIN, or built from ./cmd/shardlab into a
// temporary directory. Without the shard command in it, the shard checks
// are skipped (and say so). On failure the testnet directory is kept and
// the tail of every node's log is printed.

// e2eParams shape a run.
type e2eParams struct {
	beacon, shard int
	slot          time.Duration
	// epochs, when > 0, keeps the network running to this epoch at the end
	// (checking finality keeps advancing).
	epochs uint64
	// latency measures the gossip latency and checks p50 < 100 ms.
	latency bool
}

var (
	buildOnce sync.Once
	buildBin  string
	buildErr  error
)

// shardlabBinary returns $SHARDLAB_BIN or a freshly built binary.
func shardlabBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("SHARDLAB_BIN"); bin != "" {
		abs, err := filepath.Abs(bin)
		if err != nil {
			t.Fatal(err)
		}
		return abs
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "shardlab-e2e-bin-")
		if err != nil {
			buildErr = err
			return
		}
		buildBin = filepath.Join(dir, "shardlab")
		out, err := exec.Command("go", "build", "-o", buildBin, "github.com/shardlab/shardlab/cmd/shardlab").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildBin
}

func TestE2EShort(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: 4 processes for about 2 minutes; skipped with -short")
	}
	runE2E(t, e2eParams{beacon: 2, shard: 2, slot: time.Second})
}

func TestE2EFull(t *testing.T) {
	if os.Getenv("SHARDLAB_E2E") != "full" {
		t.Skip("the full end-to-end test (8 processes, about 3 minutes) runs with SHARDLAB_E2E=full (make e2e)")
	}
	runE2E(t, e2eParams{beacon: 4, shard: 4, slot: 2 * time.Second, epochs: 11, latency: true})
}

// e2e is one run's testnet and helpers.
type e2e struct {
	t   *testing.T
	tn  *testnet.Testnet
	ctx context.Context
	// shards is set when the binary has the shard command.
	shards bool
}

func runE2E(t *testing.T, p e2eParams) {
	bin := shardlabBinary(t)
	e := &e2e{t: t, shards: testnet.HasShardCommand(bin)}
	if !e.shards {
		t.Logf("SKIP shard checks: %s has no `shard` command yet; running %d beacon nodes only", bin, p.beacon)
		p.shard = 0
	}
	dir, err := os.MkdirTemp("", "shardlab-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	cfg := testnet.DefaultConfig()
	cfg.Dir, cfg.Binary = dir, bin
	cfg.BeaconNodes, cfg.ShardNodes = p.beacon, p.shard
	cfg.SlotTime, cfg.Epochs = p.slot, 0
	cfg.TxRate, cfg.CrossShard, cfg.Seed = 20, 0.5, 1
	cfg.BasePort = 0
	cfg.Out = testWriter{t}
	e.tn, err = testnet.New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	e.ctx = ctx
	t.Cleanup(func() {
		cancel()
		e.tn.Stop()
		if t.Failed() {
			for _, proc := range e.tn.Processes() {
				t.Logf("--- %s (%s), last lines of %s:\n%s", proc.Spec.Name, proc.Spec.Role, proc.Spec.LogFile(), testnet.Tail(proc.Spec.LogFile(), 40))
			}
			t.Logf("testnet directory kept: %s", dir)
			return
		}
		os.RemoveAll(dir)
	})
	if err := e.tn.Start(ctx); err != nil {
		t.Fatal(err)
	}
	loadCtx, stopLoad := context.WithCancel(ctx)
	load, waitLoad := e.tn.StartLoad(loadCtx)
	defer func() {
		stopLoad()
		waitLoad()
		if load != nil {
			t.Logf("workload: %+v (last error %q)", load.Stats(), load.LastError())
		}
	}()
	spe := e.tn.ChainConfig().SlotsPerEpoch

	// Finality, and agreement on it.
	e.waitFor("finalized epoch >= 2 on every node", 12*spe, func(s *testnet.Snapshot) (bool, string) {
		return allNodes(s, func(n testnet.NodeStatus) bool { return n.Finality.Finalized.Epoch >= 2 })
	})
	e.agree()

	// Crosslinks with data on every shard, and every shard has claimed
	// receipts of other shards (read from its own chain: its inbox).
	if e.shards {
		e.waitFor("a crosslink with data and claimed incoming receipts on every shard", 10*spe, func(s *testnet.Snapshot) (bool, string) {
			noData, noClaims := []string{}, []string{}
			for _, sh := range s.Shards {
				if sh.Crosslink == nil || !e.tn.CrosslinkHasData(sh.Crosslink) {
					noData = append(noData, fmt.Sprint(sh.Shard))
				}
				if !sh.HasReceipts || sh.Receipts.Received == 0 {
					noClaims = append(noClaims, fmt.Sprint(sh.Shard))
				}
			}
			rc, _ := s.ReceiptTotals()
			return len(noData) == 0 && len(noClaims) == 0, fmt.Sprintf("shards without data: %v; shards without claimed receipts: %v; %d of %d receipts claimed",
				noData, noClaims, rc.Claimed, rc.Sent)
		})
	}

	// kill -9 a beacon node, restart it from its data dir: it rejoins.
	victim := "beacon-1"
	if err := e.tn.Kill(victim); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed %s (SIGKILL)", victim)
	time.Sleep(2 * p.slot)
	if err := e.tn.Restart(ctx, victim); err != nil {
		t.Fatal(err)
	}
	e.waitCaughtUp(victim, 4*spe)
	e.agree()

	// A late node with an empty data dir syncs from genesis.
	if _, err := e.tn.AddBeaconNode(ctx, "beacon-late", ""); err != nil {
		t.Fatal(err)
	}
	e.waitCaughtUp("beacon-late", 4*spe)
	e.waitFor("the late node finalized with the others", 3*spe, func(s *testnet.Snapshot) (bool, string) {
		return allNodes(s, func(n testnet.NodeStatus) bool { return n.Finality.Finalized.Epoch >= 2 })
	})
	e.agree()

	if p.epochs > 0 {
		fin := e.finalizedMin()
		e.waitFor(fmt.Sprintf("epoch %d", p.epochs), (p.epochs+2)*spe, func(s *testnet.Snapshot) (bool, string) {
			return s.Epoch >= p.epochs, fmt.Sprintf("epoch %d", s.Epoch)
		})
		e.waitFor("finality advanced on every node", 3*spe, func(s *testnet.Snapshot) (bool, string) {
			return allNodes(s, func(n testnet.NodeStatus) bool { return n.Finality.Finalized.Epoch >= fin+2 })
		})
		e.agree()
	}

	if p.latency {
		l := testnet.GossipLatency(e.tn.Arrivals(ctx))
		t.Logf("gossip latency of beacon blocks: %d blocks, %d arrivals at %d of %d processes: p50 %v, p90 %v, p99 %v, max %v",
			l.Blocks, l.Samples, l.Processes, len(e.tn.Processes()), l.P50, l.P90, l.P99, l.Max)
		if l.Processes < len(e.tn.Processes()) {
			t.Logf("the other processes do not serve %s", "/shardlab/v1/debug/block_arrivals")
		}
		if l.Samples == 0 || l.P50 >= 100*time.Millisecond {
			t.Errorf("gossip latency p50 %v over %d samples: want < 100ms", l.P50, l.Samples)
		}
	}
	for _, proc := range e.tn.Processes() {
		if crashed, err := proc.Crashed(); crashed {
			t.Errorf("%s exited on its own: %v", proc.Spec.Name, err)
		}
	}
}

// waitFor polls every slot until cond holds, failing after slots slots.
func (e *e2e) waitFor(what string, slots uint64, cond func(*testnet.Snapshot) (bool, string)) {
	e.t.Helper()
	slot := e.tn.Config().SlotTime
	deadline := time.Now().Add(time.Duration(slots) * slot)
	start := time.Now()
	last := ""
	for {
		s := e.tn.Poll(e.ctx)
		ok, why := cond(s)
		if ok {
			e.t.Logf("%s: reached at slot %d after %.0fs", what, s.Slot, time.Since(start).Seconds())
			return
		}
		last = why
		if time.Now().After(deadline) {
			e.t.Fatalf("%s: not reached within %d slots: %s\n%s", what, slots, last, s.Table())
		}
		select {
		case <-e.ctx.Done():
			e.t.Fatalf("%s: %v", what, e.ctx.Err())
		case <-time.After(slot / 2):
		}
	}
}

// waitCaughtUp waits until name follows the chain again: its head is
// within a slot of the highest head and past the wall-clock slot at the
// call (a block it got after it started), it has peers and is not syncing.
func (e *e2e) waitCaughtUp(name string, slots uint64) {
	e.t.Helper()
	from := e.tn.Poll(e.ctx).Slot
	e.waitFor(name+" caught up", slots, func(s *testnet.Snapshot) (bool, string) {
		var me *testnet.NodeStatus
		best := uint64(0)
		for i, n := range s.Nodes {
			if n.State == "up" && n.Err == "" {
				best = max(best, n.Sync.HeadSlot)
			}
			if n.Name == name {
				me = &s.Nodes[i]
			}
		}
		if me == nil || me.State != "up" || me.Err != "" {
			return false, fmt.Sprintf("%s not answering", name)
		}
		return me.Sync.HeadSlot+1 >= best && me.Sync.HeadSlot > from && me.Peers > 0 && !me.Sync.IsSyncing,
			fmt.Sprintf("head %d (best %d), %d peers, syncing %v", me.Sync.HeadSlot, best, me.Peers, me.Sync.IsSyncing)
	})
}

// agree checks that the nodes' finalized checkpoints are on one chain.
func (e *e2e) agree() {
	e.t.Helper()
	a := e.tn.CheckAgreement(e.ctx)
	if !a.OK() {
		e.t.Fatalf("finalized checkpoints disagree: %s", strings.Join(a.Disagree, "; "))
	}
	e.t.Logf("%d nodes agree on the finalized block %s of epoch %d", len(a.Agree), a.Root, a.Epoch)
}

// finalizedMin is the lowest finalized epoch among the nodes.
func (e *e2e) finalizedMin() uint64 {
	low := ^uint64(0)
	for _, n := range e.tn.Poll(e.ctx).Nodes {
		if n.State == "up" && n.Err == "" {
			low = min(low, n.Finality.Finalized.Epoch)
		}
	}
	return low
}

// allNodes reports whether every process is up, answers and satisfies ok.
func allNodes(s *testnet.Snapshot, ok func(testnet.NodeStatus) bool) (bool, string) {
	var bad []string
	for _, n := range s.Nodes {
		switch {
		case n.State != "up":
			bad = append(bad, n.Name+" "+n.State)
		case n.Err != "":
			bad = append(bad, n.Name+": "+n.Err)
		case !ok(n):
			bad = append(bad, fmt.Sprintf("%s head %d justified %d finalized %d", n.Name, n.Sync.HeadSlot, n.Finality.Justified.Epoch, n.Finality.Finalized.Epoch))
		}
	}
	return len(bad) == 0, strings.Join(bad, "; ")
}

// testWriter sends the testnet's progress lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
