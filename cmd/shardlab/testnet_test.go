package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/shardlab/shardlab/sim/testnet"
)

// With SHARDLAB_RUN_MAIN=1 the test binary is shardlab itself: `testnet up`
// run by a test starts it (os.Executable) as its nodes.
func TestMain(m *testing.M) {
	if os.Getenv("SHARDLAB_RUN_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// TestTestnetCommand runs `testnet up` with one beacon node for one epoch
// (too short to finalize: exit code 1 with a summary saying so), then
// `status` and `down` on its directory, and checks the usage errors.
func TestTestnetCommand(t *testing.T) {
	t.Setenv("SHARDLAB_RUN_MAIN", "1")
	dir := filepath.Join(t.TempDir(), "tn")
	var out bytes.Buffer
	err := testApp(&out).Run([]string{"shardlab", "testnet", "up", "--dir", dir, "--nodes", "1", "--shard-nodes", "0", "--slot-time", "1s",
		"--epochs", "1", "--base-port", "0", "--genesis-delay", "2s", "--tx-rate", "0"})
	var ec cli.ExitCoder
	if err == nil || !asExitCoder(err, &ec) || ec.ExitCode() != 1 {
		t.Fatalf("testnet up: %v, want exit code 1 (no finality)\n%s", err, out.String())
	}
	for _, want := range []string{"started beacon-0", "the bootnode", "summary: 1 beacon nodes", "result: FAIL: no finality", "stopping 1 processes"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, testnet.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	var sum testnet.Summary
	if err := json.Unmarshal(b, &sum); err != nil || sum.BeaconNodes != 1 || sum.LastSlot < 8 {
		t.Fatalf("summary.json: %v %+v", err, sum)
	}
	if log := testnet.Tail(filepath.Join(dir, "beacon-0", "node.log"), 200); !strings.Contains(log, `msg="proposed block"`) {
		t.Fatalf("the node proposed nothing:\n%s", log)
	}

	out.Reset()
	if err := testApp(&out).Run([]string{"shardlab", "testnet", "status", "--dir", dir}); err != nil || !strings.Contains(out.String(), "beacon-0   beacon") || !strings.Contains(out.String(), "down") {
		t.Fatalf("testnet status: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := testApp(&out).Run([]string{"shardlab", "testnet", "down", "--dir", dir}); err != nil || !strings.Contains(out.String(), "no process left") {
		t.Fatalf("testnet down: %v\n%s", err, out.String())
	}

	usage := [][]string{{"--slot-time", "1500ms"}, {"--nodes", "0"}, {"--cross-shard", "2"}}
	if self, _ := os.Executable(); !testnet.HasShardCommand(self) {
		usage = append(usage, []string{"--shard-nodes", "2"}) // asked for, not available
	}
	for _, args := range usage {
		out.Reset()
		err := testApp(&out).Run(append([]string{"shardlab", "testnet", "up", "--dir", filepath.Join(t.TempDir(), "x")}, args...))
		if !asExitCoder(err, &ec) || ec.ExitCode() != 2 {
			t.Errorf("testnet up %v: %v, want a usage error\n%s", args, err, out.String())
		}
	}
}

func asExitCoder(err error, ec *cli.ExitCoder) bool { return errors.As(err, ec) }
