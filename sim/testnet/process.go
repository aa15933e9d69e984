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

// ErrNotListening is returned when a process exits or times out before
// logging its "p2p listening" line.
var ErrNotListening = errors.New("process did not start listening")

// NodeSpec describes one process of the testnet, as testnet.json records
// it.
type NodeSpec struct {
	Name        string   `json:"name"`
	Role        string   `json:"role"`
	Index       int      `json:"index"`
	P2PPort     int      `json:"p2p_port"`
	HTTPPort    int      `json:"http_port"`
	MetricsPort int      `json:"metrics_port"`
	Validators  string   `json:"validators,omitempty"` // interop keys A-B
	Shards      []uint64 `json:"shards,omitempty"`
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
// process exits under the orchestrator's watch.
func (s NodeSpec) PIDFile() string { return filepath.Join(s.Dir, "pid") }

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
	if len(bootnodes) > 0 {
		args = append(args, "--bootnodes", strings.Join(bootnodes, ","))
	}
	return args
}

// Process is one node process: started with os/exec in its own process
// group, its output appended to its log file, its pid in its pid file.
type Process struct {
	Spec NodeSpec

	mu       sync.Mutex
	cmd      *exec.Cmd
	done     chan struct{} // closed when the current run has exited
	exitErr  error
	expected bool   // the orchestrator stopped it
	addr     string // its p2p multiaddr, from its log
	starts   int
	// external: another engine (Docker, Kubernetes) runs the node; it
	// counts as running and is never signalled (Attach).
	external bool
}

// start runs bin with args; the process's output goes to the log file
// after a header line. dieWithParent asks the kernel to send SIGTERM to the
// process when the orchestrator dies (Linux).
func (p *Process) start(bin string, args []string, dieWithParent bool) (logOffset int64, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil && !isClosed(p.done) {
		return 0, fmt.Errorf("start %s: already running", p.Spec.Name)
	}
	if err := os.MkdirAll(p.Spec.Dir, 0o755); err != nil {
		return 0, fmt.Errorf("start %s: %w", p.Spec.Name, err)
	}
	logf, err := os.OpenFile(p.Spec.LogFile(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, fmt.Errorf("start %s: %w", p.Spec.Name, err)
	}
	fmt.Fprintf(logf, "# shardlab testnet: %s start %d at %s: %s %s\n", p.Spec.Name, p.starts+1,
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
	if err := os.WriteFile(p.Spec.PIDFile(), []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644); err != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		logf.Close()
		return 0, fmt.Errorf("start %s: write pid file: %w", p.Spec.Name, err)
	}
	p.cmd, p.done, p.exitErr, p.expected, p.addr = cmd, make(chan struct{}), nil, false, ""
	p.starts++
	done := p.done
	go func() {
		err := cmd.Wait()
		logf.Close()
		p.mu.Lock()
		p.exitErr = err
		p.mu.Unlock()
		_ = os.Remove(p.Spec.PIDFile())
		close(done)
	}()
	return off, nil
}

// waitListening follows the log from offset until the process logs its
// "p2p listening" line, and returns its TCP multiaddr on 127.0.0.1.
func (p *Process) waitListening(ctx context.Context, offset int64, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	p.mu.Lock()
	done := p.done
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

// scanListen looks for the listen line in the file after offset.
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
	for sc.Scan() {
		if addr, ok := ParseListenLine(sc.Text()); ok {
			return addr, true
		}
	}
	return "", false
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

// Running reports whether the process is running.
func (p *Process) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.external || p.cmd != nil && !isClosed(p.done)
}

// Pid returns the pid of the current (or last) run, 0 before any.
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// ExitErr returns how the last run ended (nil while running or after a
// clean exit).
func (p *Process) ExitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exitErr
}

// Crashed reports whether the process exited without the orchestrator
// stopping it, and how.
func (p *Process) Crashed() (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || !isClosed(p.done) || p.expected {
		return false, nil
	}
	return true, p.exitErr
}

// Stop sends SIGTERM to the process group, waits up to timeout for the
// process to exit, then sends SIGKILL. It returns once the process has
// exited; stopping a process that is not running does nothing.
func (p *Process) Stop(timeout time.Duration) { p.end(syscall.SIGTERM, timeout) }

// Kill sends SIGKILL to the process group and waits for the exit.
func (p *Process) Kill() { p.end(syscall.SIGKILL, 0) }

// end sends sig to the process group of a running process and waits for
// the exit, sending SIGKILL after timeout when sig is not SIGKILL already.
func (p *Process) end(sig syscall.Signal, timeout time.Duration) {
	p.mu.Lock()
	if p.cmd == nil || isClosed(p.done) {
		p.mu.Unlock()
		return
	}
	p.expected = true
	pid, done := p.cmd.Process.Pid, p.done
	p.mu.Unlock()
	_ = syscall.Kill(-pid, sig)
	if sig == syscall.SIGKILL {
		<-done
		return
	}
	select {
	case <-done:
	case <-time.After(timeout):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-done
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
