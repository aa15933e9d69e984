package shardbench

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/shardlab/shardlab/beacon/corebench"
	"github.com/shardlab/shardlab/beacon/params"
)

// Options sizes the shard benchmarks.
type Options struct {
	// Cfg is the chain config; nil means params.Minimal().WithShards(), the
	// config of the shard tests (SHARD_COUNT 8). Accounts overrides its
	// SHARD_ACCOUNTS; a copy is used.
	Cfg        *params.Config
	Validators uint64 // beacon validators of the interop genesis (64)
	Runs       int    // measured runs per benchmark; the median is reported
	Accounts   uint64 // SHARD_ACCOUNTS of every shard (16,384)
	// Transfers is the number of transfers in the shard_exec block (1,024,
	// MAX_SHARD_TRANSACTIONS),
	// CrossShardPercent the share of them that are cross-shard sends (25).
	Transfers         int
	CrossShardPercent int
	// Claims is the number of claims in the claim_verify block (128);
	// ChainLengths the crosslink-chain lengths measured ({1, 4}).
	Claims       int
	ChainLengths []int
	// FraudTransfers is the number of transfers in the fraudulent block
	// (1,024: a block at MAX_SHARD_TRANSACTIONS).
	FraudTransfers int
	// Only, when non-empty, selects benchmarks by name prefix (shard_exec,
	// claim_verify, fraud_proof); "shard" selects them all.
	Only string
	// Progress, if set, is told which benchmark is being prepared or run.
	Progress func(msg string)
}

// DefaultOptions are the sizes the targets are stated for.
func DefaultOptions() Options {
	return Options{
		Validators: 64, Runs: 7, Accounts: 16_384, Transfers: params.MaxShardTransactions, CrossShardPercent: 25,
		Claims: params.MaxShardClaims, ChainLengths: []int{1, 4}, FraudTransfers: params.MaxShardTransactions,
	}
}

// Group is the --only value that selects every shard benchmark.
const Group = "shard"

// Result is a corebench.Result with the figures that are not durations:
// rates (…_per_s), sizes (…_bytes) and counts, by name.
type Result struct {
	corebench.Result
	Extra map[string]float64 `json:"extra,omitempty"`
}

// Selected reports whether a benchmark name is selected by only.
func Selected(only, name string) bool {
	return only == "" || only == Group || strings.HasPrefix(name, only)
}

// Run measures the shard benchmarks and returns their results in order.
func Run(opts Options) ([]Result, error) {
	def := DefaultOptions()
	if opts.Runs < 1 {
		return nil, fmt.Errorf("shard benchmarks: runs must be at least 1")
	}
	if opts.Validators == 0 {
		opts.Validators = def.Validators
	}
	if opts.Accounts == 0 {
		opts.Accounts = def.Accounts
	}
	if opts.Transfers == 0 {
		opts.Transfers = def.Transfers
	}
	if opts.Claims == 0 {
		opts.Claims = def.Claims
	}
	if opts.ChainLengths == nil {
		opts.ChainLengths = def.ChainLengths
	}
	if opts.FraudTransfers == 0 {
		opts.FraudTransfers = def.FraudTransfers
	}
	if opts.CrossShardPercent < 0 || opts.CrossShardPercent > 100 {
		return nil, fmt.Errorf("shard benchmarks: cross-shard percentage %d is not in [0, 100]", opts.CrossShardPercent)
	}
	for _, n := range []int{opts.Transfers, opts.FraudTransfers, opts.Claims} {
		if n < 1 || n > params.MaxShardTransactions {
			return nil, fmt.Errorf("shard benchmarks: %d transfers or claims: must be between 1 and %d", n, params.MaxShardTransactions)
		}
	}
	if opts.Claims > params.MaxShardClaims {
		return nil, fmt.Errorf("shard benchmarks: %d claims: a block holds at most %d", opts.Claims, params.MaxShardClaims)
	}
	for _, l := range opts.ChainLengths {
		if l < 1 || l > params.MaxCrosslinkChain {
			return nil, fmt.Errorf("shard benchmarks: crosslink chain of %d: must be between 1 and %d", l, params.MaxCrosslinkChain)
		}
	}
	if opts.Accounts < 2 {
		return nil, fmt.Errorf("shard benchmarks: need at least 2 accounts")
	}
	progress := opts.Progress
	if progress == nil {
		progress = func(string) {}
	}
	// A group runs when some of its benchmarks are selected; the results
	// are filtered by name.
	want := func(group string) bool {
		return Selected(opts.Only, group) || strings.HasPrefix(opts.Only, group)
	}
	if !want("shard_exec") && !want("claim_verify") && !want("fraud_proof") {
		return nil, nil
	}

	progress(fmt.Sprintf("shard: interop genesis of %d validators, shard genesis states of %d accounts", opts.Validators, opts.Accounts))
	c, err := NewChain(opts.Cfg, opts.Validators, opts.Accounts)
	if err != nil {
		return nil, err
	}
	// Everything measured is single-threaded: one core for all of it.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))

	var out []Result
	if want("shard_exec") {
		progress(fmt.Sprintf("shard_exec: signing %d transfers", opts.Transfers))
		rs, err := benchExec(c, opts)
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	if want("claim_verify") {
		progress(fmt.Sprintf("claim_verify: %d receipts, crosslink chains of %v", opts.Claims, opts.ChainLengths))
		rs, err := benchClaims(c, opts)
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	if want("fraud_proof") {
		progress(fmt.Sprintf("fraud_proof: block of %d transfers with a wrong state root", opts.FraudTransfers))
		rs, err := benchFraud(c, opts)
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	return slices.DeleteFunc(out, func(r Result) bool { return !Selected(opts.Only, r.Name) }), nil
}

// timed is one benchmark of an interleaved group: setup is untimed, fn timed.
type timed struct {
	setup func() error
	fn    func() error
}

// measureRounds runs the benchmarks of a group round by round, one run of
// each per round, after an untimed warm-up round, and returns each one's
// samples. Every timed run starts after a garbage collection, so that no
// benchmark pays for another's garbage.
func measureRounds(runs int, bs ...timed) ([][]time.Duration, error) {
	out := make([][]time.Duration, len(bs))
	for r := -1; r < runs; r++ {
		for i, b := range bs {
			if b.setup != nil {
				if err := b.setup(); err != nil {
					return nil, err
				}
			}
			runtime.GC()
			start := time.Now()
			err := b.fn()
			d := time.Since(start)
			if err != nil {
				return nil, err
			}
			if r >= 0 {
				out[i] = append(out[i], d)
			}
		}
	}
	return out, nil
}

func newResult(name, detail string, samples []time.Duration) Result {
	return Result{Result: corebench.NewResult(name, detail, samples), Extra: map[string]float64{}}
}

// perSecond is how many items of a batch of n taking d are done per second.
func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// scale divides every sample by n (per-item times of a batch of n).
func scale(s []time.Duration, n int) []time.Duration {
	out := make([]time.Duration, len(s))
	for i, d := range s {
		out[i] = d / time.Duration(n)
	}
	return out
}
