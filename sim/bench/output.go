package bench

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/shardlab/shardlab/beacon/params"
)

// Output files of a benchmark.
const (
	ResultsJSON = "results.json"
	ResultsCSV  = "results.csv"
	ReportHTML  = "report.html"
)

// Write writes results.json, results.csv and report.html into dir.
func (rs *Results) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	b, err := json.MarshalIndent(rs, "", "  ")
	if err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ResultsJSON), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	f, err := os.Create(filepath.Join(dir, ResultsCSV))
	if err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	if err := rs.WriteCSV(f); err != nil {
		f.Close()
		return fmt.Errorf("write results: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	h, err := os.Create(filepath.Join(dir, ReportHTML))
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := rs.WriteHTML(h); err != nil {
		h.Close()
		return fmt.Errorf("write report: %w", err)
	}
	return h.Close()
}

// csvHeader are the columns of results.csv, one row per run.
var csvHeader = []string{"shards", "slot_s", "cross_shard", "mode", "held_rate", "cap_tps",
	"offered_tps", "accepted_tps", "included_tps", "crosslinked_tps", "finalized_tps", "claimed_tps",
	"inclusion_p50_s", "inclusion_p90_s", "inclusion_p99_s", "crosslink_p50_s", "crosslink_p90_s", "crosslink_p99_s",
	"finality_p50_s", "finality_p90_s", "finality_p99_s", "claim_p50_s", "claim_p90_s", "claim_p99_s",
	"rejected", "failed", "cpu_seconds", "cpu_utilisation", "cpu_s_per_1000_tx", "max_rss_bytes", "net_bytes", "net_bytes_per_tx", "bottleneck", "engine", "chain_shards", "slots_per_epoch"}

// WriteCSV writes one row per run.
func (rs *Results) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
	for _, r := range rs.Runs {
		var rss uint64
		for _, p := range r.Processes {
			rss = max(rss, p.MaxRSS)
		}
		l := r.Latency
		row := []string{strconv.FormatUint(r.Point.Shards, 10), strconv.FormatUint(r.Point.SlotSeconds, 10), f(r.Point.CrossShard), r.Point.Mode,
			f(r.HeldRate), f(r.Cap), f(r.Rates.Offered), f(r.Rates.Accepted), f(r.Rates.Included), f(r.Rates.Crosslinked),
			f(r.Rates.Finalized), f(r.Rates.Claimed),
			f(l.Inclusion.P50), f(l.Inclusion.P90), f(l.Inclusion.P99), f(l.Crosslink.P50), f(l.Crosslink.P90), f(l.Crosslink.P99),
			f(l.Finality.P50), f(l.Finality.P90), f(l.Finality.P99), f(l.Claim.P50), f(l.Claim.P90), f(l.Claim.P99),
			strconv.FormatUint(r.Counts.Rejected, 10), strconv.FormatUint(r.Counts.Failed, 10), f(r.CPUSeconds), f(r.CPUUtil),
			f(r.CPUPer1000), strconv.FormatUint(rss, 10), strconv.FormatUint(r.NetBytes, 10), f(r.NetBytesPerTx), r.Bottleneck,
			r.Point.Engine, strconv.FormatUint(r.Point.ChainShards, 10), strconv.FormatUint(r.Point.SlotsPerEpoch, 10)}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteTable prints each run's figures and, for several runs, the scaling
// table.
func (rs *Results) WriteTable(w io.Writer) {
	for _, r := range rs.Runs {
		writeRun(w, rs.Machine, &r)
	}
	if len(rs.Runs) > 1 {
		fmt.Fprintln(w)
		WriteScaling(w, rs.Machine, rs.Runs)
	}
}

func writeRun(w io.Writer, m Machine, r *Result) {
	p := r.Point
	fmt.Fprintf(w, "\n%s%s, %ds slots, %.0f%% cross-shard, %s at %.0f tx/s (protocol cap %.0f tx/s, claims %.0f/s); window %.0fs-%.0fs\n",
		engineLabel(p), shardsLabel(p), p.SlotSeconds, 100*p.CrossShard, p.Mode, r.HeldRate, r.Cap, r.ClaimCap, r.WindowStart, r.WindowEnd)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "stage\ttx/s\tcount\tp50\tp90\tp99")
	rate := func(name string, v float64, n uint64, l *Latency) {
		if l == nil {
			fmt.Fprintf(tw, "%s\t%.1f\t%d\t\t\t\n", name, v, n)
			return
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%d\t%.2fs\t%.2fs\t%.2fs\n", name, v, n, l.P50, l.P90, l.P99)
	}
	rate("offered", r.Rates.Offered, r.Counts.Offered, nil)
	rate("accepted", r.Rates.Accepted, r.Counts.Accepted, nil)
	rate("included", r.Rates.Included, r.Counts.Included, &r.Latency.Inclusion)
	rate("crosslinked", r.Rates.Crosslinked, r.Counts.Crosslinked, &r.Latency.Crosslink)
	rate("finalized", r.Rates.Finalized, r.Counts.Finalized, &r.Latency.Finality)
	rate("claimed (x-shard)", r.Rates.Claimed, r.Counts.Claimed, &r.Latency.Claim)
	tw.Flush()
	writeClaimStages(w, r)
	if len(r.Rejections) > 0 {
		keys := make([]string, 0, len(r.Rejections))
		for k := range r.Rejections {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%s %d", k, r.Rejections[k])
		}
		fmt.Fprintf(w, "refused or failed (whole run): %s\n", strings.Join(parts, ", "))
	}
	if p.Engine == EngineSim {
		writeSimLines(w, r)
		return
	}
	var rss uint64
	for _, pr := range r.Processes {
		rss = max(rss, pr.MaxRSS)
	}
	fmt.Fprintf(w, "CPU: nodes %.1fs + benchmark %.1fs in the window = %.0f%% of %d cores (the machine: %.0f%% busy); %.2f CPU-s per 1,000 included tx; largest RSS %.0f MiB\n",
		r.CPUSeconds, r.BenchCPUSeconds, 100*r.CPUUtil, m.CPUs, 100*r.MachineCPUUtil, r.CPUPer1000, float64(rss)/(1<<20))
	fmt.Fprintf(w, "shard slots in the window: %d, %d without a canonical block, %d blocks full (%d transactions)\n",
		r.ShardSlots, r.EmptySlots, r.FullBlocks, params.MaxShardTransactions)
	fmt.Fprintf(w, "network: nodes sent %.1f MiB of libp2p stream bytes in the window (%.0f B per included tx)\n",
		float64(r.NetBytes)/(1<<20), r.NetBytesPerTx)
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	fmt.Fprintf(w, "submission: %d batch requests, round trip p50 %.3fs p99 %.3fs; largest backlog %d tx, %d pacer ticks without a signed transaction\n",
		r.BatchRTT.N, r.BatchRTT.P50, r.BatchRTT.P99, r.SubmitLagMax, r.Starved)
	for _, s := range r.Steps {
		mark := "ok"
		if !s.Sustainable {
			mark = "stop: " + s.Why
		}
		fmt.Fprintf(w, "  find-max %.0f tx/s: offered %.0f, accepted %.0f, included %.0f, p99 %.2fs: %s\n", s.Rate, s.Offered, s.Accepted, s.Included, s.P99, mark)
	}
	fmt.Fprintf(w, "bottleneck: %s\n", r.Bottleneck)
}

// Scaling is one row of the scaling table.
type Scaling struct {
	Shards      uint64
	CrossShard  float64
	SlotSeconds uint64
	Included    float64
	P50, P99    float64
	CPUPer1000  float64
	// Efficiency is Included / (shards x the 1-shard point's Included)
	// for the same cross-shard fraction and slot time (0 without one).
	Efficiency float64
	// PerCore is Included over the machine's cores.
	PerCore float64
	// Projection is the projected rate with one core per shard node:
	// PerCore x shard nodes, only where the run was CPU-bound.
	Projection float64
}

// ScalingRows computes the scaling table of a sweep.
func ScalingRows(m Machine, runs []Result) []Scaling {
	base := make(map[[2]float64]float64)
	for _, r := range runs {
		if r.Point.Shards == 1 {
			base[[2]float64{r.Point.CrossShard, float64(r.Point.SlotSeconds)}] = r.Rates.Included
		}
	}
	var out []Scaling
	for _, r := range runs {
		s := Scaling{Shards: r.Point.Shards, CrossShard: r.Point.CrossShard, SlotSeconds: r.Point.SlotSeconds, Included: r.Rates.Included,
			P50: r.Latency.Inclusion.P50, P99: r.Latency.Inclusion.P99, CPUPer1000: r.CPUPer1000}
		if b := base[[2]float64{r.Point.CrossShard, float64(r.Point.SlotSeconds)}]; b > 0 {
			s.Efficiency = r.Rates.Included / (float64(r.Point.Shards) * b)
		}
		if m.CPUs > 0 && r.Point.Engine != EngineSim { // the simulator measures no CPU
			s.PerCore = r.Rates.Included / float64(m.CPUs)
			if r.CPUUtil >= 0.9 {
				s.Projection = s.PerCore * float64(max(1, r.Point.ShardNodes))
			}
		}
		out = append(out, s)
	}
	return out
}

// WriteScaling prints the scaling table of a sweep.
func WriteScaling(w io.Writer, m Machine, runs []Result) {
	fmt.Fprintf(w, "scaling on this machine (%d cores: more shards add no cores here; per-core = included / %d):\n", m.CPUs, m.CPUs)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "shards\tx-shard\tslot\tincluded tx/s\tp50\tp99\tCPU-s/1000 tx\tefficiency\tper core\tprojection*")
	for _, s := range ScalingRows(m, runs) {
		eff, proj := "-", "-"
		if s.Efficiency > 0 {
			eff = fmt.Sprintf("%.0f%%", 100*s.Efficiency)
		}
		if s.Projection > 0 {
			proj = fmt.Sprintf("%.0f", s.Projection)
		}
		cpu, core := fmt.Sprintf("%.2f", s.CPUPer1000), fmt.Sprintf("%.1f", s.PerCore)
		if s.PerCore == 0 {
			cpu, core = "-", "-"
		}
		fmt.Fprintf(tw, "%d\t%.0f%%\t%ds\t%.1f\t%.2fs\t%.2fs\t%s\t%s\t%s\t%s\n", s.Shards, 100*s.CrossShard, s.SlotSeconds,
			s.Included, s.P50, s.P99, cpu, eff, core, proj)
	}
	tw.Flush()
	fmt.Fprintln(w, "* projection, not a measurement: per-core included tx/s x shard nodes, assuming one core per shard node\n  and linear scaling; shown only for CPU-bound runs.")
}

// WriteCompare prints the change of each run of rs against the run of old
// with the same configuration point.
func WriteCompare(w io.Writer, old, rs *Results) {
	key := func(p Point) string {
		return fmt.Sprintf("%d shards, %ds slots, %.0f%% cross-shard, %s", p.Shards, p.SlotSeconds, 100*p.CrossShard, p.Mode)
	}
	prev := make(map[string]*Result)
	for i := range old.Runs {
		prev[key(old.Runs[i].Point)] = &old.Runs[i]
	}
	pct := func(a, b float64) string {
		if a == 0 {
			return "n/a"
		}
		return fmt.Sprintf("%+.1f%%", 100*(b-a)/a)
	}
	fmt.Fprintf(w, "compared with %s:\n", old.Created.Format("2006-01-02 15:04"))
	for _, r := range rs.Runs {
		o := prev[key(r.Point)]
		if o == nil {
			fmt.Fprintf(w, "  %s: no earlier run\n", key(r.Point))
			continue
		}
		fmt.Fprintf(w, "  %s: included %.1f -> %.1f tx/s (%s), inclusion p50 %.2f -> %.2fs (%s), p99 %.2f -> %.2fs (%s), CPU-s/1000 tx %.2f -> %.2f (%s)\n",
			key(r.Point), o.Rates.Included, r.Rates.Included, pct(o.Rates.Included, r.Rates.Included),
			o.Latency.Inclusion.P50, r.Latency.Inclusion.P50, pct(o.Latency.Inclusion.P50, r.Latency.Inclusion.P50),
			o.Latency.Inclusion.P99, r.Latency.Inclusion.P99, pct(o.Latency.Inclusion.P99, r.Latency.Inclusion.P99),
			o.CPUPer1000, r.CPUPer1000, pct(o.CPUPer1000, r.CPUPer1000))
	}
}
