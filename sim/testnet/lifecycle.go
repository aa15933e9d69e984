package testnet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// NodeOptions tune StopNode, KillNode, StartNode and RestartNode.
type NodeOptions struct {
	// Grace is how long StopNode waits after SIGTERM before it sends
	// SIGKILL (0: 10s).
	Grace time.Duration
	// Wipe empties the node's data dir before it starts: the node rejoins
	// with an empty database (and a new p2p identity) and syncs from its
	// peers.
	Wipe bool
	// ListenTimeout bounds the wait for a started node's "p2p listening"
	// line (0: 30s).
	ListenTimeout time.Duration
}

// NodeChange is what a lifecycle function did to a node.
type NodeChange struct {
	Name string
	// Stopped is the pid that was ended (0: none) and Action how:
	// "stopped" (it exited after SIGTERM) or "killed" (SIGKILL).
	Stopped int
	Action  string
	// Pid is the pid of the process started (0: none), Addr its p2p
	// multiaddr.
	Pid  int
	Addr string
}

// command is a node's recorded command line (NodeSpec.CommandFile).
type command struct {
	Binary string   `json:"binary"`
	Args   []string `json:"args"`
}

// StopNode stops the named node of the testnet in dir: SIGTERM to its
// process (group), SIGKILL after opts.Grace. The node may run under
// `testnet up` (which then shows it as down, not as exited on its own), be
// left by `testnet up --keep`, or have been started by StartNode or by
// hand on its data dir.
func StopNode(ctx context.Context, dir, name string, opts NodeOptions) (NodeChange, error) {
	return endNode(ctx, "stop", dir, name, syscall.SIGTERM, opts)
}

// KillNode sends SIGKILL to the named node's process (group) and waits
// for it to exit (see StopNode).
func KillNode(ctx context.Context, dir, name string, opts NodeOptions) (NodeChange, error) {
	return endNode(ctx, "kill", dir, name, syscall.SIGKILL, opts)
}

func endNode(_ context.Context, verb, dir, name string, sig syscall.Signal, opts NodeOptions) (NodeChange, error) {
	ch := NodeChange{Name: name}
	_, s, err := lookupNode(dir, name)
	if err != nil {
		return ch, fmt.Errorf("%s node: %w", verb, err)
	}
	pid, ok := livePid(s, nil)
	if !ok {
		return ch, fmt.Errorf("%s node %s: %w", verb, name, ErrNodeStopped)
	}
	if err := markStopped(s, pid); err != nil {
		return ch, fmt.Errorf("%s node %s: %w", verb, name, err)
	}
	grace := opts.Grace
	if grace <= 0 {
		grace = stopTimeout
	}
	ch.Stopped, ch.Action = pid, signalNode(pid, sig, grace)
	removePIDFile(s, pid)
	return ch, nil
}

// StartNode starts the named (stopped) node of the testnet in dir again
// on its data dir, with the command line it last ran with (its
// command.json; without one, the testnet's layout) and the running nodes
// as bootnodes, and waits for it to listen. The process is not tied to
// the caller: it keeps running when the caller exits. A `testnet up`
// running on dir follows the new pid.
func StartNode(ctx context.Context, dir, name string, opts NodeOptions) (NodeChange, error) {
	ch := NodeChange{Name: name}
	m, s, err := lookupNode(dir, name)
	if err != nil {
		return ch, fmt.Errorf("start node: %w", err)
	}
	dirs := scanDataDirs()
	if pid, ok := livePid(s, dirs); ok {
		return ch, fmt.Errorf("start node %s: %w (pid %d)", name, ErrNodeRunning, pid)
	}
	cmd, err := readCommand(s)
	if errors.Is(err, os.ErrNotExist) {
		cmd = command{Binary: m.Binary, Args: s.Args(filepath.Join(filepath.Dir(s.Dir), genesisDir), nil, "info")}
	} else if err != nil {
		return ch, fmt.Errorf("start node %s: %w", name, err)
	}
	var boot []string
	for _, o := range m.Nodes {
		if o.Name == s.Name {
			continue
		}
		if _, ok := livePid(o, dirs); !ok {
			continue
		}
		if addr, ok := scanListen(o.LogFile(), 0); ok {
			boot = append(boot, addr)
		}
	}
	args := withBootnodes(cmd.Args, boot)
	if opts.Wipe {
		if err := os.RemoveAll(s.DataDir()); err != nil {
			return ch, fmt.Errorf("start node %s: wipe data dir: %w", name, err)
		}
	}
	timeout := opts.ListenTimeout
	if timeout <= 0 {
		timeout = listenTimeout
	}
	p := &Process{Spec: s}
	off, err := p.start(cmd.Binary, args, false)
	if err != nil {
		return ch, err
	}
	addr, err := p.waitListening(ctx, off, timeout)
	if err != nil {
		p.Kill()
		return ch, fmt.Errorf("start node %s: %w", name, err)
	}
	ch.Pid, ch.Addr = p.Pid(), addr
	return ch, nil
}

// RestartNode stops the named node (SIGTERM, then SIGKILL after
// opts.Grace) when it runs, and starts it again (see StartNode).
func RestartNode(ctx context.Context, dir, name string, opts NodeOptions) (NodeChange, error) {
	stopped, err := StopNode(ctx, dir, name, opts)
	if err != nil && !errors.Is(err, ErrNodeStopped) {
		return stopped, fmt.Errorf("restart: %w", err)
	}
	started, err := StartNode(ctx, dir, name, opts)
	started.Stopped, started.Action = stopped.Stopped, stopped.Action
	if err != nil {
		return started, fmt.Errorf("restart: %w", err)
	}
	return started, nil
}

// lookupNode reads dir's manifest and finds the named node.
func lookupNode(dir, name string) (*Manifest, NodeSpec, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, NodeSpec{}, err
	}
	if _, err := os.Stat(filepath.Join(abs, ManifestFile)); errors.Is(err, os.ErrNotExist) {
		return nil, NodeSpec{}, fmt.Errorf("%w in %s (no %s): start one with shardlab testnet up --dir %s", ErrNoTestnet, abs, ManifestFile, dir)
	}
	m, err := ReadManifest(abs)
	if err != nil {
		return nil, NodeSpec{}, err
	}
	names := make([]string, len(m.Nodes))
	for i, n := range m.Nodes {
		if n.Name == name {
			return m, n, nil
		}
		names[i] = n.Name
	}
	return nil, NodeSpec{}, fmt.Errorf("%w %q: the testnet in %s has %s", ErrUnknownNode, name, abs, strings.Join(names, ", "))
}

// livePid returns the pid of the process running the node: the one in its
// pid file when that is a live shardlab process on the node's data dir,
// else one found on its data dir in dirs (scanDataDirs; nil: scan now),
// whose pid is then written to the pid file.
func livePid(s NodeSpec, dirs map[string]int) (int, bool) {
	if pid, err := readPid(s.PIDFile()); err == nil {
		if ok, _ := ownedBy(pid, s.DataDir()); ok && !isZombie(pid) {
			return pid, true
		}
	}
	if dirs == nil {
		dirs = scanDataDirs()
	}
	pid, ok := dirs[filepath.Clean(s.DataDir())]
	if !ok || !alive(pid) {
		return 0, false
	}
	_ = os.WriteFile(s.PIDFile(), []byte(strconv.Itoa(pid)+"\n"), 0o644)
	return pid, true
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return (err == nil || errors.Is(err, syscall.EPERM)) && !isZombie(pid)
}

// markStopped writes pid to the node's stop file before it is signalled:
// an orchestrator watching the process then knows that its exit is no
// crash.
func markStopped(s NodeSpec, pid int) error {
	if err := os.WriteFile(s.StopFile(), []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		return fmt.Errorf("write stop file: %w", err)
	}
	return nil
}

// stoppedOnPurpose reports whether the node's stop file names pid.
func stoppedOnPurpose(s NodeSpec, pid int) bool {
	got, err := readPid(s.StopFile())
	return err == nil && got == pid
}

// removePIDFile removes the node's pid file if it still names pid (a new
// process may have replaced it).
func removePIDFile(s NodeSpec, pid int) {
	if got, err := readPid(s.PIDFile()); err == nil && got == pid {
		_ = os.Remove(s.PIDFile())
	}
}

// writeCommand records the node's command line.
func writeCommand(s NodeSpec, bin string, args []string) error {
	b, err := json.MarshalIndent(command{Binary: bin, Args: args}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(s.CommandFile(), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("record command line: %w", err)
	}
	return nil
}

// readCommand reads the node's recorded command line.
func readCommand(s NodeSpec) (command, error) {
	var c command
	b, err := os.ReadFile(s.CommandFile())
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(b, &c); err != nil || c.Binary == "" {
		return c, fmt.Errorf("read command line %s: not a recorded command (%v)", s.CommandFile(), err)
	}
	return c, nil
}

// withBootnodes returns args with --bootnodes set to boot (args unchanged
// when boot is empty).
func withBootnodes(args, boot []string) []string {
	if len(boot) == 0 {
		return args
	}
	out := make([]string, 0, len(args)+2)
	for i := 0; i < len(args); i++ {
		switch {
		case args[i] == "--bootnodes" && i+1 < len(args):
			i++
			continue
		case strings.HasPrefix(args[i], "--bootnodes="):
			continue
		}
		out = append(out, args[i])
	}
	return append(out, "--bootnodes", strings.Join(boot, ","))
}
