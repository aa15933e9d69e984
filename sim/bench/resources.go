package bench

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shardlab/shardlab/sim/testnet"
)

// clockTicks is USER_HZ, the unit of /proc/PID/stat's CPU times: 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// procUsage is a process's CPU time so far (seconds) and resident set
// (bytes).
type procUsage struct {
	cpu float64
	rss uint64
}

// readUsage reads /proc/PID/stat and /proc/PID/status (pid 0: this
// process).
func readUsage(pid int) (procUsage, error) {
	dir := "/proc/self"
	if pid > 0 {
		dir = "/proc/" + strconv.Itoa(pid)
	}
	b, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return procUsage{}, fmt.Errorf("read process usage: %w", err)
	}
	u, err := parseStat(string(b))
	if err != nil {
		return u, err
	}
	if b, err = os.ReadFile(dir + "/status"); err == nil {
		u.rss = parseRSS(string(b))
	}
	return u, nil
}

// parseStat reads utime+stime of a /proc/PID/stat line (fields 14 and 15;
// the command, field 2, may hold spaces and parentheses).
func parseStat(s string) (procUsage, error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return procUsage{}, fmt.Errorf("parse /proc stat: no command field in %q", trunc(s))
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3
	if len(f) < 13 {
		return procUsage{}, fmt.Errorf("parse /proc stat: %d fields after the command", len(f))
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return procUsage{}, fmt.Errorf("parse /proc stat: utime %q stime %q", f[11], f[12])
	}
	return procUsage{cpu: float64(ut+stime) / clockTicks}, nil
}

// parseRSS reads VmRSS of /proc/PID/status, in bytes (0 if absent).
func parseRSS(s string) uint64 {
	for _, line := range strings.Split(s, "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) >= 1 {
				kb, err := strconv.ParseUint(f[0], 10, 64)
				if err == nil {
					return kb << 10
				}
			}
		}
	}
	return 0
}

func trunc(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

// sampler follows the testnet's processes: their CPU time on request and
// their largest resident set, sampled periodically.
type sampler struct {
	procs []*testnet.Process

	mu     sync.Mutex
	maxRSS map[int]uint64
}

// run samples the resident sets every interval until ctx ends.
func (s *sampler) run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for _, p := range s.procs {
			if pid := p.Pid(); pid > 0 {
				if u, err := readUsage(pid); err == nil {
					s.mu.Lock()
					if s.maxRSS == nil {
						s.maxRSS = make(map[int]uint64)
					}
					s.maxRSS[pid] = max(s.maxRSS[pid], u.rss)
					s.mu.Unlock()
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// reading is every process's CPU seconds and libp2p bytes so far (by pid;
// net only for the nodes whose metrics answered) and this process's CPU.
type reading struct {
	cpu  map[int]float64
	net  map[int]netBytes
	self float64
}

// read takes a reading.
func (s *sampler) read(ctx context.Context) reading {
	r := reading{cpu: make(map[int]float64), net: make(map[int]netBytes)}
	for _, p := range s.procs {
		pid := p.Pid()
		if pid <= 0 {
			continue
		}
		if u, err := readUsage(pid); err == nil {
			r.cpu[pid] = u.cpu
		}
		if b, ok := readBandwidth(ctx, p.Spec.MetricsPort); ok {
			r.net[pid] = b
		}
	}
	self, _ := readUsage(0)
	r.self = self.cpu
	return r
}

// usage returns each process's CPU and libp2p bytes between two readings
// and its largest resident set; netOK is false when some node's bytes
// could not be read.
func (s *sampler) usage(before, after reading) (out []ProcStats, netOK bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	netOK = true
	for _, p := range s.procs {
		pid := p.Pid()
		ps := ProcStats{Name: p.Spec.Name, Role: p.Spec.Role, Pid: pid, CPUSeconds: after.cpu[pid] - before.cpu[pid], MaxRSS: s.maxRSS[pid]}
		b0, ok0 := before.net[pid]
		b1, ok1 := after.net[pid]
		if ok0 && ok1 {
			ps.NetInBytes, ps.NetOutBytes = uint64(b1.in-b0.in), uint64(b1.out-b0.out)
		} else {
			netOK = false
		}
		out = append(out, ps)
	}
	return out, netOK
}
