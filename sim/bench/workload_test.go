package bench

import (
	"context"
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/shardlab/shardlab/beacon/params"
	bt "github.com/shardlab/shardlab/beacon/types"
	shardcore "github.com/shardlab/shardlab/shard/core"
)

func testChain(t *testing.T) *params.Config {
	t.Helper()
	cfg := params.Minimal()
	cfg.ShardCount = 8
	cfg.Shard.Accounts = 64
	return cfg
}

// TestGenerator checks the drawn transfers: signed for the domain, each
// account's nonces consecutive within its lane, the cross-shard fraction,
// and Zipf senders hotter at account 0.
func TestGenerator(t *testing.T) {
	t.Parallel()
	cfg := testChain(t)
	domain := shardcore.ComputeTxDomain(cfg, bt.Root{1})
	tests := []struct {
		name      string
		w         Workload
		wantCross float64
		zipf      bool
	}{
		{"intra", Workload{CrossShard: 0, Seed: 1}, 0, false},
		{"half cross", Workload{CrossShard: 0.5, Seed: 2}, 0.5, false},
		{"all cross, zipf", Workload{CrossShard: 1, Zipf: 1.5, Seed: 3, Accounts: 32}, 1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := newGenerator(cfg, tc.w, domain, []uint64{0, 1, 2, 3, 4, 5, 6, 7}, 3, 500)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { g.run(ctx); close(done) }()
			next := map[acctKey]uint64{}
			cross, n, hot := 0, 0, 0
			for lane := range g.lanes {
				for range 400 {
					x := <-g.lanes[lane]
					k := acctKey{uint64(x.tx.Shard), x.tx.From}
					if g.laneOf(k) != lane {
						t.Fatalf("account %v in lane %d, want %d", k, lane, g.laneOf(k))
					}
					if x.tx.Nonce != next[k] {
						t.Fatalf("account %v: nonce %d, want %d", k, x.tx.Nonce, next[k])
					}
					next[k]++
					pk := shardcore.AccountKey(x.tx.Shard, x.tx.From).Public().(ed25519.PublicKey)
					if !shardcore.VerifyTx(domain, [32]byte(pk), &x.tx) {
						t.Fatalf("transaction %+v: bad signature", x.tx)
					}
					if x.tx.From >= g.accounts || x.tx.Amount == 0 || (x.tx.ToShard == x.tx.Shard && x.tx.To == x.tx.From) {
						t.Fatalf("bad transfer %+v", x.tx)
					}
					if x.tx.ToShard != x.tx.Shard {
						cross++
					}
					if x.tx.From == 0 {
						hot++
					}
					n++
				}
			}
			cancel()
			<-done
			if f := float64(cross) / float64(n); f < tc.wantCross-0.08 || f > tc.wantCross+0.08 {
				t.Errorf("cross-shard fraction %.2f, want about %.2f", f, tc.wantCross)
			}
			// Uniform over 64 accounts: ~1.6% from account 0; Zipf 1.5: far more.
			if frac := float64(hot) / float64(n); tc.zipf != (frac > 0.15) {
				t.Errorf("account 0 sent %.1f%% (zipf %v)", 100*frac, tc.zipf)
			}
		})
	}
}

// TestGeneratorRest checks that a refused account rests until resumed at
// the node's nonce, and that refusals of an older generation are ignored.
func TestGeneratorRest(t *testing.T) {
	t.Parallel()
	cfg := testChain(t)
	cfg.Shard.Accounts = 2
	g := newGenerator(cfg, Workload{Seed: 4, Accounts: 1}, shardcore.TxDomain{}, []uint64{0}, 1, 10)
	k := acctKey{0, 0}
	for want := range uint64(3) {
		if x := g.draw(); x == nil || x.tx.Nonce != want || x.gen != 0 {
			t.Fatalf("draw %d: %+v", want, x)
		}
	}
	if !g.rest(k, 0) {
		t.Fatal("rest refused")
	}
	if g.rest(k, 0) {
		t.Error("a second refusal rested the account again")
	}
	if x := g.draw(); x != nil {
		t.Fatalf("a resting account drew %+v", x)
	}
	g.resume(k, 1)
	x := g.draw()
	if x == nil || x.tx.Nonce != 1 || x.gen != 1 {
		t.Fatalf("after resume: %+v", x)
	}
	if g.rest(k, 0) {
		t.Error("a refusal of the old generation rested the account")
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	def := DefaultConfig()
	if err := def.Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	tests := []struct {
		name string
		edit func(c *Config)
	}{
		{"no shard nodes", func(c *Config) { c.Testnet.ShardNodes = 0 }},
		{"negative rate", func(c *Config) { c.Rate = -1 }},
		{"zero rate without find-max", func(c *Config) { c.Rate = 0 }},
		{"cross above 1", func(c *Config) { c.Workload.CrossShard = 1.5 }},
		{"zipf at 1", func(c *Config) { c.Workload.Zipf = 1 }},
		{"no window", func(c *Config) { c.Duration = 0 }},
		{"step factor 1", func(c *Config) { c.FindMax, c.StepFactor = true, 1 }},
		{"burst longer than period", func(c *Config) { c.BurstFactor, c.BurstEvery, c.BurstLength = 2, time.Second, 2*time.Second }},
		{"no lanes", func(c *Config) { c.Lanes = 0 }},
		{"batch above the node's", func(c *Config) { c.BatchSize = 1025 }},
		{"no flush", func(c *Config) { c.Flush = 0 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.edit(&c)
			if err := c.Validate(); err == nil {
				t.Error("accepted")
			}
		})
	}
}

// TestLaneOfGroupsShards checks that a shard's accounts share as few lanes
// as keep every lane busy, so that the submitter's per-lane, per-shard
// batches fill up (one lane per shard when shards >= lanes).
func TestLaneOfGroupsShards(t *testing.T) {
	cfg := params.Minimal()
	tests := []struct {
		name          string
		shards, lanes int
		perShard      int // distinct lanes of one shard's accounts
	}{
		{"32 shards, 8 lanes", 32, 8, 1},
		{"8 shards, 8 lanes", 8, 8, 1},
		{"2 shards, 8 lanes", 2, 8, 4},
		{"1 shard, 8 lanes", 1, 8, 8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			shards := make([]uint64, tc.shards)
			for i := range shards {
				shards[i] = uint64(i)
			}
			g := newGenerator(cfg, Workload{}, shardcore.TxDomain{1}, shards, tc.lanes, 4)
			used := make(map[int]bool)
			for _, sh := range shards {
				mine := make(map[int]bool)
				for a := range uint64(64) {
					l := g.laneOf(acctKey{sh, a})
					if l < 0 || l >= tc.lanes {
						t.Fatalf("lane %d out of range", l)
					}
					mine[l], used[l] = true, true
				}
				if len(mine) != tc.perShard {
					t.Fatalf("shard %d uses %d lanes, want %d", sh, len(mine), tc.perShard)
				}
			}
			if len(used) != tc.lanes {
				t.Fatalf("%d of %d lanes used", len(used), tc.lanes)
			}
		})
	}
}
