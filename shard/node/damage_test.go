package node

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/prometheus/client_golang/prometheus"

	bnode "github.com/shardlab/shardlab/beacon/node"
)

// lockedBuffer is a log sink safe for the node's goroutines and the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// truncateWAL cuts the last quarter off the largest WAL file of a Pebble
// database: writes Pebble had synced disappear without an error.
func truncateWAL(t *testing.T, dir string) {
	t.Helper()
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	var wal string
	var size int64
	for _, l := range logs {
		if fi, err := os.Stat(l); err == nil && fi.Size() > size {
			wal, size = l, fi.Size()
		}
	}
	if wal == "" {
		t.Fatalf("no WAL in %s", dir)
	}
	if err := os.Truncate(wal, size*3/4); err != nil {
		t.Fatal(err)
	}
}

// TestLostWritesInShardNode restarts a shard node one of whose databases
// lost its latest writes (a truncated WAL tail). With the beacon database
// behind, the beacon head falls back and the shard store references beacon
// blocks the beacon store lacks; with the shard database behind, the shard
// head falls back. The node must say what was lost in each store's terms,
// and end consistent: back on the network's beacon and shard heads.
//
// It is not parallel, and runs its bubbles one after the other with Pebble's
// pools emptied around them: Pebble keeps table writers (with channels) in
// sync.Pools, and restarting on a data dir makes it flush, so a writer made
// in one synctest bubble could be reused in another, which the runtime
// refuses ("send on synctest channel from outside bubble").
func TestLostWritesInShardNode(t *testing.T) {
	cases := []struct {
		name     string
		db       string   // the database in the data dir that loses writes
		wantLogs []string // in the restart's log
	}{
		{name: "beacon store behind the shard store", db: "beacon",
			wantLogs: []string{"store recovered to slot", "are gone, syncing from peers", "shard store is ahead of the beacon store"}},
		{name: "shard store lost writes", db: "shard",
			wantLogs: []string{"shard 0 store recovered to slot", "shard-0.head) are gone, syncing from peers"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			emptyPools()
			defer emptyPools()
			lostWrites(t, tc.db, tc.wantLogs)
		})
	}
}

// emptyPools drops every sync.Pool's contents (a pool survives one GC in its
// victim cache, not two).
func emptyPools() {
	runtime.GC()
	runtime.GC()
}

func lostWrites(t *testing.T, db string, wantLogs []string) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		rn := newRestartNet(t, dir)
		g, genesis, cfg, net, shards, s1n := rn.g, rn.genesis, rn.g.cfg, rn.net, rn.shards, rn.s1n
		c1, _ := s1n.Chain(0)
		waitSlots(t, cfg, 4*int(cfg.SlotsPerEpoch), "shard head at slot 20", func() bool { return c1.Head().Header.Slot >= 20 })
		rn.s1.stop(t)
		if err := net.Nodes[2].Close(); err != nil {
			t.Fatal(err)
		}
		_, beaconHead := s1n.bchain.Head()
		shardHead := c1.Head().Header.Slot
		truncateWAL(t, filepath.Join(dir, db))

		i, err := net.AddNode()
		if err != nil {
			t.Fatal(err)
		}
		var logs lockedBuffer
		rc := TestConfig()
		rc.Transition, rc.Genesis, rc.Network, rc.Shards, rc.Validators, rc.DataDir = g.tr, genesis, net.Nodes[i], shards, bnode.ValidatorRange{Start: 32, Count: 32}, dir
		rc.Registerer = prometheus.NewRegistry()
		r, err := New(rc, slog.New(slog.NewTextHandler(&logs, nil)))
		if err != nil {
			t.Fatalf("restart: %v", err)
		}
		rc0, _ := r.Chain(0)
		_, restored := r.bchain.Head()
		if restored >= beaconHead && rc0.Head().Header.Slot >= shardHead {
			t.Fatalf("beacon head %d, shard head %d after the truncation, had %d and %d: nothing was lost",
				restored, rc0.Head().Header.Slot, beaconHead, shardHead)
		}
		for _, w := range wantLogs {
			if !strings.Contains(logs.String(), w) {
				t.Fatalf("log lacks %q:\n%s", w, logs.String())
			}
		}
		start(t, r)
		connectAll(t, net, 0, 1, i)
		c0, _ := rn.s0n.Chain(0)
		waitSlots(t, cfg, 3*int(cfg.SlotsPerEpoch), "the restarted node back on the network's heads", func() bool {
			_, b := r.bchain.Head()
			return rc0.Head().Root == c0.Head().Root && b > beaconHead
		})
		if n, _ := rc0.PendingBeaconRefs(); n != 0 {
			t.Fatalf("%d shard blocks still wait for their beacon blocks", n)
		}
		for _, x := range []*running{rn.s0, rn.b0} {
			x.stop(t)
		}
	})
}
