package corebench

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/bls"
)

// Options sizes the core benchmarks.
type Options struct {
	// Cfg is the chain config, mainnet by default (the targets' shape).
	Cfg        *params.Config
	Runs       int    // measured runs per benchmark; the median is reported
	Validators uint64 // registry size of the epoch, state-root and block benchmarks
	ShuffleN   uint32 // list length of the shuffle benchmark
	// Attestations is the number of full-committee attestations in the block.
	Attestations int
	// Only, when non-empty, selects benchmarks by name prefix
	// (shuffle, epoch, state_root, block).
	Only string
	// Progress, if set, is told which benchmark is being prepared or run.
	Progress func(msg string)
}

// DefaultOptions are the sizes the targets are stated for.
func DefaultOptions() Options {
	return Options{Cfg: params.Mainnet(), Runs: 7, Validators: 100_000, ShuffleN: 1 << 20, Attestations: 128}
}

// Result is one measured benchmark: the median of the runs, with the
// spread, and an optional baseline measured in the same process.
type Result struct {
	Name    string          `json:"name"`
	Detail  string          `json:"detail"`
	Runs    int             `json:"runs"`
	Median  time.Duration   `json:"median_ns"`
	Min     time.Duration   `json:"min_ns"`
	Max     time.Duration   `json:"max_ns"`
	Samples []time.Duration `json:"samples_ns"`
	// Baseline is the median of the comparison named BaselineName, when the
	// benchmark has one; Ratio is Median / Baseline.
	BaselineName string        `json:"baseline_name,omitempty"`
	Baseline     time.Duration `json:"baseline_ns,omitempty"`
	Ratio        float64       `json:"ratio,omitempty"`
	// Target is the stated goal, TargetMet whether the median meets it.
	Target    string `json:"target"`
	TargetMet bool   `json:"target_met"`
}

// measure runs setup (untimed) and fn (timed) runs times.
func measure(runs int, setup func() error, fn func() error) ([]time.Duration, error) {
	out := make([]time.Duration, 0, runs)
	for i := 0; i < runs; i++ {
		if setup != nil {
			if err := setup(); err != nil {
				return nil, err
			}
		}
		start := time.Now()
		if err := fn(); err != nil {
			return nil, err
		}
		out = append(out, time.Since(start))
	}
	return out, nil
}

// Median is the median of s (the mean of the middle two for an even count).
func Median(s []time.Duration) time.Duration {
	c := slices.Clone(s)
	slices.Sort(c)
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}

// NewResult summarises the samples of benchmark name.
func NewResult(name, detail string, samples []time.Duration) Result {
	return Result{Name: name, Detail: detail, Runs: len(samples), Median: Median(samples),
		Min: slices.Min(samples), Max: slices.Max(samples), Samples: samples}
}

// WithBaseline records the median of a baseline's samples, measured in the
// same run, and the ratio of r's median to it.
func (r *Result) WithBaseline(name string, samples []time.Duration) {
	r.BaselineName = name
	r.Baseline = Median(samples)
	r.Ratio = float64(r.Median) / float64(r.Baseline)
}

// Run measures the core benchmarks and returns their results in order.
func Run(opts Options) ([]Result, error) {
	if opts.Runs < 1 {
		return nil, fmt.Errorf("core benchmarks: runs must be at least 1")
	}
	if opts.Cfg == nil {
		opts.Cfg = params.Mainnet()
	}
	if opts.Attestations == 0 {
		opts.Attestations = 128
	}
	progress := opts.Progress
	if progress == nil {
		progress = func(string) {}
	}
	want := func(name string) bool {
		return opts.Only == "" || len(name) >= len(opts.Only) && name[:len(opts.Only)] == opts.Only
	}
	var out []Result
	if want("shuffle") {
		progress("shuffle")
		r, err := benchShuffle(opts)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if want("epoch") {
		progress("epoch transition: building the state")
		r, err := benchEpoch(opts)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if want("state_root") {
		progress("state root: building the state")
		r, err := benchStateRoot(opts)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if want("block") {
		progress(fmt.Sprintf("block: deriving %d keys and signing %d attestations", opts.Validators, opts.Attestations))
		rs, err := benchBlock(opts)
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	return out, nil
}

func benchShuffle(opts Options) (Result, error) {
	var seed types.Root
	copy(seed[:], "shardlab shuffle benchmark seed.")
	rounds := opts.Cfg.ShuffleRoundCount
	fast, err := measure(opts.Runs, nil, func() error { core.ShufflePositions(opts.ShuffleN, seed, rounds); return nil })
	if err != nil {
		return Result{}, err
	}
	plain, err := measure(opts.Runs, nil, func() error { plainShuffle(opts.ShuffleN, seed, rounds); return nil })
	if err != nil {
		return Result{}, err
	}
	// The two must agree, or the comparison means nothing.
	if !slices.Equal(core.ShufflePositions(1000, seed, rounds), plainShuffle(1000, seed, rounds)) {
		return Result{}, fmt.Errorf("shuffle benchmark: baseline and optimised shuffles differ")
	}
	r := NewResult("shuffle", fmt.Sprintf("whole-list swap-or-not shuffle of %d indices, %d rounds", opts.ShuffleN, rounds), fast)
	r.WithBaseline("plain single pass", plain)
	r.Target = "<= 120ms at 1,048,576 indices"
	r.TargetMet = opts.ShuffleN != 1<<20 || r.Median <= 120*time.Millisecond
	return r, nil
}

// plainShuffle is the straightforward whole-list shuffle used as the
// baseline: each round visits every index once, computing its flip and bit
// and writing out of place, with the round's source hashes precomputed.
func plainShuffle(n uint32, seed types.Root, rounds uint64) []uint32 {
	cur := make([]uint32, n)
	next := make([]uint32, n)
	for i := range cur {
		cur[i] = uint32(i)
	}
	if n < 2 {
		return cur
	}
	var buf [37]byte
	copy(buf[:32], seed[:])
	sources := make([][32]byte, (n+255)/256)
	for r := int(rounds) - 1; r >= 0; r-- {
		buf[32] = byte(r)
		h := sha256.Sum256(buf[:33])
		pivot := binary.LittleEndian.Uint64(h[:8]) % uint64(n)
		for b := range sources {
			binary.LittleEndian.PutUint32(buf[33:], uint32(b))
			sources[b] = sha256.Sum256(buf[:])
		}
		for i := uint64(0); i < uint64(n); i++ {
			flip := (pivot + uint64(n) - i) % uint64(n)
			pos := max(i, flip)
			if sources[pos>>8][(pos&0xff)>>3]>>(pos&7)&1 == 1 {
				next[i] = cur[flip]
			} else {
				next[i] = cur[i]
			}
		}
		cur, next = next, cur
	}
	return cur
}

func benchEpoch(opts Options) (Result, error) {
	f, err := NewEpochFixture(opts.Cfg, int(opts.Validators))
	if err != nil {
		return Result{}, err
	}
	var st *types.BeaconState
	var tr *core.Transition
	// A running node has the previous and current epochs' shufflings cached
	// from block processing; the next epoch's is computed by the transition.
	setup := func() error {
		st = f.State.Copy()
		tr = core.New(f.Cfg)
		for _, e := range []types.Epoch{tr.PreviousEpoch(st), tr.CurrentEpoch(st)} {
			if _, err := tr.Committees(st, e); err != nil {
				return err
			}
		}
		return nil
	}
	s, err := measure(opts.Runs, setup, func() error { return tr.ProcessEpoch(st) })
	if err != nil {
		return Result{}, err
	}
	r := NewResult("epoch", fmt.Sprintf("process_epoch, %d validators, %s config, full participation", opts.Validators, opts.Cfg.Name), s)
	r.Target = "<= 400ms at 100,000 validators"
	r.TargetMet = opts.Validators != 100_000 || r.Median <= 400*time.Millisecond
	return r, nil
}

func benchStateRoot(opts Options) (Result, error) {
	f, err := NewEpochFixture(opts.Cfg, int(opts.Validators))
	if err != nil {
		return Result{}, err
	}
	base := f.State
	base.Slot -= 10
	if _, err := base.HashTreeRoot(); err != nil {
		return Result{}, err
	}
	var st *types.BeaconState
	slot := func(full bool) func() error {
		return func() error {
			st = base.Copy()
			if err := f.Tr.ProcessSlot(st); err != nil {
				return err
			}
			st.Slot++
			if full {
				st.DropCache()
			}
			return nil
		}
	}
	hashIt := func() error { _, err := st.HashTreeRoot(); return err }
	inc, err := measure(opts.Runs, slot(false), hashIt)
	if err != nil {
		return Result{}, err
	}
	full, err := measure(max(opts.Runs/2, 1), slot(true), hashIt)
	if err != nil {
		return Result{}, err
	}
	r := NewResult("state_root", fmt.Sprintf("hash_tree_root after one slot, %d validators, %s config", opts.Validators, opts.Cfg.Name), inc)
	r.WithBaseline("full rehash", full)
	r.Target = "<= 20ms at 100,000 validators"
	r.TargetMet = opts.Validators != 100_000 || r.Median <= 20*time.Millisecond
	return r, nil
}

func benchBlock(opts Options) ([]Result, error) {
	f, err := NewBlockFixture(opts.Cfg, opts.Validators, opts.Attestations)
	if err != nil {
		return nil, err
	}
	w, err := f.NewSignatureWork()
	if err != nil {
		return nil, err
	}
	var st *types.BeaconState
	setup := func() error { st = f.Pre.Copy(); return nil }
	withSigs, err := measure(opts.Runs, setup, func() error { return f.Process(st, core.VerifySigs) })
	if err != nil {
		return nil, err
	}
	blsOnly, err := measure(opts.Runs, nil, w.Run)
	if err != nil {
		return nil, err
	}
	batched, err := measure(opts.Runs, setup, func() error {
		b := bls.NewBatch()
		if err := f.Process(st, core.BatchSigs(b)); err != nil {
			return err
		}
		return b.Verify()
	})
	if err != nil {
		return nil, err
	}
	noSigs, err := measure(opts.Runs, setup, func() error { return f.Process(st, core.SkipSigs) })
	if err != nil {
		return nil, err
	}
	detail := fmt.Sprintf("process_block, %d attestations of full committees, %d validators, %s config", opts.Attestations, opts.Validators, opts.Cfg.Name)
	main := NewResult("block", detail+", signatures verified one by one", withSigs)
	main.WithBaseline("the same BLS checks alone", blsOnly)
	main.Target = "overhead beyond BLS <= 25%"
	main.TargetMet = main.Ratio <= 1.25
	b := NewResult("block_batched", detail+", signatures batch-verified on all cores", batched)
	b.WithBaseline("verified one by one", withSigs)
	n := NewResult("block_no_sigs", detail+", signatures skipped", noSigs)
	return []Result{main, b, n}, nil
}
