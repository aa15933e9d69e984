//go:build unix && !linux

package testnet

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// sysProcAttr puts the child in its own process group (a Ctrl-C on the
// terminal reaches the orchestrator only, which then stops the children in
// order). Only Linux can tie the child's life to the orchestrator's.
func sysProcAttr(bool) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// processArgs returns the command line of a running process (from ps; the
// arguments are split on spaces, which the testnet's paths rarely contain).
func processArgs(pid int) ([]string, error) {
	out, err := exec.Command("ps", "-p", strconv.Itoa(pid), "-o", "command=").Output()
	if err != nil {
		return nil, err
	}
	args := strings.Fields(string(out))
	if len(args) == 0 {
		return nil, errors.New("no such process")
	}
	return args, nil
}

// processCwd is not available here: relative --datadir paths are not
// resolved.
func processCwd(int) (string, error) {
	return "", errors.ErrUnsupported
}

// scanDataDirs maps the --datadir of every running shardlab process to its
// pid (from ps).
func scanDataDirs() map[string]int {
	out := make(map[string]int)
	b, err := exec.Command("ps", "-ax", "-o", "pid=", "-o", "command=").Output()
	if err != nil {
		return out
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		pid, err := strconv.Atoi(f[0])
		if err != nil {
			continue
		}
		if dd := dataDirArg(f[1:]); filepath.IsAbs(dd) {
			out[dd] = pid
		}
	}
	return out
}
