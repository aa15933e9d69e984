package testnet

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestNodeSpecs checks the layout that testnet up starts and sim/deploy
// renders: names, validator and shard splits, ports, the node command line
// on another listen address, and the genesis command.
func TestNodeSpecs(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.BeaconNodes, cfg.ShardNodes = 3, 2
	specs := cfg.NodeSpecs()
	var got []string
	for _, s := range specs {
		got = append(got, fmt.Sprintf("%s %s %d %s %v %d/%d/%d", s.Name, s.Role, s.Index, s.Validators, s.Shards, s.P2PPort, s.HTTPPort, s.MetricsPort))
	}
	want := []string{
		"beacon-0 beacon 0 0-20 [] 19000/19100/19200",
		"beacon-1 beacon 1 21-41 [] 19001/19101/19201",
		"beacon-2 beacon 2 42-63 [] 19002/19102/19202",
		"shard-0 shard 3 0-63 [0 1 2 3] 19003/19103/19203",
		"shard-1 shard 4 0-63 [4 5 6 7] 19004/19104/19204",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("NodeSpecs:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	cfg.BasePort = 0
	if s := cfg.NodeSpecs()[0]; s.P2PPort != 0 || s.HTTPPort != 0 {
		t.Fatalf("free ports: %+v", s)
	}

	s := specs[3]
	s.Host, s.Dir = "0.0.0.0", "/var/lib/shardlab"
	args := strings.Join(s.Args("/genesis", []string{"/dns4/beacon-0/tcp/9000/p2p/X"}, "info"), " ")
	for _, w := range []string{"shard --genesis /genesis --datadir /var/lib/shardlab/data --p2p-host 0.0.0.0 ",
		"--http-host 0.0.0.0", "--shards 0,1,2,3", "--validators 0-63", "--bootnodes /dns4/beacon-0/tcp/9000/p2p/X"} {
		if !strings.Contains(args, w) {
			t.Errorf("args %q lack %q", args, w)
		}
	}
	if args := strings.Join(specs[0].Args("/g", nil, "info"), " "); !strings.Contains(args, "--p2p-host 127.0.0.1") || strings.Contains(args, "--http-host") {
		t.Errorf("local args %q", args)
	}

	cfg.GenesisDelay = 1500 * time.Millisecond
	if g, w := strings.Join(cfg.GenesisArgs("/out"), " "), "genesis --preset minimal --validators 64 --slot-time 2 --genesis-delay 2 --out /out --shards 8"; g != w {
		t.Fatalf("GenesisArgs = %q, want %q", g, w)
	}
}

// TestAttach watches nodes that another engine runs (fakes over the real
// API handlers): they count as running, are polled and agree, and Stop
// leaves them alone.
func TestAttach(t *testing.T) {
	beacon, _, c := fakeNode(t)
	shard, _, _ := fakeNode(t, 0, 1)
	gen := t.TempDir()
	genesis := time.Now().Add(-time.Duration(12*c.Config.SecondsPerSlot) * time.Second)
	if err := os.WriteFile(filepath.Join(gen, "config.yaml"), c.Config.MarshalYAML(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(gen, "genesis.yaml"), fmt.Appendf(nil, "genesis_time: %d\n", genesis.Unix()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Dir, cfg.BeaconNodes, cfg.ShardNodes, cfg.Shards = t.TempDir(), 1, 1, c.Config.ShardCount
	specs := []NodeSpec{
		{Name: "beacon-0", Role: RoleBeacon, HTTPPort: portOf(t, beacon)},
		{Name: "shard-0", Role: RoleShard, HTTPPort: portOf(t, shard), Shards: []uint64{0, 1}},
	}
	tn, err := Attach(cfg, gen, specs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := tn.GenesisTime().Unix(); got != genesis.Unix() {
		t.Fatalf("genesis %d, want %d", got, genesis.Unix())
	}
	s := tn.Poll(context.Background())
	if s.Slot != 12 || len(s.Nodes) != 2 || s.Nodes[0].State != "up" || s.Nodes[0].Err != "" || s.Nodes[1].State != "up" {
		t.Fatalf("snapshot slot %d nodes %+v", s.Slot, s.Nodes)
	}
	if a := tn.CheckAgreement(context.Background()); !a.OK() {
		t.Fatalf("agreement %+v", a)
	}
	tn.Stop()
	if !tn.Process("beacon-0").Running() {
		t.Fatal("Stop changed an attached node")
	}

	for name, bad := range map[string]func() error{
		"no nodes":       func() error { _, err := Attach(cfg, gen, nil, nil); return err },
		"no genesis":     func() error { _, err := Attach(cfg, t.TempDir(), specs, nil); return err },
		"no http port":   func() error { _, err := Attach(cfg, gen, []NodeSpec{{Name: "x"}}, nil); return err },
		"invalid config": func() error { c := cfg; c.BeaconNodes = 0; _, err := Attach(c, gen, specs, nil); return err },
	} {
		if err := bad(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
