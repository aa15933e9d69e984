package bench

import (
	"math"
	"testing"
)

func TestParseProcStat(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		in          string
		total, idle uint64
		bad         bool
	}{
		{name: "kernel line", in: "cpu  100 5 50 800 20 1 2 3 0 0\ncpu0 50 2 25 400 10 0 1 1 0 0\n", total: 981, idle: 820},
		{name: "no cpu line", in: "intr 1 2 3\n", bad: true},
		{name: "bad field", in: "cpu  1 2 x 4 5 6 7 8\n", bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := parseProcStat(tc.in)
			if (err != nil) != tc.bad || (!tc.bad && (m.total != tc.total || m.idle != tc.idle)) {
				t.Fatalf("got %+v, %v; want total %d idle %d, error %v", m, err, tc.total, tc.idle, tc.bad)
			}
		})
	}
	a, b := machineCPU{total: 1000, idle: 600}, machineCPU{total: 1400, idle: 700}
	if got := a.busy(b); math.Abs(got-0.75) > 1e-9 {
		t.Fatalf("busy %v, want 0.75", got)
	}
	if got := b.busy(a); got != 0 {
		t.Fatalf("busy backwards %v, want 0", got)
	}
}
