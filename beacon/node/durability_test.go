package node

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/store"
	"github.com/shardlab/shardlab/beacon/store/kv"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p/p2ptest"
)

// openNode builds a node on a fresh mock network node, logging into logs.
func openNode(t *testing.T, tr *core.Transition, genesis *types.BeaconState, vals ValidatorRange, dir string, logs *bytes.Buffer) (*Node, error) {
	t.Helper()
	net, err := p2ptest.NewMockNet(t, 1, p2ptest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := TestConfig()
	cfg.Transition, cfg.Genesis, cfg.Network, cfg.DataDir, cfg.Validators = tr, genesis, net.Nodes[0], dir, vals
	cfg.CrosslinkData = StaticCrosslinkData{Root: types.Root{0xaa}}
	cfg.Registerer = prometheus.NewRegistry()
	return New(cfg, slog.New(slog.NewTextHandler(logs, nil)))
}

// damageCase damages a copy of a data dir whose chain reached slot head.
type damageCase struct {
	name   string
	damage func(t *testing.T, db string)
	// With validators the node must refuse with wantErr and wantText.
	wantErr  error
	wantText []string
	// Without validators: the node refuses too (refuse) or reports the loss.
	refuse  bool
	wantLog string
}

// TestDamagedDataDir runs a one-node chain with a data dir for 12 slots,
// then damages copies of its database: a truncated WAL tail (writes Pebble
// had synced silently disappear), corrupt bytes in an sstable and in the
// MANIFEST. The node must never start silently on less than it had: lost
// writes are reported with the exact slots (and refused with validators,
// whose slashing protection may be gone too), damaged files are refused
// with what to do.
//
// It is not parallel and empties Pebble's pools around its bubbles, for the
// reason shard/node's TestLostWritesInShardNode gives.
func TestDamagedDataDir(t *testing.T) {
	emptyPools()
	defer emptyPools()
	base := t.TempDir()
	var head types.Slot
	var tr *core.Transition
	var genesis *types.BeaconState
	synctest.Test(t, func(t *testing.T) {
		tr, genesis, _ = testGenesis(t, 6*time.Second)
		var logs bytes.Buffer
		n, err := openNode(t, tr, genesis, ValidatorRange{Start: 0, Count: testValidators}, base, &logs)
		if err != nil {
			t.Fatal(err)
		}
		r := start(t, n)
		waitSlots(t, tr.Config(), 20, "slot 12", func() bool { _, s := n.Chain().Head(); return s >= 12 })
		r.stop(t)
		_, head = n.Chain().Head()
	})
	m, ok, err := store.ReadMarker(filepath.Join(base, MarkerFile))
	if err != nil || !ok || m.Slot != head || !m.Clean {
		t.Fatalf("clean-shutdown marker %+v (%v, %v), head at %d", m, ok, err, head)
	}

	cases := []damageCase{
		{name: "truncated WAL tail", damage: func(t *testing.T, db string) {
			wal := largest(t, db, ".log")
			fi, err := os.Stat(wal)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(wal, fi.Size()*3/4); err != nil {
				t.Fatal(err)
			}
		}, wantErr: ErrDataLost, wantText: []string{"store recovered to slot", "recorded by the last clean shutdown", "without --validators"},
			wantLog: "recorded by the last clean shutdown"},
		{name: "corrupt sstable", damage: func(t *testing.T, db string) {
			flush(t, db)
			// Keys sort blk/ < idx/ < meta/ < sp/ < st/: near the end of
			// the table are states that a start does not read.
			corrupt(t, largest(t, db, ".sst"), 0.9)
		}, wantErr: kv.ErrCorrupt, wantText: []string{"is damaged", "move"}, refuse: true},
		{name: "corrupt manifest", damage: func(t *testing.T, db string) {
			corrupt(t, largest(t, db, "MANIFEST-"), 0.5)
		}, wantErr: kv.ErrCorrupt, wantText: []string{"is damaged", "move"}, refuse: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			if out, err := exec.Command("cp", "-r", base, dir).CombinedOutput(); err != nil {
				t.Fatalf("copy data dir: %v: %s", err, out)
			}
			tc.damage(t, filepath.Join(dir, "beacon"))
			emptyPools()
			defer emptyPools()
			synctest.Test(t, func(t *testing.T) {
				var logs bytes.Buffer
				n, err := openNode(t, tr, genesis, ValidatorRange{Start: 0, Count: testValidators}, dir, &logs)
				if err == nil {
					n.Close()
					t.Fatalf("node with validators started on the damaged data dir:\n%s", logs.String())
				}
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("with validators: %v, want %v", err, tc.wantErr)
				}
				for _, w := range append(tc.wantText, filepath.Join(dir, "beacon")) {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				logs.Reset()
				n, err = openNode(t, tr, genesis, ValidatorRange{}, dir, &logs)
				if tc.refuse {
					if err == nil {
						n.Close()
						t.Fatal("node without validators started on the damaged data dir")
					}
					return
				}
				if err != nil {
					t.Fatalf("without validators: %v", err)
				}
				defer n.Close()
				root, slot := n.Chain().Head()
				if slot >= head {
					t.Fatalf("head at %d after losing writes, had %d: the damage did not lose anything", slot, head)
				}
				if !strings.Contains(logs.String(), "store recovered to slot "+itoa(slot)) ||
					!strings.Contains(logs.String(), "slots "+itoa(slot+1)+".."+itoa(head)) ||
					!strings.Contains(logs.String(), tc.wantLog) {
					t.Fatalf("no exact loss report (slots %d..%d):\n%s", slot+1, head, logs.String())
				}
				if stored, err := n.store.Head(); err != nil || stored != root {
					t.Fatalf("store head %s (%v), chain head %s", stored, err, root)
				}
				if m, _, _ := store.ReadMarker(filepath.Join(dir, MarkerFile)); m.Slot != slot {
					t.Fatalf("marker at %d after recovery, head at %d", m.Slot, slot)
				}
			})
		})
	}
}

// emptyPools drops every sync.Pool's contents (a pool survives one GC in its
// victim cache, not two).
func emptyPools() {
	runtime.GC()
	runtime.GC()
}

func itoa(s types.Slot) string { return strconv.FormatUint(uint64(s), 10) }

// largest returns the largest file in dir whose name contains part.
func largest(t *testing.T, dir, part string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var best string
	var size int64 = -1
	for _, e := range entries {
		if !strings.Contains(e.Name(), part) {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > size {
			best, size = filepath.Join(dir, e.Name()), fi.Size()
		}
	}
	if best == "" {
		t.Fatalf("no %s file in %s", part, dir)
	}
	return best
}

// flush moves the database's WAL into sstables.
func flush(t *testing.T, dir string) {
	t.Helper()
	db, err := pebble.Open(dir, &pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// corrupt overwrites 64 bytes of path at the fraction at of its length.
func corrupt(t *testing.T, path string, at float64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(bytes.Repeat([]byte{0x5a}, 64), int64(float64(fi.Size())*at)); err != nil {
		t.Fatal(err)
	}
}
