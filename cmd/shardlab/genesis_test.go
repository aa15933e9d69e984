package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shardlab/shardlab/beacon/node"
	"github.com/shardlab/shardlab/beacon/params"
	shardcore "github.com/shardlab/shardlab/shard/core"
)

func TestGenesisCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "net")
	args := []string{"shardlab", "genesis", "--preset", "minimal", "--validators", "64", "--shards", "16",
		"--slot-time", "2", "--genesis-time", "1700000123", "--fast-genesis", "--out", dir}
	var out bytes.Buffer
	if err := testApp(&out).Run(args); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	g, err := loadGenesis(dir)
	if err != nil {
		t.Fatal(err)
	}
	if g.cfg.ShardCount != 16 || g.cfg.Shard.ForkEpoch != 0 || g.cfg.SecondsPerSlot != 2 {
		t.Fatalf("config: shards %d, fork epoch %d, slot time %d", g.cfg.ShardCount, g.cfg.Shard.ForkEpoch, g.cfg.SecondsPerSlot)
	}
	if g.state.GenesisTime != 1700000123 || len(g.state.Validators) != 64 {
		t.Fatalf("state: genesis time %d, %d validators", g.state.GenesisTime, len(g.state.Validators))
	}
	if g.state.Fork.CurrentVersion != g.cfg.Shard.ForkVersion {
		t.Fatal("the genesis state is not in the shard fork")
	}
	// Existing files are not overwritten.
	if err := testApp(&out).Run(args); err == nil {
		t.Fatal("second genesis into the same directory succeeded")
	}
	// A tampered summary is refused.
	info := filepath.Join(dir, genesisInfoFile)
	raw, _ := os.ReadFile(info)
	bad := strings.Replace(string(raw), "genesis_time: 1700000123", "genesis_time: 1700000124", 1)
	if err := os.WriteFile(info, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := loadGenesis(dir); err == nil || !strings.Contains(err.Error(), "genesis_time") {
		t.Fatalf("tampered genesis.yaml: %v", err)
	}
}

func TestGenesisFlagErrors(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"--genesis-time", "1700000000", "--genesis-delay", "5"},
		{"--shards", "4"},
		{"--validators", "8"},
		{"--preset", "nope"},
		{"--genesis-time", "5"},
	} {
		var out bytes.Buffer
		all := append([]string{"shardlab", "genesis", "--out", dir}, args...)
		if err := testApp(&out).Run(all); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

// TestEmptyCrosslinkDataRoot checks that the beacon node's fallback data
// root (computed without importing shard/) is shard/core's root of an empty
// header list.
func TestEmptyCrosslinkDataRoot(t *testing.T) {
	custom := params.Minimal()
	custom.SlotsPerEpoch, custom.MaxEpochsPerCrosslink = 4, 3
	for _, cfg := range []*params.Config{params.Minimal(), params.Mainnet(), custom} {
		want, err := shardcore.CrosslinkDataRoot(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := node.EmptyCrosslinkDataRoot(cfg); got != want {
			t.Errorf("%s (%d slots x %d epochs): %s, shard/core says %s", cfg.Name,
				cfg.SlotsPerEpoch, cfg.MaxEpochsPerCrosslink, got, want)
		}
	}
}

// TestGenesisKeepExisting runs the genesis twice into one directory, as a
// restarted genesis job does: with --keep-existing the second run keeps
// the first genesis (same genesis time); a different chain is refused.
func TestGenesisKeepExisting(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "g")
	args := func(extra ...string) []string {
		return append([]string{"shardlab", "genesis", "--validators", "64", "--shards", "8", "--slot-time", "2",
			"--fast-genesis", "--keep-existing", "--out", dir}, extra...)
	}
	var out bytes.Buffer
	if err := testApp(&out).Run(args("--genesis-time", "1700000000")); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if err := testApp(&out).Run(args("--genesis-time", "1800000000")); err != nil {
		t.Fatalf("second run: %v\n%s", err, out.String())
	}
	g, err := loadGenesis(dir)
	if err != nil {
		t.Fatal(err)
	}
	if g.state.GenesisTime != 1700000000 {
		t.Fatalf("genesis time %d: the existing genesis was replaced", g.state.GenesisTime)
	}
	err = testApp(&out).Run([]string{"shardlab", "genesis", "--validators", "72", "--shards", "8", "--slot-time", "2",
		"--fast-genesis", "--keep-existing", "--out", dir})
	if err == nil || !strings.Contains(err.Error(), "another chain") {
		t.Fatalf("another chain: %v", err)
	}
}
