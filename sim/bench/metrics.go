package bench

import (
	"math"
	"slices"
	"time"
)

// Latency is a latency distribution in seconds.
type Latency struct {
	// N is the number of transactions that reached the stage; the
	// percentiles are over them (zero when N is 0).
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	// CDF holds the 0th, 5th, ..., 100th percentiles (the charts).
	CDF []float64 `json:"cdf,omitempty"`
}

// Percentile returns the p-th percentile (0..100) of sorted values by the
// nearest-rank method: the smallest value with at least p% of the values
// at or below it.
func Percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// newLatency summarises the values (seconds; sorted in place).
func newLatency(v []float64) Latency {
	slices.Sort(v)
	l := Latency{N: len(v), P50: Percentile(v, 50), P90: Percentile(v, 90), P99: Percentile(v, 99)}
	if len(v) > 0 {
		for p := 0; p <= 100; p += 5 {
			l.CDF = append(l.CDF, Percentile(v, float64(p)))
		}
	}
	return l
}

// Counts are the transactions offered in the window and how far they got
// by the end of the run.
type Counts struct {
	Offered, Accepted, Rejected, Failed uint64
	Included, Crosslinked, Finalized    uint64
	CrossShard, Claimed                 uint64
}

// Rates are transactions per second over the window.
type Rates struct {
	Offered     float64 `json:"offered"`
	Accepted    float64 `json:"accepted"`
	Included    float64 `json:"included"`
	Crosslinked float64 `json:"crosslinked"`
	Finalized   float64 `json:"finalized"`
	Claimed     float64 `json:"claimed"`
}

// Latencies are the stage latencies from submission.
type Latencies struct {
	Inclusion Latency `json:"inclusion"`
	Crosslink Latency `json:"crosslink"`
	Finality  Latency `json:"finality"`
	Claim     Latency `json:"claim"`
	// ClaimStages break Claim down (nil: no chain clock or no claim).
	ClaimStages *ClaimStages `json:"claim_stages,omitempty"`
}

// cohort computes the counts, rates and latencies of the transactions
// offered in [from, to) (tracker nanoseconds): each rate is the number of
// them that reached the stage by the end of the run, over the window's
// length; each latency is from the offer to the stage; the claim stages
// are measured with clk.
func cohort(recs []txRecord, from, to int64, clk stageClock) (Counts, Rates, Latencies) {
	var c Counts
	var inc, xl, fin, claim []float64
	sec := func(d int64) float64 { return float64(d) / float64(time.Second) }
	for i := range recs {
		r := &recs[i]
		if r.offered < from || r.offered >= to {
			continue
		}
		c.Offered++
		switch r.state {
		case txAccepted:
			c.Accepted++
		case txRejected:
			c.Rejected++
		case txFailed:
			c.Failed++
		}
		if r.cross() {
			c.CrossShard++
		}
		if r.included != never {
			c.Included++
			inc = append(inc, sec(r.included-r.offered))
		}
		if r.crosslinked != never {
			c.Crosslinked++
			xl = append(xl, sec(r.crosslinked-r.offered))
		}
		if r.finalized != never {
			c.Finalized++
			fin = append(fin, sec(r.finalized-r.offered))
		}
		if r.claimed != never {
			c.Claimed++
			claim = append(claim, sec(r.claimed-r.offered))
		}
	}
	w := sec(to - from)
	rate := func(n uint64) float64 {
		if w <= 0 {
			return 0
		}
		return float64(n) / w
	}
	return c, Rates{Offered: rate(c.Offered), Accepted: rate(c.Accepted), Included: rate(c.Included), Crosslinked: rate(c.Crosslinked),
			Finalized: rate(c.Finalized), Claimed: rate(c.Claimed)},
		Latencies{Inclusion: newLatency(inc), Crosslink: newLatency(xl), Finality: newLatency(fin), Claim: newLatency(claim),
			ClaimStages: claimStages(recs, from, to, clk)}
}

// stepStats are what find-max judges a step by: over [from, to), the
// offered and accepted rates (by offer time) and the included rate (by
// inclusion time), with the p99 of the inclusion latency of the
// transactions included then.
type stepStats struct {
	offered, accepted, included, p99 float64
}

func (t *tracker) step(from, to int64) stepStats {
	t.mu.Lock()
	var off, acc, inc uint64
	var lat []float64
	for _, r := range t.all {
		if r.offered >= from && r.offered < to {
			off++
			if r.state == txAccepted {
				acc++
			}
		}
		if r.included != never && r.included >= from && r.included < to {
			inc++
			lat = append(lat, float64(r.included-r.offered)/float64(time.Second))
		}
	}
	t.mu.Unlock()
	slices.Sort(lat)
	w := float64(to-from) / float64(time.Second)
	return stepStats{offered: float64(off) / w, accepted: float64(acc) / w, included: float64(inc) / w, p99: Percentile(lat, 99)}
}
