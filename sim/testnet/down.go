package testnet

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DownResult is what Down did to one pid file.
type DownResult struct {
	Name string
	Pid  int
	// Action is "stopped" (SIGTERM), "killed" (SIGKILL after the grace
	// period), "stale" (no such process: the pid file is removed) or
	// "skipped" (the pid is not this testnet's shardlab process).
	Action string
}

// Down stops the processes a testnet in dir left running (after `testnet
// up --keep`, or a crashed orchestrator). For each DIR/<node>/pid it
// checks that the pid is a shardlab process running on that node's data
// dir before signalling it: SIGTERM to its process group, SIGKILL after
// stopTimeout. Pid files of processes that are gone are removed.
func Down(dir string) ([]DownResult, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w in %s: no such directory", ErrNoTestnet, dir)
	} else if err != nil {
		return nil, fmt.Errorf("read testnet dir: %w", err)
	}
	nodes := nodeDataDirs(dir)
	results := make([]DownResult, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() { results[i] = downOne(n.name, n.pidFile, n.dataDir) })
	}
	wg.Wait()
	return results, nil
}

// nodeFiles are the pid file and data dir of one node of a testnet dir.
type nodeFiles struct {
	name, pidFile, dataDir string
}

// nodeDataDirs lists the nodes of dir that have a pid file: from
// testnet.json when it is readable (with the nodes started by hand on
// their data dirs, whose pid files it writes), else DIR/*/pid.
func nodeDataDirs(dir string) []nodeFiles {
	var out []nodeFiles
	if m, err := ReadManifest(dir); err == nil {
		var dirs map[string]int
		for _, n := range m.Nodes {
			if _, err := os.Stat(n.PIDFile()); err != nil {
				if dirs == nil {
					dirs = scanDataDirs()
				}
				if _, ok := livePid(n, dirs); !ok { // started by hand: writes its pid file
					continue
				}
			}
			out = append(out, nodeFiles{n.Name, n.PIDFile(), n.DataDir()})
		}
		return out
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*", "pid"))
	slices.Sort(files)
	for _, f := range files {
		name := filepath.Base(filepath.Dir(f))
		out = append(out, nodeFiles{name, f, filepath.Join(dir, name, "data")})
	}
	return out
}

func downOne(name, pidFile, dataDir string) DownResult {
	r := DownResult{Name: name}
	pid, err := readPid(pidFile)
	if err != nil {
		_ = os.Remove(pidFile)
		r.Action = "stale"
		return r
	}
	r.Pid = pid
	switch ok, err := ownedBy(pid, dataDir); {
	case errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ESRCH):
		_ = os.Remove(pidFile)
		r.Action = "stale"
		return r
	case err != nil || !ok:
		r.Action = "skipped"
		return r
	}
	node := NodeSpec{Dir: filepath.Dir(pidFile)}
	_ = markStopped(node, pid) // a running `up` then shows it as down, not exited
	r.Action = signalNode(pid, syscall.SIGTERM, stopTimeout)
	removePIDFile(node, pid)
	return r
}

// signalNode sends sig to pid, to its whole process group when it leads
// one (as the orchestrator starts the nodes), and waits for it to be gone;
// after timeout (unless sig is SIGKILL already) it sends SIGKILL. It
// returns "stopped" or "killed" (SIGKILL sent).
func signalNode(pid int, sig syscall.Signal, timeout time.Duration) string {
	target := pid
	if pg, err := syscall.Getpgid(pid); err == nil && pg == pid {
		target = -pid
	}
	_ = syscall.Kill(target, sig)
	if sig == syscall.SIGKILL {
		waitGone(pid, 5*time.Second)
		return "killed"
	}
	if !waitGone(pid, timeout) {
		_ = syscall.Kill(target, syscall.SIGKILL)
		waitGone(pid, 5*time.Second)
		return "killed"
	}
	return "stopped"
}

func readPid(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return 0, fmt.Errorf("pid file %s: bad pid %q", path, b)
	}
	return pid, nil
}

// ownedBy reports whether pid runs a shardlab binary with --datadir
// dataDir: a testnet process, not an unrelated one that reused the pid.
func ownedBy(pid int, dataDir string) (bool, error) {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false, err
	}
	dd, err := processDataDir(pid)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return false, err
		}
		return false, fmt.Errorf("read command line of %d: %w", pid, err)
	}
	return dd != "" && dd == filepath.Clean(dataDir), nil
}

// processDataDir returns the --datadir of pid when it runs a shardlab
// binary ("" otherwise), made absolute with the process's working
// directory where it can be read.
func processDataDir(pid int) (string, error) {
	args, err := processArgs(pid)
	if err != nil {
		return "", err
	}
	dd := dataDirArg(args)
	if dd == "" || filepath.IsAbs(dd) {
		return dd, nil
	}
	cwd, err := processCwd(pid)
	if err != nil {
		return "", nil // relative, unresolvable: not ours to touch
	}
	return filepath.Join(cwd, dd), nil
}

// dataDirArg returns the cleaned --datadir of a shardlab command line, ""
// when the binary is not shardlab or has none.
func dataDirArg(args []string) string {
	if len(args) == 0 || !strings.Contains(filepath.Base(args[0]), "shardlab") {
		return ""
	}
	for i, a := range args[1:] {
		switch {
		case (a == "--datadir" || a == "-datadir") && i+2 < len(args):
			return filepath.Clean(args[i+2])
		case strings.HasPrefix(a, "--datadir="):
			return filepath.Clean(strings.TrimPrefix(a, "--datadir="))
		}
	}
	return ""
}

// waitGone polls until pid no longer exists (or is a zombie).
func waitGone(pid int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) || isZombie(pid) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// isZombie reports whether pid has exited but not been reaped (Linux;
// false elsewhere).
func isZombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) state ...: the state follows the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] == 'Z'
}

// liveProcesses returns the names of dir's nodes whose pid files point at
// running testnet processes.
func liveProcesses(dir string) []string {
	var live []string
	for _, n := range nodeDataDirs(dir) {
		pid, err := readPid(n.pidFile)
		if err != nil {
			continue
		}
		if ok, _ := ownedBy(pid, n.dataDir); ok && !isZombie(pid) {
			live = append(live, n.name)
		}
	}
	slices.Sort(live)
	return live
}
