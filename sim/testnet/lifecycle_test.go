package testnet

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeTestnet writes a manifest of two fake nodes (the helper binary) in
// a temporary dir and stops whatever still runs at the end.
func fakeTestnet(t *testing.T) (dir, bin string, m *Manifest) {
	t.Helper()
	t.Setenv("SHARDLAB_TESTNET_HELPER", "listen")
	dir, bin = t.TempDir(), helperBinary(t)
	m = &Manifest{Binary: bin, SecondsPerSlot: 1, SlotsPerEpoch: 8}
	for i, name := range []string{"beacon-0", "beacon-1"} {
		m.Nodes = append(m.Nodes, NodeSpec{Name: name, Role: RoleBeacon, Index: i, Dir: filepath.Join(dir, name)})
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = Down(dir) })
	return dir, bin, m
}

// TestNodeLifecycleErrors: no testnet, an unknown node, stopping a stopped
// node, starting a running one.
func TestNodeLifecycleErrors(t *testing.T) {
	dir, _, _ := fakeTestnet(t)
	ctx := context.Background()
	opts := NodeOptions{Grace: 5 * time.Second}
	if _, err := StopNode(ctx, t.TempDir(), "beacon-0", opts); !errors.Is(err, ErrNoTestnet) || !strings.Contains(err.Error(), "no testnet.json") {
		t.Errorf("stop in an empty dir: %v", err)
	}
	if _, err := StartNode(ctx, dir, "beacon-9", opts); !errors.Is(err, ErrUnknownNode) || !strings.Contains(err.Error(), "beacon-0, beacon-1") {
		t.Errorf("start of an unknown node: %v", err)
	}
	for name, fn := range map[string]func(context.Context, string, string, NodeOptions) (NodeChange, error){"stop": StopNode, "kill": KillNode} {
		if _, err := fn(ctx, dir, "beacon-0", opts); !errors.Is(err, ErrNodeStopped) {
			t.Errorf("%s of a stopped node: %v", name, err)
		}
	}
	if _, err := StartNode(ctx, dir, "beacon-0", opts); err != nil {
		t.Fatal(err)
	}
	if _, err := StartNode(ctx, dir, "beacon-0", opts); !errors.Is(err, ErrNodeRunning) {
		t.Errorf("start of a running node: %v", err)
	}
}

// TestNodeLifecycle drives a node run by an orchestrator's Process (as
// under `testnet up`) through KillNode, StartNode --wipe, RestartNode, an
// exit nobody asked for and a start by hand: the Process follows every new
// pid, counts only the unasked exit as a crash, and Status shows the pid.
func TestNodeLifecycle(t *testing.T) {
	dir, bin, m := fakeTestnet(t)
	ctx := context.Background()
	opts := NodeOptions{Grace: 5 * time.Second}
	spec := m.Nodes[0]
	p := &Process{Spec: spec}
	off, err := p.start(bin, spec.Args(filepath.Join(dir, genesisDir), nil, "info"), true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.waitListening(ctx, off, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	first := p.Pid()

	// Another node started while beacon-0 runs gets it as bootnode.
	if _, err := StartNode(ctx, dir, "beacon-1", opts); err != nil {
		t.Fatal(err)
	}
	cmd, err := readCommand(m.Nodes[1])
	if err != nil || cmd.Binary != bin || !slices.Contains(cmd.Args, "/ip4/127.0.0.1/tcp/4242/p2p/12D3KooWFake") {
		t.Fatalf("beacon-1's recorded command %+v, %v: want beacon-0 as bootnode", cmd, err)
	}

	ch, err := KillNode(ctx, dir, "beacon-0", opts)
	if err != nil || ch.Stopped != first || ch.Action != "killed" {
		t.Fatalf("KillNode = %+v, %v", ch, err)
	}
	// KillNode returns once the process is gone (a zombie at most); the
	// Process learns of the exit when its Wait reaps it, a moment later.
	if !exitsWithin(p, 5*time.Second) {
		t.Fatal("the killed process still runs")
	}
	if crashed, err := p.Crashed(); crashed {
		t.Fatalf("a node killed by KillNode counts as crashed: %v", err)
	}

	if err := os.MkdirAll(spec.DataDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(spec.DataDir(), "chain")
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ch, err = StartNode(ctx, dir, "beacon-0", NodeOptions{Wipe: true})
	if err != nil || ch.Pid == 0 || ch.Pid == first || ch.Addr == "" {
		t.Fatalf("StartNode = %+v, %v", ch, err)
	}
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("--wipe left the data dir: %v", err)
	}
	if got := p.Follow(); got != ch.Pid || !p.Running() || p.Pid() != ch.Pid {
		t.Fatalf("Follow = %d, running %v, pid %d: want pid %d", got, p.Running(), p.Pid(), ch.Pid)
	}
	snap, _, err := Status(ctx, dir)
	if err != nil || snap.Nodes[0].State != "up" || snap.Nodes[0].Pid != ch.Pid {
		t.Fatalf("Status: %+v, %v: want beacon-0 up as pid %d", snap.Nodes, err, ch.Pid)
	}

	second := ch.Pid
	ch, err = RestartNode(ctx, dir, "beacon-0", opts)
	if err != nil || ch.Stopped != second || ch.Action != "stopped" || ch.Pid == second {
		t.Fatalf("RestartNode = %+v, %v", ch, err)
	}
	if crashed, _ := p.Crashed(); crashed || p.Running() {
		t.Fatal("the followed process, stopped by RestartNode, counts as crashed or running")
	}
	if got := p.Follow(); got != ch.Pid {
		t.Fatalf("Follow after the restart = %d, want %d", got, ch.Pid)
	}

	// An exit nobody asked for is a crash.
	if err := syscall.Kill(ch.Pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if !waitGone(ch.Pid, 10*time.Second) {
		t.Fatal("the node did not exit on SIGTERM")
	}
	if crashed, err := p.Crashed(); !crashed || !errors.Is(err, errFollowedExit) {
		t.Fatalf("Crashed = %v, %v after an exit nobody asked for", crashed, err)
	}

	// Started again by hand (no pid file): followed, and Status finds it.
	hand := exec.Command(bin, "--datadir", spec.DataDir())
	hand.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := hand.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = hand.Wait() }()
	var up NodeStatus
	for deadline := time.Now().Add(10 * time.Second); up.Pid == 0 && time.Now().Before(deadline); {
		snap, _, err := Status(ctx, dir) // finds the helper once it has exec'd
		if err != nil {
			t.Fatal(err)
		}
		up = snap.Nodes[0]
		time.Sleep(20 * time.Millisecond)
	}
	if up.State != "up" || up.Pid != hand.Process.Pid {
		t.Fatalf("Status: %+v, want up as pid %d (started by hand)", up, hand.Process.Pid)
	}
	_ = os.Remove(spec.PIDFile()) // which Status wrote: Follow must find it by its data dir too
	got := p.Follow()
	if got != hand.Process.Pid {
		t.Fatalf("Follow = %d, want the process started by hand %d", got, hand.Process.Pid)
	}
	if crashed, _ := p.Crashed(); crashed {
		t.Fatal("a node running again counts as crashed")
	}
	if pid, err := readPid(spec.PIDFile()); err != nil || pid != got {
		t.Fatalf("pid file %d, %v: want %d", pid, err, got)
	}
	p.Stop(5 * time.Second)
	if alive(got) {
		t.Fatal("Stop left the process started by hand running")
	}
}

// TestWithBootnodes replaces or adds --bootnodes.
func TestWithBootnodes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		args, boot []string
		want       string
	}{
		{"none running", []string{"beacon", "--bootnodes", "/a"}, nil, "beacon --bootnodes /a"},
		{"replace", []string{"beacon", "--bootnodes", "/a", "--x"}, []string{"/b", "/c"}, "beacon --x --bootnodes /b,/c"},
		{"replace =", []string{"beacon", "--bootnodes=/a"}, []string{"/b"}, "beacon --bootnodes /b"},
		{"add", []string{"beacon"}, []string{"/b"}, "beacon --bootnodes /b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := strings.Join(withBootnodes(tc.args, tc.boot), " "); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestDataDirArg reads --datadir from shardlab command lines only.
func TestDataDirArg(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"flag", []string{"/usr/bin/shardlab", "beacon", "--datadir", "/t/b0/data/"}, "/t/b0/data"},
		{"equals", []string{"shardlab", "--log-level", "info", "shard", "--datadir=/t/s0/data"}, "/t/s0/data"},
		{"relative", []string{"./bin/shardlab", "beacon", "--datadir", "net/b0"}, "net/b0"},
		{"test binary", []string{"/tmp/x/shardlab.test", "--datadir", "/d"}, "/d"},
		{"other program", []string{"/usr/bin/geth", "--datadir", "/t/b0/data"}, ""},
		{"no datadir", []string{"shardlab", "beacon"}, ""},
		{"dangling flag", []string{"shardlab", "beacon", "--datadir"}, ""},
		{"empty", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := dataDirArg(tc.args); got != tc.want {
				t.Fatalf("dataDirArg(%q) = %q, want %q", tc.args, got, tc.want)
			}
		})
	}
}

// exitsWithin reports whether p stops running within d.
func exitsWithin(p *Process, d time.Duration) bool {
	for deadline := time.Now().Add(d); p.Running(); {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}
