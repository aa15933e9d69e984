package testnet

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// NodeSpec describes one process of the testnet, as testnet.json records
// it.
type NodeSpec struct {
	Name        string `json:"name"`
	Role        string `json:"role"`
	Index       int    `json:"index"`
	P2PPort     int    `json:"p2p_port"`
	HTTPPort    int    `json:"http_port"`
	MetricsPort int    `json:"metrics_port"`
	// PprofPort serves the node's pprof profiles on 127.0.0.1 (0: off).
	PprofPort  int      `json:"pprof_port,omitempty"`
	Validators string   `json:"validators,omitempty"` // interop keys A-B
	Shards     []uint64 `json:"shards,omitempty"`
	// DebugAPI runs the node with --debug-api.
	DebugAPI bool `json:"debug_api,omitempty"`
	// Host is the address the node listens on (p2p, HTTP API, metrics);
	// empty: 127.0.0.1. Containers on their own network use 0.0.0.0.
	Host string `json:"host,omitempty"`
	// Dir is the node's directory: data/ (its --datadir), node.log, pid.
	Dir string `json:"dir"`
}

// DataDir is the node's --datadir.
func (s NodeSpec) DataDir() string { return filepath.Join(s.Dir, "data") }

// LogFile receives the process's stdout and stderr (appended across
// restarts).
func (s NodeSpec) LogFile() string { return filepath.Join(s.Dir, "node.log") }

// PIDFile holds the pid of the running process; it is removed when the
// process exits under the orchestrator's watch, or is stopped by StopNode.
func (s NodeSpec) PIDFile() string { return filepath.Join(s.Dir, "pid") }

// CommandFile records the command line of the node's last start (JSON:
// binary and arguments), which StartNode runs again.
func (s NodeSpec) CommandFile() string { return filepath.Join(s.Dir, "command.json") }

// StopFile names the last pid that StopNode or KillNode ended on purpose,
// so that the orchestrator does not count its exit as a crash.
func (s NodeSpec) StopFile() string { return filepath.Join(s.Dir, "stopped") }

func (s NodeSpec) host() string {
	if s.Host == "" {
		return "127.0.0.1"
	}
	return s.Host
}

// URL is the base URL of the node's HTTP API.
func (s NodeSpec) URL() string { return "http://127.0.0.1:" + strconv.Itoa(s.HTTPPort) }

// Args returns the command line (after the binary) that runs the node with
// the genesis in genesisDir, the given bootnodes and log level.
func (s NodeSpec) Args(genesisDir string, bootnodes []string, logLevel string) []string {
	args := []string{"--log-level", logLevel, "--log-format", "text", s.Role,
		"--genesis", genesisDir, "--datadir", s.DataDir(),
		"--p2p-host", s.host(), "--p2p-port", strconv.Itoa(s.P2PPort),
		"--http-port", strconv.Itoa(s.HTTPPort), "--metrics-port", strconv.Itoa(s.MetricsPort)}
	if s.Host != "" {
		args = append(args, "--http-host", s.Host)
	}
	if s.PprofPort > 0 {
		args = append(args, "--pprof-port", strconv.Itoa(s.PprofPort))
	}
	if s.Validators != "" {
		args = append(args, "--validators", s.Validators)
	}
	if s.Role == RoleShard {
		shards := make([]string, len(s.Shards))
		for i, sh := range s.Shards {
			shards[i] = strconv.FormatUint(sh, 10)
		}
		args = append(args, "--shards", strings.Join(shards, ","))
	}
	if s.DebugAPI {
		args = append(args, "--debug-api")
	}
	if len(bootnodes) > 0 {
		args = append(args, "--bootnodes", strings.Join(bootnodes, ","))
	}
	return args
}

// Process is one node of the testnet and the process running it: a child
// started with os/exec in its own process group (its output appended to
// its log file, its pid in its pid file), or, after the node was started
// again outside this Process (StartNode from another `shardlab testnet`
// command, or by hand), that process, which it follows by pid (Follow).
type Process struct {
	Spec NodeSpec

	mu   sync.Mutex
	cur  *run   // the current (or last) run; nil before any
	addr string // its p2p multiaddr, from its log
	// external: another engine (Docker, Kubernetes) runs the node; it
	// counts as running and is never signalled (Attach).
	external bool
}

// run is one run of a node: a child (cmd set) or a followed process.
type run struct {
	pid     int
	cmd     *exec.Cmd     // nil for a followed process
	done    chan struct{} // closed when the run has exited
	exitErr error
	// expected is set when the exit was asked for: by this Process, or by
	// StopNode/KillNode (the node's stop file names the pid).
	expected bool
}

// errFollowedExit is the exit of a followed process: not our child, so its
// exit status is unknown.
var errFollowedExit = errors.New("exited (not a child of this testnet: exit status unknown)")

// start runs bin with args; the process's output goes to the log file
// after a header line, its command line to its command file. dieWithParent
// asks the kernel to send SIGTERM to the process when the orchestrator
// dies (Linux).
func (p *Process) start(bin string, args []string, dieWithParent bool) (logOffset int64, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur != nil && !isClosed(p.cur.done) {
		return 0, fmt.Errorf("start %s: %w", p.Spec.Name, ErrNodeRunning)
	}
	if err := os.MkdirAll(p.Spec.Dir, 0o755); err != nil {
		return 0, fmt.Errorf("start %s: %w", p.Spec.Name, err)
	}
	if err := writeCommand(p.Spec, bin, args); err != nil {
		return 0, fmt.Errorf("start %s: %w", p.Spec.Name, err)
	}
	logf, err := os.OpenFile(p.Spec.LogFile(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, fmt.Errorf("start %s: %w", p.Spec.Name, err)
	}
	fmt.Fprintf(logf, "# shardlab testnet: %s start at %s: %s %s\n", p.Spec.Name,
		time.Now().Format(time.RFC3339Nano), bin, strings.Join(args, " "))
	off, err := logf.Seek(0, io.SeekEnd)
	if err != nil {
		logf.Close()
		return 0, fmt.Errorf("start %s: %w", p.Spec.Name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr(dieWithParent)
	if err := cmd.Start(); err != nil {
		logf.Close()
		return 0, fmt.Errorf("start %s: %w", p.Spec.Name, err)
	}
	pid := cmd.Process.Pid
	if err := os.WriteFile(p.Spec.PIDFile(), []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		_ = cmd.Wait()
		logf.Close()
		return 0, fmt.Errorf("start %s: write pid file: %w", p.Spec.Name, err)
	}
	r := &run{pid: pid, cmd: cmd, done: make(chan struct{})}
	p.cur, p.addr = r, ""
	go func() {
		err := cmd.Wait()
		logf.Close()
		stopped := stoppedOnPurpose(p.Spec, pid)
		p.mu.Lock()
		r.exitErr = err
		r.expected = r.expected || stopped
		p.mu.Unlock()
		removePIDFile(p.Spec, pid)
		close(r.done)
	}()
	return off, nil
}

// waitListening follows the log from offset until the process logs its
// "p2p listening" line, and returns its TCP multiaddr on 127.0.0.1.
func (p *Process) waitListening(ctx context.Context, offset int64, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	p.mu.Lock()
	var done chan struct{}
	if p.cur != nil {
		done = p.cur.done
	}
	p.mu.Unlock()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if addr, ok := scanListen(p.Spec.LogFile(), offset); ok {
			p.mu.Lock()
			p.addr = addr
			p.mu.Unlock()
			return addr, nil
		}
		select {
		case <-done:
			if addr, ok := scanListen(p.Spec.LogFile(), offset); ok {
				return addr, nil
			}
			return "", fmt.Errorf("%w: %s exited (%v); log %s:\n%s", ErrNotListening, p.Spec.Name, p.ExitErr(), p.Spec.LogFile(), Tail(p.Spec.LogFile(), 20))
		case <-ctx.Done():
			return "", fmt.Errorf("%w: %s after %v: %w; log %s:\n%s", ErrNotListening, p.Spec.Name, timeout, ctx.Err(), p.Spec.LogFile(), Tail(p.Spec.LogFile(), 20))
		case <-tick.C:
		}
	}
}

// scanListen looks for the last listen line in the file after offset.
func scanListen(path string, offset int64) (string, bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return "", false
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	last, found := "", false
	for sc.Scan() {
		if addr, ok := ParseListenLine(sc.Text()); ok {
			last, found = addr, true
		}
	}
	return last, found
}

// ParseListenLine extracts a dialable multiaddr from a node's
// `msg="p2p listening" addrs=<ma>,<ma>,...` log line (slog's text format):
// the TCP address on 127.0.0.1 when there is one, else the first TCP
// address, else the first.
func ParseListenLine(line string) (string, bool) {
	if !strings.Contains(line, `msg="p2p listening"`) {
		return "", false
	}
	_, rest, ok := strings.Cut(line, " addrs=")
	if !ok {
		return "", false
	}
	var value string
	if strings.HasPrefix(rest, `"`) {
		q, err := strconv.QuotedPrefix(rest)
		if err != nil {
			return "", false
		}
		value, _ = strconv.Unquote(q)
	} else {
		value, _, _ = strings.Cut(rest, " ")
	}
	var addrs []string
	for a := range strings.SplitSeq(value, ",") {
		if a = strings.TrimSpace(a); strings.HasPrefix(a, "/") && strings.Contains(a, "/p2p/") {
			addrs = append(addrs, a)
		}
	}
	if len(addrs) == 0 {
		return "", false
	}
	for _, a := range addrs {
		if strings.HasPrefix(a, "/ip4/127.0.0.1/tcp/") {
			return a, true
		}
	}
	for _, a := range addrs {
		if strings.Contains(a, "/tcp/") {
			return a, true
		}
	}
	return addrs[0], true
}

// Addr returns the p2p multiaddr the process logged at its last start.
func (p *Process) Addr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.addr
}

// Running reports whether the process is running. A followed process found
// gone is marked exited here.
func (p *Process) Running() bool {
	p.mu.Lock()
	r, external := p.cur, p.external
	p.mu.Unlock()
	if external {
		return true
	}
	if r == nil || isClosed(r.done) {
		return false
	}
	if r.cmd == nil && !alive(r.pid) {
		p.endFollowed(r)
		return false
	}
	return true
}

// endFollowed marks a followed run as exited (once).
func (p *Process) endFollowed(r *run) {
	stopped := stoppedOnPurpose(p.Spec, r.pid)
	p.mu.Lock()
	defer p.mu.Unlock()
	if isClosed(r.done) {
		return
	}
	r.exitErr, r.expected = errFollowedExit, r.expected || stopped
	removePIDFile(p.Spec, r.pid)
	close(r.done)
}

// Follow looks, when the process is not running, for a process now running
// the node (its pid file, else a shardlab process on its data dir: started
// by StartNode or by hand) and follows it from then on. It returns the pid
// it found (0: none, or the process is running).
func (p *Process) Follow() int {
	if p.Running() {
		return 0
	}
	pid, ok := livePid(p.Spec, nil)
	if !ok {
		return 0
	}
	addr, _ := scanListen(p.Spec.LogFile(), 0)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur != nil && !isClosed(p.cur.done) {
		return 0 // started meanwhile
	}
	p.cur, p.addr = &run{pid: pid, done: make(chan struct{})}, addr
	return pid
}

// Pid returns the pid of the current (or last) run, 0 before any.
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == nil {
		return 0
	}
	return p.cur.pid
}

// ExitErr returns how the last run ended (nil while running or after a
// clean exit).
func (p *Process) ExitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == nil {
		return nil
	}
	return p.cur.exitErr
}

// Crashed reports whether the last run exited without being stopped (by
// this Process, StopNode or KillNode), and how.
func (p *Process) Crashed() (bool, error) {
	p.Running() // notice a followed process's exit
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.cur
	if r == nil || !isClosed(r.done) || r.expected {
		return false, nil
	}
	return true, r.exitErr
}

// Stop sends SIGTERM to the process group, waits up to timeout for the
// process to exit, then sends SIGKILL. It returns once the process has
// exited; stopping a process that is not running does nothing.
func (p *Process) Stop(timeout time.Duration) { p.end(syscall.SIGTERM, timeout) }

// Kill sends SIGKILL to the process group and waits for the exit.
func (p *Process) Kill() { p.end(syscall.SIGKILL, 0) }

// end sends sig to the process (group) of a running process and waits for
// the exit, sending SIGKILL after timeout when sig is not SIGKILL already.
func (p *Process) end(sig syscall.Signal, timeout time.Duration) {
	if !p.Running() {
		return
	}
	p.mu.Lock()
	r := p.cur
	if r == nil { // attached: its engine owns it
		p.mu.Unlock()
		return
	}
	r.expected = true
	p.mu.Unlock()
	if r.cmd == nil {
		signalNode(r.pid, sig, timeout)
		p.endFollowed(r)
		return
	}
	_ = syscall.Kill(-r.pid, sig)
	if sig == syscall.SIGKILL {
		<-r.done
		return
	}
	select {
	case <-r.done:
	case <-time.After(timeout):
		_ = syscall.Kill(-r.pid, syscall.SIGKILL)
		<-r.done
	}
}

func isClosed(c chan struct{}) bool {
	if c == nil {
		return true
	}
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// Tail returns the last n lines of a file ("" when unreadable).
func Tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	const maxRead = 256 << 10
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	start := max(st.Size()-maxRead, 0)
	buf := make([]byte, st.Size()-start)
	if _, err := f.ReadAt(buf, start); err != nil && !errors.Is(err, io.EOF) {
		return ""
	}
	lines := bytes.Split(bytes.TrimRight(buf, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
