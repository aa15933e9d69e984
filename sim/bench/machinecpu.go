package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// machineCPU is the machine's CPU time so far from /proc/stat's "cpu"
// line, in clock ticks: all of it and the idle part (idle + iowait).
type machineCPU struct{ total, idle uint64 }

// readMachineCPU reads /proc/stat (ok false where it cannot).
func readMachineCPU() (machineCPU, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machineCPU{}, false
	}
	m, err := parseProcStat(string(b))
	return m, err == nil
}

// parseProcStat reads the aggregate "cpu" line of /proc/stat: user nice
// system idle iowait irq softirq steal (guest time is inside user).
func parseProcStat(s string) (machineCPU, error) {
	for line := range strings.SplitSeq(s, "\n") {
		f := strings.Fields(line)
		if len(f) < 9 || f[0] != "cpu" {
			continue
		}
		var v [8]uint64
		for i := range v {
			n, err := strconv.ParseUint(f[i+1], 10, 64)
			if err != nil {
				return machineCPU{}, fmt.Errorf("parse /proc/stat: field %d %q", i+1, f[i+1])
			}
			v[i] = n
		}
		m := machineCPU{idle: v[3] + v[4]}
		for _, x := range v {
			m.total += x
		}
		return m, nil
	}
	return machineCPU{}, fmt.Errorf("parse /proc/stat: no cpu line")
}

// busy is the share of the machine's CPU time between two readings that
// was not idle (0 when nothing passed).
func (m machineCPU) busy(after machineCPU) float64 {
	total := after.total - m.total
	if after.total <= m.total {
		return 0
	}
	return 1 - float64(after.idle-m.idle)/float64(total)
}
