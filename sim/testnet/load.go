package testnet

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shardlab/shardlab/beacon/params"
	bt "github.com/shardlab/shardlab/beacon/types"
	shardcore "github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// loadSeedStream is the second PCG seed word of the workload.
const loadSeedStream = 0x7e57_7e57

// maxLoadAccounts bounds the sending accounts per shard (the first ones),
// so that their nonces are tracked cheaply.
const maxLoadAccounts = 256

// LoadStats count the workload's transactions.
type LoadStats struct {
	// Submitted is every transaction posted; Accepted the 202s; Rejected
	// the 400s (the account's nonce is then refreshed from the node);
	// Failed the rest (node unavailable, connection errors).
	Submitted, Accepted, Rejected, Failed uint64
	// CrossShard counts the accepted cross-shard sends.
	CrossShard uint64
}

// Load submits signed transfers at a steady rate through the shard nodes'
// HTTP API: each from a random account of a random shard (posted to a
// node serving that shard), to a random account of another shard with
// probability crossShard, else of the same shard. Nonces are tracked per
// account; a rejection refreshes the account's nonce from the node and
// rests the account for two slots.
type Load struct {
	cfg        *params.Config
	rate       float64
	crossShard float64
	rng        *rand.Rand
	targets    map[uint64]*Client // shard -> a node serving it
	shards     []uint64
	accounts   uint64
	rest       time.Duration

	mu      sync.Mutex
	nonces  map[[2]uint64]uint64    // (shard, account) -> next nonce
	resting map[[2]uint64]time.Time // accounts resting after a rejection
	domain  shardcore.TxDomain      // the network's, once learnt (txDomain)

	submitted, accepted, rejected, failed, cross atomic.Uint64
	lastErr                                      atomic.Pointer[string]
}

// NewLoad returns a workload over the given shard -> node map.
func NewLoad(cfg *params.Config, targets map[uint64]*Client, rate, crossShard float64, seed uint64) *Load {
	l := &Load{
		cfg: cfg, rate: rate, crossShard: crossShard,
		rng:      rand.New(rand.NewPCG(seed, loadSeedStream)),
		targets:  targets,
		accounts: min(cfg.Shard.Accounts, maxLoadAccounts),
		rest:     2 * time.Duration(cfg.SecondsPerSlot) * time.Second,
		nonces:   make(map[[2]uint64]uint64),
		resting:  make(map[[2]uint64]time.Time),
	}
	for s := range targets {
		l.shards = append(l.shards, s)
	}
	slices.Sort(l.shards)
	return l
}

// Stats returns the counts so far.
func (l *Load) Stats() LoadStats {
	return LoadStats{Submitted: l.submitted.Load(), Accepted: l.accepted.Load(), Rejected: l.rejected.Load(),
		Failed: l.failed.Load(), CrossShard: l.cross.Load()}
}

// LastError returns the last rejection or failure ("" if none).
func (l *Load) LastError() string {
	if p := l.lastErr.Load(); p != nil {
		return *p
	}
	return ""
}

// Run submits transactions until ctx ends. Submissions are sequential: a
// slow node lowers the rate rather than piling up requests.
func (l *Load) Run(ctx context.Context) {
	if l.rate <= 0 || len(l.shards) == 0 || l.accounts == 0 {
		return
	}
	interval := time.Duration(float64(time.Second) / l.rate)
	next := time.Now()
	for {
		next = next.Add(interval)
		if d := time.Until(next); d > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(d):
			}
		} else if ctx.Err() != nil {
			return
		} else if d < -time.Second {
			next = time.Now() // fell behind: do not burst
		}
		l.submitOne(ctx)
	}
}

// next draws the next transaction (unsigned) and its target; ok is false
// when the drawn account is resting.
func (l *Load) next() (tx *st.Transaction, key [2]uint64, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	shard := l.shards[l.rng.IntN(len(l.shards))]
	from := l.rng.Uint64N(l.accounts)
	toShard := shard
	if l.cfg.ShardCount > 1 && l.rng.Float64() < l.crossShard {
		toShard = (shard + 1 + l.rng.Uint64N(l.cfg.ShardCount-1)) % l.cfg.ShardCount
	}
	to := l.rng.Uint64N(l.cfg.Shard.Accounts)
	if toShard == shard && to == from {
		to = (to + 1) % l.cfg.Shard.Accounts
	}
	amount := 1 + l.rng.Uint64N(1000)
	key = [2]uint64{shard, from}
	if until, r := l.resting[key]; r && time.Now().Before(until) {
		return nil, key, false
	}
	tx = &st.Transaction{Shard: bt.Shard(shard), From: from, Nonce: l.nonces[key], ToShard: bt.Shard(toShard), To: to, Amount: bt.Gwei(amount)}
	return tx, key, true
}

func (l *Load) submitOne(ctx context.Context) {
	tx, key, ok := l.next()
	if !ok {
		return
	}
	c := l.targets[uint64(tx.Shard)]
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	l.submitted.Add(1)
	d, err := l.txDomain(rctx, c)
	if err == nil {
		shardcore.SignTx(d, tx, shardcore.AccountKey(tx.Shard, tx.From))
		err = c.SubmitTransaction(rctx, tx)
	}
	switch {
	case err == nil:
		l.accepted.Add(1)
		if tx.ToShard != tx.Shard {
			l.cross.Add(1)
		}
		l.mu.Lock()
		l.nonces[key] = tx.Nonce + 1
		l.mu.Unlock()
	case errors.Is(err, ErrRejected):
		l.rejected.Add(1)
		l.note(err)
		l.mu.Lock()
		l.resting[key] = time.Now().Add(l.rest)
		l.mu.Unlock()
		if nonce, _, aerr := c.Account(rctx, key[0], key[1]); aerr == nil {
			l.mu.Lock()
			l.nonces[key] = nonce
			l.mu.Unlock()
		}
	default:
		if ctx.Err() != nil {
			l.submitted.Add(^uint64(0)) // interrupted, not a failure
			return
		}
		l.failed.Add(1)
		l.note(err)
	}
}

// txDomain returns the transaction domain of the network (docs/protocol.md
// §2.5), learnt once from c: its genesis header's state root is the
// genesis state root.
func (l *Load) txDomain(ctx context.Context, c *Client) (shardcore.TxDomain, error) {
	l.mu.Lock()
	d := l.domain
	l.mu.Unlock()
	if !d.IsZero() {
		return d, nil
	}
	d, err := c.TxDomain(ctx, l.cfg)
	if err != nil {
		return d, err
	}
	l.mu.Lock()
	l.domain = d
	l.mu.Unlock()
	return d, nil
}

func (l *Load) note(err error) {
	s := err.Error()
	l.lastErr.Store(&s)
}
