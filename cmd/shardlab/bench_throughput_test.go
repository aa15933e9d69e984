package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestBenchThroughputUsage checks that bad flags are refused before any
// network starts.
func TestBenchThroughputUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no shards", []string{"--shards", "8,0"}, "--shards 0: at least 1"},
		{"bad shard list", []string{"--shards", "8,x"}, `--shards "8,x"`},
		{"bad cross-shard", []string{"--cross-shard", "2"}, "cross-shard fraction 2: 0 to 1"},
		{"bad slot time", []string{"--slot-time", "1.5s"}, "slot time 1.5s"},
		{"zipf at 1", []string{"--zipf", "1"}, "zipf exponent 1"},
		{"no rate", []string{"--rate", "0"}, "rate 0 without find-max"},
		{"unknown engine", []string{"--engine", "docker"}, `--engine "docker": testnet or sim`},
		{"find-max on the simulator", []string{"--engine", "sim", "--find-max"}, "engine sim: a fixed --rate"},
		{"cap fraction with find-max", []string{"--cap-fraction", "0.5", "--find-max"}, "exclude each other"},
		{"bad compare file", []string{"--compare", "/nonexistent/results.json"}, "--compare: read results"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errw bytes.Buffer
			app := newApp()
			app.Writer, app.ErrWriter = &out, &errw
			app.ExitErrHandler = func(*cli.Context, error) {}
			err := app.Run(append([]string{"shardlab", "bench", "throughput"}, tc.args...))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestBenchSweepBelowSlotsPerEpoch: --shards 1,2,4,8,16 makes one point
// each; those below the minimal preset's SLOTS_PER_EPOCH (8) get their
// own chain config, and the 1-shard point loads 1 shard of a 2-shard
// chain.
func TestBenchSweepBelowSlotsPerEpoch(t *testing.T) {
	out := t.TempDir()
	type point struct {
		chain, load  uint64
		config       bool
		nodes        int
		profileInDir bool
	}
	var got []point
	app := &cli.App{Flags: benchThroughputCommand().Flags, Action: func(c *cli.Context) error {
		points, err := benchPoints(c)
		for _, p := range points {
			got = append(got, point{p.Testnet.Shards, p.LoadShards, p.Testnet.ChainConfig != "", p.Testnet.ShardNodes,
				strings.HasPrefix(p.CPUProfile, out+"/prof/")})
		}
		return err
	}}
	if err := app.Run([]string{"x", "--shards", "1,2,4,8,16", "--out", out, "--cpuprofile", out + "/prof"}); err != nil {
		t.Fatal(err)
	}
	want := []point{{2, 1, true, 1, true}, {2, 0, true, 2, true}, {4, 0, true, 4, true}, {8, 0, false, 4, true}, {16, 0, false, 4, true}}
	if len(got) != len(want) {
		t.Fatalf("got %d points %+v, want %+v", len(got), got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("point %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}
