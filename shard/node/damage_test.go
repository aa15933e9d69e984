package node

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	bnode "github.com/shardlab/shardlab/beacon/node"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p/p2ptest"
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

// TestBeaconStoreBehindShardStore restarts a shard node whose beacon
// database lost its latest writes while its shard database kept them (the
// beacon head falls back, the shard store references beacon blocks the
// beacon store lacks). The node must say what was lost in both stores'
// terms, and end consistent: once it has synced the beacon chain again its
// shard chain is back on the network's head, not stuck on an older one.
func TestBeaconStoreBehindShardStore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		g, genesis := testGenesis(t, 6*time.Second)
		cfg := g.cfg
		net, _ := p2ptest.NewMockNet(t, 3, p2ptest.Options{})
		shards := []bt.Shard{0, 1}
		b0 := start(t, beaconNode(t, g, genesis, net.Nodes[0], bnode.ValidatorRange{Start: 0, Count: testValidators}, "b0"))
		s0n := shardNode(t, g, genesis, net.Nodes[1], shards, bnode.ValidatorRange{Start: 0, Count: 32}, "", "s0")
		s0 := start(t, s0n)
		s1n := shardNode(t, g, genesis, net.Nodes[2], shards, bnode.ValidatorRange{Start: 32, Count: 32}, dir, "s1")
		s1 := start(t, s1n)
		connectAll(t, net, 0, 1, 2)
		c1, _ := s1n.Chain(0)
		waitSlots(t, cfg, 4*int(cfg.SlotsPerEpoch), "shard head at slot 20", func() bool { return c1.Head().Header.Slot >= 20 })
		s1.stop(t)
		if err := net.Nodes[2].Close(); err != nil {
			t.Fatal(err)
		}
		_, beaconHead := s1n.bchain.Head()
		truncateWAL(t, filepath.Join(dir, "beacon"))

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
		_, restored := r.bchain.Head()
		if restored >= beaconHead {
			t.Fatalf("beacon head %d after the truncation, had %d: nothing was lost", restored, beaconHead)
		}
		for _, w := range []string{"store recovered to slot", "are gone, syncing from peers", "shard store is ahead of the beacon store"} {
			if !strings.Contains(logs.String(), w) {
				t.Fatalf("log lacks %q:\n%s", w, logs.String())
			}
		}
		start(t, r)
		connectAll(t, net, 0, 1, i)
		rc0, _ := r.Chain(0)
		c0, _ := s0n.Chain(0)
		waitSlots(t, cfg, 3*int(cfg.SlotsPerEpoch), "the restarted node back on the network's shard head", func() bool {
			_, b := r.bchain.Head()
			return rc0.Head().Root == c0.Head().Root && b > beaconHead
		})
		if n, _ := rc0.PendingBeaconRefs(); n != 0 {
			t.Fatalf("%d shard blocks still wait for their beacon blocks", n)
		}
		for _, x := range []*running{s0, b0} {
			x.stop(t)
		}
	})
}
