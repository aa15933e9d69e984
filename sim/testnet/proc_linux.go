package testnet

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
)

// sysProcAttr puts the child in its own process group (a Ctrl-C on the
// terminal reaches the orchestrator only, which then stops the children in
// order) and, with dieWithParent, has the kernel send it SIGTERM when the
// orchestrator dies.
func sysProcAttr(dieWithParent bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true}
	if dieWithParent {
		a.Pdeathsig = syscall.SIGTERM
	}
	return a
}

// processArgs returns the command line of a running process.
func processArgs(pid int) ([]string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return nil, err
	}
	var args []string
	for a := range bytes.SplitSeq(bytes.TrimRight(b, "\x00"), []byte{0}) {
		args = append(args, string(a))
	}
	return args, nil
}

// processCwd returns the working directory of a running process.
func processCwd(pid int) (string, error) {
	return os.Readlink("/proc/" + strconv.Itoa(pid) + "/cwd")
}

// scanDataDirs maps the --datadir of every running shardlab process (not
// zombies) to its pid.
func scanDataDirs() map[string]int {
	out := make(map[string]int)
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 1 {
			continue
		}
		if dd, err := processDataDir(pid); err == nil && dd != "" && !isZombie(pid) {
			out[dd] = pid
		}
	}
	return out
}
