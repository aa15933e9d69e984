package testnet

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shardlab/shardlab/beacon/params"
)

// TestJoin starts a held-back node as a new one: its data dir is emptied
// first, it is launched with the running processes as bootnodes, and a
// running node or an unknown name is refused.
func TestJoin(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SHARDLAB_TESTNET_HELPER", "listen")
	cfg := DefaultConfig()
	cfg.Dir, cfg.Binary, cfg.BasePort, cfg.LateBeacon = dir, helperBinary(t), 0, []int{1}
	tn, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	tn.chain = params.Minimal() // the manifest's slot settings
	specs := cfg.NodeSpecs()
	for i := range specs[:2] {
		specs[i].Dir = filepath.Join(dir, specs[i].Name)
	}
	if !tn.late(specs[1]) || tn.late(specs[0]) {
		t.Fatalf("late(beacon-1) = %v, late(beacon-0) = %v", tn.late(specs[1]), tn.late(specs[0]))
	}
	first, err := tn.startNew(context.Background(), specs[0])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(first.Kill)
	held := &Process{Spec: specs[1]}
	tn.register(held)
	stale := filepath.Join(held.Spec.DataDir(), "stale")
	if err := os.MkdirAll(held.Spec.DataDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, []byte("old chain"), 0o644); err != nil {
		t.Fatal(err)
	}
	if held.Running() {
		t.Fatal("a held node runs before Join")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := tn.Join(ctx, "beacon-1"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(held.Kill)
	if !held.Running() {
		t.Fatal("Join did not start the node")
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Join left the old data dir: %v", err)
	}
	cmd, err := readCommand(held.Spec)
	if err != nil {
		t.Fatal(err)
	}
	if !containsArg(cmd.Args, first.Addr()) {
		t.Fatalf("Join's command %v lacks the running node's address %s as a bootnode", cmd.Args, first.Addr())
	}
	if err := tn.Join(ctx, "beacon-1"); !errors.Is(err, ErrNodeRunning) {
		t.Fatalf("Join of a running node: %v, want ErrNodeRunning", err)
	}
	if err := tn.Join(ctx, "beacon-9"); err == nil {
		t.Fatal("Join of an unknown node succeeded")
	}
}

// containsArg reports whether an argument of args contains s.
func containsArg(args []string, s string) bool {
	for _, a := range args {
		if s != "" && strings.Contains(a, s) {
			return true
		}
	}
	return false
}
