package main

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/urfave/cli/v2"
)

func TestPprofFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		want    string
		wantErr bool
	}{
		{name: "off by default", want: ""},
		{name: "loopback by default", args: []string{"--pprof-port", "6060"}, want: "127.0.0.1:6060"},
		{name: "host", args: []string{"--pprof-port", "6060", "--pprof-host", "0.0.0.0"}, want: "0.0.0.0:6060"},
		{name: "ipv6", args: []string{"--pprof-port", "6060", "--pprof-host", "::1"}, want: "[::1]:6060"},
		{name: "host without port stays off", args: []string{"--pprof-host", "0.0.0.0"}, want: ""},
		{name: "port out of range", args: []string{"--pprof-port", "70000"}, wantErr: true},
		{name: "negative port", args: []string{"--pprof-port", "-1"}, wantErr: true},
		{name: "host name", args: []string{"--pprof-port", "6060", "--pprof-host", "example.com"}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got string
			var flagErr error
			app := &cli.App{Flags: pprofFlags(), Action: func(c *cli.Context) error {
				got, flagErr = pprofAddrFlag(c)
				return nil
			}}
			if err := app.Run(append([]string{"shardlab"}, tc.args...)); err != nil {
				t.Fatal(err)
			}
			if (flagErr != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("got %q, %v; want %q, error %v", got, flagErr, tc.want, tc.wantErr)
			}
		})
	}
}

// TestPprofFlagsReachNodes: the beacon and shard commands put --pprof-port
// into their node configs (the shard node's embedded beacon node serves it).
func TestPprofFlagsReachNodes(t *testing.T) {
	dir := t.TempDir()
	gen := filepath.Join(dir, "genesis")
	var out bytes.Buffer
	if err := testApp(&out).Run([]string{"shardlab", "genesis", "--validators", "64", "--shards", "8",
		"--genesis-delay", "0", "--fast-genesis", "--out", gen}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	common := []string{"--genesis", gen, "--p2p-port", "0", "--pprof-port", "6061"}
	var beaconAddr, shardAddr string
	app := &cli.App{Commands: []*cli.Command{
		{Name: "beacon", Flags: beaconCommand().Flags, Action: func(c *cli.Context) error {
			cfg, err := beaconNodeConfig(c)
			beaconAddr = cfg.PprofAddr
			return err
		}},
		{Name: "shard", Flags: shardNodeFlags(false), Action: func(c *cli.Context) error {
			cfg, err := shardNodeConfig(c, false)
			shardAddr = cfg.Beacon.PprofAddr
			return err
		}},
	}}
	if err := app.Run(append([]string{"x", "beacon", "--datadir", filepath.Join(dir, "b")}, common...)); err != nil {
		t.Fatal(err)
	}
	if err := app.Run(append([]string{"x", "shard", "--shards", "0", "--datadir", filepath.Join(dir, "s")}, common...)); err != nil {
		t.Fatal(err)
	}
	if beaconAddr != "127.0.0.1:6061" || shardAddr != "127.0.0.1:6061" {
		t.Fatalf("beacon %q, shard %q; want 127.0.0.1:6061", beaconAddr, shardAddr)
	}
}
