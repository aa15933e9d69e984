package testnet_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shardlab/shardlab/sim/testnet"
)

// TestE2ELifecycle runs `testnet up`'s Run on 2 beacon nodes and a shard
// node (1 s slots, 5 epochs, about a minute) and meanwhile kills the shard
// node with KillNode and starts it again with StartNode, and stops
// beacon-1 by hand (SIGTERM) and starts it again by hand from its recorded
// command line: Poll and Status follow the new pids, the shard rows keep
// updating, and the run passes with both restarts in its summary.
func TestE2ELifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: 3 processes for about a minute; skipped with -short")
	}
	bin := shardlabBinary(t)
	if !testnet.HasShardCommand(bin) {
		t.Skip("the binary has no shard command")
	}
	dir := t.TempDir()
	cfg := testnet.DefaultConfig()
	cfg.Dir, cfg.Binary, cfg.BasePort = dir, bin, 0
	cfg.BeaconNodes, cfg.ShardNodes, cfg.Shards = 2, 1, 8
	cfg.SlotTime, cfg.Epochs, cfg.TxRate = time.Second, 5, 0
	cfg.Out = testWriter{t}
	tn, err := testnet.New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	t.Cleanup(func() {
		tn.Stop()
		if t.Failed() {
			for _, p := range tn.Processes() {
				t.Logf("--- %s, last lines of its log:\n%s", p.Spec.Name, testnet.Tail(p.Spec.LogFile(), 30))
			}
		}
	})
	if err := tn.Start(ctx); err != nil {
		t.Fatal(err)
	}
	type result struct {
		sum *testnet.Summary
		err error
	}
	done := make(chan result, 1)
	go func() {
		sum, err := tn.Run(ctx)
		done <- result{sum, err}
	}()
	slot := func(n int) { // wait for slot n
		if d := time.Until(tn.GenesisTime().Add(time.Duration(n) * cfg.SlotTime)); d > 0 {
			time.Sleep(d)
		}
	}
	nodeIn := func(s *testnet.Snapshot, name string) testnet.NodeStatus {
		for _, n := range s.Nodes {
			if n.Name == name {
				return n
			}
		}
		t.Fatalf("no %s in the snapshot", name)
		return testnet.NodeStatus{}
	}

	// The shard node: KillNode, StartNode.
	slot(6)
	old := tn.Process("shard-0").Pid()
	if ch, err := testnet.KillNode(ctx, dir, "shard-0", testnet.NodeOptions{}); err != nil || ch.Stopped != old {
		t.Fatalf("KillNode = %+v, %v (pid %d)", ch, err, old)
	}
	ch, err := testnet.StartNode(ctx, dir, "shard-0", testnet.NodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("shard-0: pid %d killed, started again as pid %d", old, ch.Pid)
	if n := nodeIn(tn.Poll(ctx), "shard-0"); n.State != "up" || n.Pid != ch.Pid {
		t.Fatalf("Poll after StartNode: %+v, want up as pid %d", n, ch.Pid)
	}
	head := tn.Poll(ctx).Shards[0].HeadSlot

	// beacon-1 by hand: SIGTERM, then its recorded command line.
	slot(14)
	b1 := tn.Process("beacon-1")
	if err := syscall.Kill(b1.Pid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for b1.Running() {
		time.Sleep(50 * time.Millisecond)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "beacon-1", "command.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Binary string   `json:"binary"`
		Args   []string `json:"args"`
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatal(err)
	}
	logf, err := os.OpenFile(b1.Spec.LogFile(), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	hand := exec.Command(rec.Binary, rec.Args...)
	hand.Stdout, hand.Stderr = logf, logf
	hand.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := hand.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = hand.Wait() }()
	t.Logf("beacon-1 stopped by hand, started again by hand as pid %d", hand.Process.Pid)

	slot(24)
	snap, _, err := testnet.Status(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	for name, pid := range map[string]int{"shard-0": ch.Pid, "beacon-1": hand.Process.Pid} {
		if n := nodeIn(snap, name); n.State != "up" || n.Pid != pid {
			t.Errorf("Status: %s %+v, want up as pid %d", name, n, pid)
		}
		if n := nodeIn(tn.Poll(ctx), name); n.State != "up" || n.Pid != pid || n.Err != "" {
			t.Errorf("Poll: %s %+v, want up as pid %d", name, n, pid)
		}
	}
	if now := tn.Poll(ctx).Shards[0]; !now.HasHead || now.HeadSlot <= head {
		t.Errorf("shard 0's row froze: head %d, was %d after the restart", now.HeadSlot, head)
	}

	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	var out strings.Builder
	r.sum.Write(&out)
	t.Log(out.String())
	if !r.sum.OK() || len(r.sum.Exited) != 0 {
		t.Fatalf("the run failed: %v (exited %v)", r.sum.Failures, r.sum.Exited)
	}
	if len(r.sum.Restarts) < 2 {
		t.Fatalf("restarts %q: want shard-0's and beacon-1's", r.sum.Restarts)
	}
}
