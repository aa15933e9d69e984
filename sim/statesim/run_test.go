package statesim

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shardlab/shardlab/beacon/params"
)

func runSim(t *testing.T, cfg Config) *Result {
	t.Helper()
	res, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestRunFinalizes runs 64 minimal-preset validators for 8 epochs at full
// and 90% participation. A report describes the state after the epoch
// processing of its epoch, so with every block present epoch e is justified
// by its own end from epoch 2 on and finalized one epoch later; the test
// asks for the looser finalized >= e-3 from epoch 4 and justified >= e-1
// from epoch 2.
func TestRunFinalizes(t *testing.T) {
	t.Parallel()
	for _, p := range []float64{1, 0.9} {
		cfg := DefaultConfig()
		cfg.Participation = p
		res := runSim(t, cfg)
		if len(res.Reports) != 8 {
			t.Fatalf("p=%v: %d reports, want 8", p, len(res.Reports))
		}
		if res.Blocks != 63 || res.Final.Slot != 63 {
			t.Fatalf("p=%v: %d blocks, final slot %d; want 63 and 63", p, res.Blocks, res.Final.Slot)
		}
		crosslinks := 0
		for i, r := range res.Reports {
			e := uint64(i)
			t.Logf("p=%v: %s", p, r)
			if r.Epoch != e {
				t.Fatalf("report %d is of epoch %d", i, r.Epoch)
			}
			if e >= 2 && r.JustifiedEpoch+1 < e {
				t.Errorf("p=%v epoch %d: justified epoch %d lags", p, e, r.JustifiedEpoch)
			}
			if e >= 4 && r.FinalizedEpoch+3 < e {
				t.Errorf("p=%v epoch %d: finalized epoch %d lags by more than 3", p, e, r.FinalizedEpoch)
			}
			if r.Duties != 64 || r.Shards != 8 {
				t.Errorf("p=%v epoch %d: %d duties of %d shards, want 64 and 8", p, e, r.Duties, r.Shards)
			}
			wantBlocks := 8
			if e == 0 {
				wantBlocks = 7 // slot 0 is genesis
			}
			if r.Blocks != wantBlocks {
				t.Errorf("p=%v epoch %d: %d blocks, want %d", p, e, r.Blocks, wantBlocks)
			}
			if p == 1 {
				if r.Attesters != r.Duties || (e >= 1 && r.Participation != 1) {
					t.Errorf("p=1 epoch %d: %d of %d attesters, participation %v", e, r.Attesters, r.Duties, r.Participation)
				}
			} else if e >= 1 && (r.Participation < 0.75 || r.Participation >= 1 || r.Attesters >= r.Duties) {
				t.Errorf("p=0.9 epoch %d: participation %v, %d of %d attesters", e, r.Participation, r.Attesters, r.Duties)
			}
			if r.Timing.EpochMS <= 0 || r.Timing.SlotMeanMS <= 0 {
				t.Errorf("p=%v epoch %d: no timing %+v", p, e, r.Timing)
			}
			crosslinks += r.CrosslinksUpdated
		}
		last := res.Reports[len(res.Reports)-1]
		if last.JustifiedEpoch != 7 || last.FinalizedEpoch < 5 {
			t.Errorf("p=%v: ends justified %d finalized %d", p, last.JustifiedEpoch, last.FinalizedEpoch)
		}
		if crosslinks < 8*len(res.Reports)/2 {
			t.Errorf("p=%v: only %d crosslink updates in %d epochs", p, crosslinks, len(res.Reports))
		}
		for sh, cl := range res.Final.CurrentCrosslinks {
			if cl.EndEpoch < 5 {
				t.Errorf("p=%v: shard %d last crosslinked up to epoch %d", p, sh, cl.EndEpoch)
			}
		}
	}
}

func TestRunDeterministic(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.Epochs = 4
	cfg.Participation = 0.9
	cfg.Seed = 7
	a, b := runSim(t, cfg), runSim(t, cfg)
	if diff := cmp.Diff(a.Deterministic(), b.Deterministic()); diff != "" {
		t.Fatalf("same seed, different reports (-first +second):\n%s", diff)
	}
	if a.HeadRoot != b.HeadRoot {
		t.Fatal("same seed, different heads")
	}
	// Timings are measured, so the full reports need not be equal, but
	// Deterministic must have dropped exactly them.
	for _, r := range a.Deterministic() {
		if r.Timing != (Timing{}) {
			t.Fatal("Deterministic kept timings")
		}
	}

	cfg.Seed = 8
	c := runSim(t, cfg)
	if c.HeadRoot == a.HeadRoot {
		t.Fatal("different seeds gave the same chain")
	}
	samePattern := true
	for i := range a.Reports {
		if a.Reports[i].Attesters != c.Reports[i].Attesters || a.Reports[i].StateRoot != c.Reports[i].StateRoot {
			samePattern = false
		}
	}
	if samePattern {
		t.Fatal("different seeds gave the same participation pattern")
	}
}

func TestRunOnEpochAndCancel(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.Epochs = 3
	var seen []uint64
	stop := errors.New("stop")
	_, err := Run(context.Background(), cfg, func(r EpochReport) error {
		seen = append(seen, r.Epoch)
		if r.Epoch == 1 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || len(seen) != 2 {
		t.Fatalf("err = %v after epochs %v; want the callback's error after epochs 0 and 1", err, seen)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, cfg, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run: err = %v", err)
	}
}

// TestRunCustomConfig runs a custom chain config: 16 shards, 4-slot epochs.
func TestRunCustomConfig(t *testing.T) {
	t.Parallel()
	chain := params.Minimal()
	chain.Name = "custom"
	chain.ShardCount = 16
	chain.SlotsPerEpoch = 4
	chain.MinGenesisActiveValidatorCount = 32
	if err := chain.Validate(); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Chain: chain, Validators: 32, Epochs: 6, Participation: 1, Seed: 3, SkipDepositSignatures: true}
	res := runSim(t, cfg)
	if res.Blocks != 23 || len(res.Reports) != 6 {
		t.Fatalf("%d blocks, %d reports", res.Blocks, len(res.Reports))
	}
	last := res.Reports[5]
	if last.Shards != 16 || last.JustifiedEpoch != 5 || last.FinalizedEpoch != 4 {
		t.Fatalf("last report %s", last)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	nan := 0.0
	nan /= nan
	tests := []struct {
		name string
		edit func(*Config)
		want string // "" for valid
	}{
		{"default", func(*Config) {}, ""},
		{"participation 0", func(c *Config) { c.Participation = 0 }, "participation 0 is outside (0, 1]"},
		{"participation above 1", func(c *Config) { c.Participation = 1.5 }, "participation 1.5 is outside (0, 1]"},
		{"participation NaN", func(c *Config) { c.Participation = nan }, "outside (0, 1]"},
		{"too few validators", func(c *Config) { c.Validators = 63 }, "63 validators is below MIN_GENESIS_ACTIVE_VALIDATOR_COUNT of the minimal config: at least 64 are needed"},
		{"mainnet needs more", func(c *Config) { c.Chain = params.Mainnet() }, "at least 65536 are needed"},
		{"no epochs", func(c *Config) { c.Epochs = 0 }, "at least one epoch"},
		{"no chain", func(c *Config) { c.Chain = nil }, "no chain config"},
		{"one-slot epochs", func(c *Config) { c.Chain = params.Minimal(); c.Chain.SlotsPerEpoch = 1 }, "SLOTS_PER_EPOCH 1 cannot run"},
		{"too many epochs", func(c *Config) { c.Epochs = 1 << 62 }, "too many"},
		{"early genesis", func(c *Config) { c.GenesisTime = 1000 }, "below MIN_GENESIS_TIME"},
		{"shard run", func(c *Config) { c.Shards, c.TxRate, c.CrossShard, c.FraudAt = 8, 100, 0.3, 40 }, ""},
		{"few shards", func(c *Config) { c.Shards = 4 }, "4 shards is below SLOTS_PER_EPOCH (8) of the minimal config"},
		{"many shards", func(c *Config) { c.Shards, c.Validators = 2048, 4096 }, "2048 shards is above the shard fork's limit of 1024"},
		{"shards without validators", func(c *Config) { c.Shards = 128 }, "64 validators for 128 shards"},
		{"tx rate without shards", func(c *Config) { c.TxRate = 10 }, "needs the shard layer"},
		{"fraud without shards", func(c *Config) { c.FraudAt = 10 }, "needs the shard layer"},
		{"negative tx rate", func(c *Config) { c.Shards, c.TxRate = 8, -1 }, "transaction rate -1 must be a finite number >= 0"},
		{"tx rate over capacity", func(c *Config) { c.Shards, c.TxRate = 8, 1e6 }, "exceeds the capacity"},
		{"cross-shard above 1", func(c *Config) { c.Shards, c.CrossShard = 8, 2 }, "cross-shard fraction 2 is outside [0, 1]"},
		{"fraud after the end", func(c *Config) { c.Shards, c.FraudAt = 8, 64 }, "fraud slot 64 is not before the run's end (slot 63)"},
		{"fork config without shards", func(c *Config) { c.Chain = params.Minimal().WithShards() }, "a phase 0 run needs it off"},
	}
	for _, tc := range tests {
		cfg := DefaultConfig()
		tc.edit(&cfg)
		err := cfg.Validate()
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want ErrInvalidConfig with %q", tc.name, err, tc.want)
		}
		if _, runErr := Run(context.Background(), cfg, nil); !errors.Is(runErr, ErrInvalidConfig) {
			t.Errorf("%s: Run accepted the config: %v", tc.name, runErr)
		}
	}
}
