package testnet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shardlab/shardlab/beacon/params"
)

// The test binary doubles as a fake node process: with
// SHARDLAB_TESTNET_HELPER set it prints a listen line (unless "silent"),
// then waits for SIGTERM ("ignoreterm": ignores it; "crash": exits 3;
// "bindhttp": binds its --http-port first and exits 1 if it cannot).
func TestMain(m *testing.M) {
	if mode := os.Getenv("SHARDLAB_TESTNET_HELPER"); mode != "" {
		helperMain(mode)
		return
	}
	os.Exit(m.Run())
}

func helperMain(mode string) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	if mode == "ignoreterm" {
		signal.Ignore(syscall.SIGTERM)
	}
	if mode == "crash" {
		fmt.Fprintln(os.Stderr, "level=ERROR msg=boom")
		os.Exit(3)
	}
	if mode == "bindhttp" { // bind --http-port as a node does, then listen
		port := ""
		for i, a := range os.Args {
			if a == "--http-port" && i+1 < len(os.Args) {
				port = os.Args[i+1]
			}
		}
		ln, err := net.Listen("tcp", "127.0.0.1:"+port)
		if err != nil {
			fmt.Fprintf(os.Stderr, "beacon: listen for http: %v\n", err)
			os.Exit(1)
		}
		defer ln.Close()
	}
	if mode != "silent" {
		fmt.Fprintln(os.Stderr, `time=2026-01-01T00:00:00Z level=INFO msg="p2p node started" component=p2p`)
		fmt.Fprintln(os.Stderr, `time=2026-01-01T00:00:00Z level=INFO msg="p2p listening" component=beacon addrs=/ip4/127.0.0.1/udp/4242/quic-v1/p2p/12D3KooWFake,/ip4/127.0.0.1/tcp/4242/p2p/12D3KooWFake peer=12D3KooWFake`)
	}
	select {
	case <-sigs:
		fmt.Fprintln(os.Stderr, "level=INFO msg=stopping")
		os.Exit(0)
	case <-time.After(time.Minute):
		os.Exit(4)
	}
}

// helperBinary returns a path named like shardlab that runs this test
// binary (a symlink), so that Down recognises its processes.
func helperBinary(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "shardlab")
	if err := os.Symlink(self, link); err != nil {
		t.Fatal(err)
	}
	return link
}

func helperProcess(t *testing.T, dir, name, mode string) (*Process, int64) {
	t.Helper()
	t.Setenv("SHARDLAB_TESTNET_HELPER", mode)
	p := &Process{Spec: NodeSpec{Name: name, Role: RoleBeacon, Dir: filepath.Join(dir, name)}}
	off, err := p.start(helperBinary(t), []string{"--datadir", p.Spec.DataDir()}, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	return p, off
}

func TestParseListenLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, line, want string
	}{
		{"tcp first", `level=INFO msg="p2p listening" addrs=/ip4/127.0.0.1/tcp/19000/p2p/12D3KooWA,/ip4/127.0.0.1/udp/19000/quic-v1/p2p/12D3KooWA peer=12D3KooWA`, "/ip4/127.0.0.1/tcp/19000/p2p/12D3KooWA"},
		{"quic first", `msg="p2p listening" addrs=/ip4/127.0.0.1/udp/9/quic-v1/p2p/X,/ip4/10.0.0.1/tcp/9/p2p/X,/ip4/127.0.0.1/tcp/9/p2p/X`, "/ip4/127.0.0.1/tcp/9/p2p/X"},
		{"quoted", `msg="p2p listening" addrs="/ip4/10.0.0.1/tcp/9/p2p/X" peer=X`, "/ip4/10.0.0.1/tcp/9/p2p/X"},
		{"quic only", `msg="p2p listening" addrs=/ip4/127.0.0.1/udp/9/quic-v1/p2p/X`, "/ip4/127.0.0.1/udp/9/quic-v1/p2p/X"},
		{"other line", `msg="p2p node started" addrs="[/ip4/127.0.0.1/tcp/9/p2p/X]"`, ""},
		{"no peer id", `msg="p2p listening" addrs=/ip4/127.0.0.1/tcp/9`, ""},
		{"empty", `msg="p2p listening" addrs= peer=X`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ParseListenLine(tc.line)
			if got != tc.want || ok != (tc.want != "") {
				t.Fatalf("ParseListenLine = %q, %v; want %q", got, ok, tc.want)
			}
		})
	}
}

func TestSplits(t *testing.T) {
	t.Parallel()
	var got []string
	for i := range 3 {
		lo, hi, ok := ValidatorSplit(64, 3, i)
		got = append(got, fmt.Sprintf("%d-%d %v", lo, hi, ok))
	}
	if want := "0-20 true,21-41 true,42-63 true"; strings.Join(got, ",") != want {
		t.Fatalf("ValidatorSplit(64, 3) = %v, want %s", got, want)
	}
	if _, _, ok := ValidatorSplit(2, 4, 0); ok {
		t.Fatal("ValidatorSplit(2, 4, 0): want an empty share")
	}
	for _, tc := range []struct {
		shards uint64
		nodes  int
		want   string
	}{
		{8, 4, "[0 1] [2 3] [4 5] [6 7]"},
		{8, 3, "[0 1] [2 3 4] [5 6 7]"},
		{8, 1, "[0 1 2 3 4 5 6 7]"},
		{2, 3, "[0] [1] [0]"},
	} {
		var parts []string
		for i := range tc.nodes {
			parts = append(parts, fmt.Sprint(ShardSplit(tc.shards, tc.nodes, i)))
		}
		if g := strings.Join(parts, " "); g != tc.want {
			t.Errorf("ShardSplit(%d, %d) = %s, want %s", tc.shards, tc.nodes, g, tc.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	ok := DefaultConfig()
	ok.Binary = "/bin/true"
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*Config){
		"no binary":       func(c *Config) { c.Binary = "" },
		"no beacon nodes": func(c *Config) { c.BeaconNodes = 0 },
		"half seconds":    func(c *Config) { c.SlotTime = 1500 * time.Millisecond },
		"cross over 1":    func(c *Config) { c.CrossShard = 1.5 },
		"low port":        func(c *Config) { c.BasePort = 80 },
		"high port":       func(c *Config) { c.BasePort = 65400 },
		"shard nodes, no shards": func(c *Config) {
			c.Shards = 0
		},
		"too many":           func(c *Config) { c.BeaconNodes = 60 },
		"every node late":    func(c *Config) { c.LateBeacon = []int{0, 1, 2, 3} },
		"late node too high": func(c *Config) { c.LateBeacon = []int{4} },
		"late node twice":    func(c *Config) { c.LateBeacon = []int{1, 1} },
	} {
		c := ok
		mut(&c)
		if err := c.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: Validate = %v, want ErrInvalidConfig", name, err)
		}
	}
}

// TestProcessLifecycle starts a fake node: its listen line is found, it
// stops on SIGTERM, is killed when it ignores SIGTERM, and a crash is
// reported with its log.
func TestProcessLifecycle(t *testing.T) {
	dir := t.TempDir()
	p, off := helperProcess(t, dir, "beacon-0", "listen")
	addr, err := p.waitListening(context.Background(), off, 10*time.Second)
	if err != nil || addr != "/ip4/127.0.0.1/tcp/4242/p2p/12D3KooWFake" {
		t.Fatalf("waitListening = %q, %v", addr, err)
	}
	if b, err := os.ReadFile(p.Spec.PIDFile()); err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(p.Pid()) {
		t.Fatalf("pid file %q, %v; pid %d", b, err, p.Pid())
	}
	start := time.Now()
	p.Stop(10 * time.Second)
	if p.Running() || time.Since(start) > 5*time.Second {
		t.Fatalf("Stop: running %v after %v", p.Running(), time.Since(start))
	}
	if crashed, _ := p.Crashed(); crashed {
		t.Fatal("a stopped process counts as crashed")
	}
	if _, err := os.Stat(p.Spec.PIDFile()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("pid file left after exit: %v", err)
	}

	q, qoff := helperProcess(t, dir, "beacon-1", "ignoreterm")
	if _, err := q.waitListening(context.Background(), qoff, 10*time.Second); err != nil {
		t.Fatal(err) // its SIGTERM handling is set up once it has printed
	}
	start = time.Now()
	q.Stop(300 * time.Millisecond)
	if q.Running() || time.Since(start) < 300*time.Millisecond {
		t.Fatalf("Stop of a process ignoring SIGTERM: running %v after %v", q.Running(), time.Since(start))
	}

	c, off := helperProcess(t, dir, "beacon-2", "crash")
	if _, err := c.waitListening(context.Background(), off, 10*time.Second); !errors.Is(err, ErrNotListening) || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("waitListening of a crashing process: %v", err)
	}
	if crashed, err := c.Crashed(); !crashed || err == nil || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("Crashed = %v, %v", crashed, err)
	}
	if tail := Tail(c.Spec.LogFile(), 1); tail != "level=ERROR msg=boom" {
		t.Fatalf("Tail = %q", tail)
	}
}

// TestDown stops a leftover process by its pid file, removes a stale pid
// file, and leaves alone a pid that is not the node's process.
func TestDown(t *testing.T) {
	dir := t.TempDir()
	p, _ := helperProcess(t, dir, "beacon-0", "silent")
	p.mu.Lock()
	done := p.cur.done
	p.mu.Unlock()
	// Stale: a pid that does not exist any more.
	stale := filepath.Join(dir, "beacon-1")
	if err := os.MkdirAll(stale, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stale, "pid"), []byte("2147483000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Foreign: this test process, which is no shardlab node.
	foreign := filepath.Join(dir, "shard-0")
	if err := os.MkdirAll(foreign, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(foreign, "pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		t.Fatal(err)
	}
	if live := liveProcesses(dir); strings.Join(live, ",") != "beacon-0" {
		t.Fatalf("liveProcesses = %v", live)
	}
	res, err := Down(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := make(map[string]string)
	for _, r := range res {
		got[r.Name] = r.Action
	}
	if got["beacon-0"] != "stopped" || got["beacon-1"] != "stale" || got["shard-0"] != "skipped" || len(got) != 3 {
		t.Fatalf("Down = %+v", res)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the process is still running after Down")
	}
	if crashed, err := p.Crashed(); crashed {
		t.Fatalf("a process stopped by Down counts as crashed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(stale, "pid")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("stale pid file not removed")
	}
	if _, err := os.Stat(filepath.Join(foreign, "pid")); err != nil {
		t.Fatal("foreign pid file removed")
	}
}

func TestPrepareDir(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	other := filepath.Join(base, "other")
	if err := os.MkdirAll(other, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, "notes.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := prepareDir(other); err == nil {
		t.Fatal("prepareDir accepted a directory holding something else")
	}
	old := filepath.Join(base, "old")
	if err := os.MkdirAll(filepath.Join(old, "beacon-0", "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(old, ManifestFile), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := prepareDir(old); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(old); len(entries) != 0 {
		t.Fatalf("previous testnet not cleared: %v", entries)
	}
	if err := prepareDir(filepath.Join(base, "new", "dir")); err != nil {
		t.Fatal(err)
	}
}

func TestGossipLatency(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1000, 0)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	l := GossipLatency(map[string][]Arrival{
		"a": {{Root: "r1", Seen: ms(0)}, {Root: "r2", Seen: ms(1005)}, {Root: "r3", Seen: ms(2000)}},
		"b": {{Root: "r1", Seen: ms(2)}, {Root: "r2", Seen: ms(1000)}},
		"c": {{Root: "r1", Seen: ms(4)}, {Root: "r2", Seen: ms(1010)}},
	})
	// r1: 2, 4; r2: 5, 10; r3 is seen by one node only.
	if l.Blocks != 2 || l.Samples != 4 || l.P50 != 4*time.Millisecond || l.P99 != 10*time.Millisecond || l.Max != 10*time.Millisecond {
		t.Fatalf("GossipLatency = %+v", l)
	}
	if l := GossipLatency(nil); l.Samples != 0 {
		t.Fatalf("no arrivals: %+v", l)
	}
}

// TestStartNewMovesTakenPorts starts a process whose HTTP port another
// program took after it was chosen: the start fails with "address already
// in use", and startNew starts it again on fresh free ports (with a base
// port the layout is fixed and the error is returned).
func TestStartNewMovesTakenPorts(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := taken.Addr().(*net.TCPAddr).Port
	t.Setenv("SHARDLAB_TESTNET_HELPER", "bindhttp")
	var out strings.Builder
	tn := &Testnet{cfg: Config{Binary: helperBinary(t), Dir: t.TempDir(), LogLevel: "info"}, out: newPrinter(&out, false), chain: params.Minimal()}
	spec := NodeSpec{Name: "beacon-0", Role: RoleBeacon, Dir: filepath.Join(tn.cfg.Dir, "beacon-0"), P2PPort: 1, HTTPPort: port, MetricsPort: 2}
	p, err := tn.startNew(context.Background(), spec)
	if err != nil {
		t.Fatalf("startNew with a taken port: %v", err)
	}
	t.Cleanup(p.Kill)
	if p.Spec.HTTPPort == port || !p.Running() {
		t.Fatalf("process on HTTP port %d (taken %d), running %v", p.Spec.HTTPPort, port, p.Running())
	}
	if !strings.Contains(out.String(), "starting again on other ports") {
		t.Fatalf("no progress line about the move: %q", out.String())
	}

	fixed := &Testnet{cfg: Config{Binary: helperBinary(t), Dir: t.TempDir(), LogLevel: "info", BasePort: port}, out: newPrinter(nil, false), chain: params.Minimal()}
	spec.Dir = filepath.Join(fixed.cfg.Dir, "beacon-0")
	q, err := fixed.startNew(context.Background(), spec)
	if q != nil {
		t.Cleanup(q.Kill)
	}
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("startNew with a base port and a taken port: %v, want the bind error", err)
	}
}
