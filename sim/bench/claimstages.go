package bench

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// stageClock is what the claim stages need of the chain: the slot time,
// SLOTS_PER_EPOCH and SHARD_CHALLENGE_WINDOW (epochs).
type stageClock struct {
	slot        time.Duration
	spe, window uint64
}

// ClaimStages break the send-to-claim latency of the window's claimed
// cross-shard transfers down by slots (docs/benchmarks.md, "Where
// send-to-claim goes"). A transfer sent during slot s is included at slot
// i; its crosslink enters the beacon state at the transition into epoch
// epoch(i) + 2 (votes included in their epoch) or later, and is first seen
// in beacon slot c; the receipt can be claimed through beacon states at
// slot c + SHARD_CHALLENGE_WINDOW * SLOTS_PER_EPOCH or later (the first
// claimable slot); the claim lands in the destination's block of slot k,
// which the observer sees some time after k starts.
type ClaimStages struct {
	// N is the number of claimed transfers broken down.
	N int `json:"n"`
	// SendToIncluded, IncludedToCrosslink and ClaimableToClaim are slot
	// counts: i - s, c - i and k - (c + window); Observed is in seconds,
	// from the start of slot k to the claim being seen.
	SendToIncluded      SlotDist `json:"send_to_included_slots"`
	IncludedToCrosslink SlotDist `json:"included_to_crosslink_slots"`
	ClaimableToClaim    SlotDist `json:"claimable_to_claim_slots"`
	Observed            Latency  `json:"observed_s"`
	// LateCrosslinks is the share whose crosslink was seen at least one
	// epoch after the transition into epoch(i) + 2: its votes were included
	// an epoch late (the committee of an epoch's last slot), or its vote
	// named the wrong parent.
	LateCrosslinks float64 `json:"late_crosslinks"`
}

// SlotDist is a distribution of slot counts: its median, 90th percentile
// and how many transfers took each count.
type SlotDist struct {
	P50    int            `json:"p50"`
	P90    int            `json:"p90"`
	Counts map[int]uint64 `json:"counts"`
}

func newSlotDist(v []int) SlotDist {
	slices.Sort(v)
	d := SlotDist{Counts: make(map[int]uint64)}
	for _, x := range v {
		d.Counts[x]++
	}
	if len(v) > 0 {
		f := make([]float64, len(v))
		for i, x := range v {
			f[i] = float64(x)
		}
		d.P50, d.P90 = int(Percentile(f, 50)), int(Percentile(f, 90))
	}
	return d
}

// claimStages breaks down the claimed cross-shard transfers offered in
// [from, to) (tracker nanoseconds; tracker time 0 is slot 1's start); nil
// without a chain clock or a claimed transfer.
func claimStages(recs []txRecord, from, to int64, clk stageClock) *ClaimStages {
	if clk.slot <= 0 || clk.spe == 0 {
		return nil
	}
	var inc, link, claim []int
	var obs []float64
	late := 0
	for i := range recs {
		r := &recs[i]
		if r.offered < from || r.offered >= to || !r.cross() || r.claimed == never || r.crosslinked == never {
			continue
		}
		sent := uint64(r.offered/int64(clk.slot)) + 1
		inc = append(inc, int(r.slot)-int(sent))
		link = append(link, int(r.linkedAt)-int(r.slot))
		if r.linkedAt >= (r.slot/clk.spe+3)*clk.spe {
			late++
		}
		claim = append(claim, int(r.claimSlot)-int(r.linkedAt+clk.window*clk.spe))
		start := int64(r.claimSlot-1) * int64(clk.slot)
		obs = append(obs, float64(r.claimed-start)/float64(time.Second))
	}
	if len(inc) == 0 {
		return nil
	}
	return &ClaimStages{N: len(inc), SendToIncluded: newSlotDist(inc), IncludedToCrosslink: newSlotDist(link),
		ClaimableToClaim: newSlotDist(claim), Observed: newLatency(obs), LateCrosslinks: float64(late) / float64(len(inc))}
}

// writeClaimStages prints the claim stages of r in one line (nothing
// without them).
func writeClaimStages(w io.Writer, r *Result) {
	cs := r.Latency.ClaimStages
	if cs == nil {
		return
	}
	counts := func(d SlotDist) string {
		keys := make([]int, 0, len(d.Counts))
		for k := range d.Counts {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%d:%.0f%%", k, 100*float64(d.Counts[k])/float64(cs.N))
		}
		return strings.Join(parts, " ")
	}
	fmt.Fprintf(w, "claim stages in slots, p50/p90 (%d claims): send->included %d/%d, included->crosslink seen %d/%d (%.0f%% an epoch late), "+
		"claimable->claim block %d/%d [%s], block slot start->seen %.2fs/%.2fs\n",
		cs.N, cs.SendToIncluded.P50, cs.SendToIncluded.P90, cs.IncludedToCrosslink.P50, cs.IncludedToCrosslink.P90, 100*cs.LateCrosslinks,
		cs.ClaimableToClaim.P50, cs.ClaimableToClaim.P90, counts(cs.ClaimableToClaim), cs.Observed.P50, cs.Observed.P90)
}
