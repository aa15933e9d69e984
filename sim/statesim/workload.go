package statesim

import (
	"crypto/ed25519"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
	shardcore "github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// workload draws the run's transactions: per slot TxRate * SECONDS_PER_SLOT
// of them (the fraction carried over), each on a uniformly random shard,
// from a random account to a random account, cross-shard with probability
// CrossShard (to a uniformly random other shard), of a random amount in
// [1, 1000] Gwei, with the sender's next nonce, signed with the account's
// ed25519 key. Draws come from their own PCG stream, in a fixed order;
// signing (deterministic) runs on several goroutines.
type workload struct {
	cfg     *params.Config
	domain  shardcore.TxDomain // the chain's transaction domain
	rng     *rand.Rand
	perSlot float64
	cross   float64
	nonces  [][]uint64
	keys    [][]ed25519.PrivateKey // derived on first use
	workers int
}

func newWorkload(cfg *params.Config, domain shardcore.TxDomain, c *Config, workers int) *workload {
	w := &workload{
		cfg:     cfg,
		domain:  domain,
		rng:     rand.New(rand.NewPCG(c.Seed, seedStream+1)),
		perSlot: c.TxRate * float64(cfg.SecondsPerSlot),
		cross:   c.CrossShard,
		nonces:  make([][]uint64, cfg.ShardCount),
		keys:    make([][]ed25519.PrivateKey, cfg.ShardCount),
		workers: workers,
	}
	for s := range w.nonces {
		w.nonces[s] = make([]uint64, cfg.Shard.Accounts)
		w.keys[s] = make([]ed25519.PrivateKey, cfg.Shard.Accounts)
	}
	return w
}

// count is the number of transactions arriving for slot (> 0).
func (w *workload) count(slot types.Slot) int {
	return int(math.Floor(w.perSlot*float64(slot)) - math.Floor(w.perSlot*float64(slot-1)))
}

// next returns the signed transactions of slot, in arrival order.
func (w *workload) next(slot types.Slot) []*st.Transaction {
	n := w.count(slot)
	if n <= 0 {
		return nil
	}
	shards := uint64(w.cfg.ShardCount)
	accounts := w.cfg.Shard.Accounts
	txs := make([]*st.Transaction, n)
	keys := make([]ed25519.PrivateKey, n)
	for i := range txs {
		shard := w.rng.Uint64N(shards)
		from := w.rng.Uint64N(accounts)
		to := w.rng.Uint64N(accounts)
		toShard := shard
		if w.cross > 0 && w.rng.Float64() < w.cross {
			toShard = (shard + 1 + w.rng.Uint64N(shards-1)) % shards
		}
		amount := 1 + w.rng.Uint64N(1000)
		tx := &st.Transaction{
			Shard: types.Shard(shard), From: from, Nonce: w.nonces[shard][from],
			ToShard: types.Shard(toShard), To: to, Amount: types.Gwei(amount),
		}
		w.nonces[shard][from]++
		if w.keys[shard][from] == nil {
			w.keys[shard][from] = shardcore.AccountKey(types.Shard(shard), from)
		}
		txs[i], keys[i] = tx, w.keys[shard][from]
	}
	parallel(n, w.workers, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			shardcore.SignTx(w.domain, txs[i], keys[i])
		}
	})
	return txs
}

// parallel runs fn over [0, n) split into at most workers contiguous
// chunks, and waits.
func parallel(n, workers int, fn func(lo, hi int)) {
	if workers <= 1 || n <= 1 {
		fn(0, n)
		return
	}
	workers = min(workers, n)
	var wg sync.WaitGroup
	for k := range workers {
		lo, hi := n*k/workers, n*(k+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}
