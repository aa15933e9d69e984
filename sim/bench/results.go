package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

// Sample is one second of a run (T seconds after the load started):
// the target offered rate then, and the transactions offered, accepted
// and included (seen in a canonical block) during that second.
type Sample struct {
	T        float64 `json:"t"`
	Rate     float64 `json:"rate"`
	Offered  float64 `json:"offered"`
	Accepted float64 `json:"accepted"`
	Included float64 `json:"included"`
}

// Step is one rate find-max tried.
type Step struct {
	Rate        float64 `json:"rate"`
	Offered     float64 `json:"offered"`
	Accepted    float64 `json:"accepted"`
	Included    float64 `json:"included"`
	P99         float64 `json:"p99_inclusion_s"`
	Sustainable bool    `json:"sustainable"`
	Why         string  `json:"why,omitempty"`
}

// ProcStats are one process's resources over the window.
type ProcStats struct {
	Name string `json:"name"`
	Role string `json:"role"`
	Pid  int    `json:"pid"`
	// CPUSeconds is user+system CPU time spent in the window; MaxRSS the
	// largest resident set sampled during the run.
	CPUSeconds float64 `json:"cpu_seconds"`
	MaxRSS     uint64  `json:"max_rss_bytes"`
	// NetInBytes and NetOutBytes are the libp2p stream bytes received and
	// sent in the window (p2p.BandwidthMetric).
	NetInBytes  uint64 `json:"net_in_bytes"`
	NetOutBytes uint64 `json:"net_out_bytes"`
}

// Point is the configuration of one run.
type Point struct {
	Shards      uint64  `json:"shards"`
	SlotSeconds uint64  `json:"slot_seconds"`
	CrossShard  float64 `json:"cross_shard"`
	// Mode is "fixed", "ramp" or "find-max"; Rate the fixed (or ramp's
	// final, or find-max's first) rate.
	Mode        string  `json:"mode"`
	Rate        float64 `json:"rate"`
	Accounts    uint64  `json:"accounts"`
	Zipf        float64 `json:"zipf"`
	BeaconNodes int     `json:"beacon_nodes"`
	ShardNodes  int     `json:"shard_nodes"`
	Validators  uint64  `json:"validators"`
	Preset      string  `json:"preset"`
	Warmup      float64 `json:"warmup_s"`
	Duration    float64 `json:"duration_s"`
	// Engine is "testnet" (real processes) or "sim" (the deterministic
	// simulator: protocol-level figures, no CPU); empty in older results.
	Engine string `json:"engine,omitempty"`
	// ChainShards and SlotsPerEpoch are the chain's SHARD_COUNT and
	// SLOTS_PER_EPOCH: below the preset's SLOTS_PER_EPOCH a point gets its
	// own config and, at 1 shard, a chain of 2 with 1 loaded (FitShards).
	ChainShards   uint64 `json:"chain_shards,omitempty"`
	SlotsPerEpoch uint64 `json:"slots_per_epoch,omitempty"`
}

// Result is the outcome of one run.
type Result struct {
	Point Point `json:"config"`
	// Cap is the protocol's cap: MAX_SHARD_TRANSACTIONS x shards / slot
	// time, in transactions per second.
	Cap float64 `json:"protocol_cap_tps"`
	// ClaimCap is the cap on cross-shard claims: MAX_SHARD_CLAIMS x
	// shards / slot time.
	ClaimCap float64 `json:"claim_cap_tps"`
	// WindowStart and WindowEnd bound the measured window, in seconds
	// after the load started.
	WindowStart float64 `json:"window_start_s"`
	WindowEnd   float64 `json:"window_end_s"`
	// HeldRate is the offered rate during the window (find-max: the
	// highest sustainable one).
	HeldRate   float64           `json:"held_rate"`
	Rates      Rates             `json:"tps"`
	Counts     Counts            `json:"counts"`
	Latency    Latencies         `json:"latency_s"`
	Rejections map[string]uint64 `json:"rejections"`
	Processes  []ProcStats       `json:"processes"`
	// CPUSeconds sums the nodes' CPU in the window; CPUUtil is it over
	// the window times the machine's cores; CPUPer1000 per thousand
	// included transactions; BenchCPUSeconds is the benchmark's own.
	CPUSeconds      float64 `json:"cpu_seconds"`
	CPUUtil         float64 `json:"cpu_utilisation"`
	CPUPer1000      float64 `json:"cpu_seconds_per_1000_tx"`
	BenchCPUSeconds float64 `json:"bench_cpu_seconds"`
	// MachineCPUUtil is the share of the machine's CPU time (/proc/stat,
	// every process) that was busy in the window: near 1 while CPUUtil is
	// low means other processes held the cores.
	MachineCPUUtil float64 `json:"machine_cpu_utilisation,omitempty"`
	// SubmitLagMax is the largest backlog of transactions due but not yet
	// offered (generator or submission behind); Starved the pacer ticks
	// that found no signed transaction.
	SubmitLagMax uint64 `json:"submit_lag_max"`
	// BatchRTT is the round trip of the batch requests (the whole run).
	BatchRTT Latency `json:"batch_rtt_s"`
	Starved  uint64  `json:"starved_ticks"`
	// Bottleneck names what saturated first, as judged in bottleneck().
	Bottleneck string   `json:"bottleneck"`
	Steps      []Step   `json:"find_max_steps,omitempty"`
	Timeline   []Sample `json:"timeline"`
	// ShardSlots counts the (shard, slot) pairs of the window's slots read,
	// EmptySlots those without a canonical block (a proposal missed or
	// orphaned), FullBlocks the blocks holding MAX_SHARD_TRANSACTIONS.
	ShardSlots int `json:"shard_slots"`
	EmptySlots int `json:"empty_shard_slots"`
	FullBlocks int `json:"full_blocks"`
	// NetBytes sums the nodes' libp2p stream bytes sent in the window;
	// NetBytesPerTx is it per included transaction.
	NetBytes      uint64  `json:"net_bytes"`
	NetBytesPerTx float64 `json:"net_bytes_per_tx"`
	// SimTrace is the simulator's trace hash (engine sim): the same
	// config and seeds give the same hash and figures.
	SimTrace string `json:"sim_trace_hash,omitempty"`
	// Profiles are the CPU profiles of the window (Config.CPUProfile).
	Profiles []Profile `json:"cpu_profiles,omitempty"`
	// Notes say what could not be measured.
	Notes []string `json:"notes,omitempty"`
}

// Machine describes where the benchmark ran.
type Machine struct {
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpu_model"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	GoVersion string `json:"go_version"`
	MemTotal  uint64 `json:"mem_total_bytes"`
}

// Results is results.json: every run of one invocation.
type Results struct {
	Created time.Time `json:"created"`
	Command string    `json:"command"`
	Machine Machine   `json:"machine"`
	Runs    []Result  `json:"runs"`
}

// ThisMachine describes the running machine.
func ThisMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), OS: runtime.GOOS, Arch: runtime.GOARCH, GoVersion: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb uint64
		for _, line := range strings.Split(string(b), "\n") {
			if _, err := fmt.Sscanf(line, "MemTotal: %d kB", &kb); err == nil {
				m.MemTotal = kb << 10
				break
			}
		}
	}
	return m
}

// ReadResults reads a results.json.
func ReadResults(path string) (*Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("read results %s: %w", path, err)
	}
	return &r, nil
}
