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
	testNodeCommands(t, dir)

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

// testNodeCommands starts the stopped node of the testnet in dir again
// with `testnet start`, checks that status shows its pid, stops it with
// `testnet stop`, and checks the commands' errors.
func testNodeCommands(t *testing.T, dir string) {
	t.Helper()
	var out bytes.Buffer
	run := func(args ...string) error {
		out.Reset()
		return testApp(&out).Run(append([]string{"shardlab", "testnet"}, args...))
	}
	if err := run("start", "--dir", dir, "beacon-0"); err != nil || !strings.Contains(out.String(), "beacon-0 started (pid ") {
		t.Fatalf("testnet start: %v\n%s", err, out.String())
	}
	pid, err := os.ReadFile(filepath.Join(dir, "beacon-0", "pid"))
	if err != nil {
		t.Fatal(err)
	}
	if err := run("status", "--dir", dir); err != nil || !strings.Contains(out.String(), " "+strings.TrimSpace(string(pid))+" ") {
		t.Fatalf("testnet status lacks the pid %s: %v\n%s", pid, err, out.String())
	}
	if err := run("stop", "--dir", dir, "beacon-0"); err != nil || !strings.Contains(out.String(), "beacon-0 stopped (pid "+strings.TrimSpace(string(pid))+")") {
		t.Fatalf("testnet stop: %v\n%s", err, out.String())
	}
	var ec cli.ExitCoder
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"stopped", []string{"stop", "--dir", dir, "beacon-0"}, 1, "stop node beacon-0: node not running"},
		{"unknown", []string{"kill", "--dir", dir, "beacon-7"}, 1, `unknown node "beacon-7": the testnet in ` + dir + " has beacon-0"},
		{"no testnet", []string{"restart", "--dir", t.TempDir(), "beacon-0"}, 1, "no testnet in "},
		{"no name", []string{"start", "--dir", dir}, 2, "want one node name"},
		{"down without dir", []string{"down", "--dir", filepath.Join(dir, "nope")}, 1, "testnet down: no testnet in "},
	} {
		err := run(tc.args...)
		if !asExitCoder(err, &ec) || ec.ExitCode() != tc.code || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "testnet down: testnet down") {
			t.Errorf("%s: testnet %v: %v, want exit %d with %q", tc.name, tc.args, err, tc.code, tc.want)
		}
	}
}
