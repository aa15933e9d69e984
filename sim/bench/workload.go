package bench

import (
	"context"
	"crypto/ed25519"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/shardlab/shardlab/beacon/params"
	bt "github.com/shardlab/shardlab/beacon/types"
	shardcore "github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// genSeedStream is the second PCG seed word of the workload.
const genSeedStream = 0xbe4c_0001

// Workload describes the transactions the generator draws.
type Workload struct {
	// CrossShard is the fraction of transfers sent to another shard.
	CrossShard float64
	// Accounts is the number of sending accounts per shard (the first
	// ones); 0 means all SHARD_ACCOUNTS.
	Accounts uint64
	// Zipf, when > 1, draws senders with a Zipf law of that exponent
	// (account 0 the hottest); otherwise uniformly.
	Zipf float64
	// Seed seeds the draws.
	Seed uint64
}

// acctKey names an account of a shard.
type acctKey struct{ shard, index uint64 }

// acctState is the generator's view of an account: the next nonce to
// sign, the generation (bumped by every resync, so that stale rejections
// are told apart) and, while resting, when it may send again.
type acctState struct {
	nonce   uint64
	gen     uint32
	resting bool
}

// genTx is a signed transaction with what the tracker needs to know of it.
type genTx struct {
	tx  st.Transaction
	gen uint32
}

// generator draws transfers in one goroutine and signs them ahead of
// their submission in one goroutine per lane, into the lane's buffered
// channel: signing is never on the submission path while the buffers hold
// transactions. An account always maps to the same lane, so its nonces
// leave every lane in order.
type generator struct {
	cfg      *params.Config
	w        Workload
	domain   shardcore.TxDomain
	shards   []uint64
	accounts uint64
	lanes    []chan *genTx

	mu    sync.Mutex
	rng   *rand.Rand
	zipf  *rand.Zipf
	accts map[acctKey]*acctState
	keys  map[acctKey]ed25519.PrivateKey
}

// newGenerator returns a generator over the given shards with lanes
// lanes of buffer transactions each.
func newGenerator(cfg *params.Config, w Workload, domain shardcore.TxDomain, shards []uint64, lanes, buffer int) *generator {
	g := &generator{cfg: cfg, w: w, domain: domain, shards: shards, keys: make(map[acctKey]ed25519.PrivateKey),
		lanes: make([]chan *genTx, max(1, lanes)), accts: make(map[acctKey]*acctState)}
	for i := range g.lanes {
		g.lanes[i] = make(chan *genTx, max(1, buffer))
	}
	g.accounts = cfg.Shard.Accounts
	if w.Accounts > 0 && w.Accounts < g.accounts {
		g.accounts = w.Accounts
	}
	g.rng = rand.New(rand.NewPCG(w.Seed, genSeedStream))
	if w.Zipf > 1 && g.accounts > 1 {
		g.zipf = rand.NewZipf(g.rng, w.Zipf, 1, g.accounts-1)
	}
	return g
}

// laneOf is the lane of an account. The submitter batches per lane and
// shard, so a shard's accounts share as few lanes as keep every lane busy:
// with at least as many shards as lanes a shard has one lane (its batches
// fill len(lanes) times faster than if its accounts were spread over all
// lanes, which at 32 shards left about one transaction per request); with
// fewer shards each shard's accounts are spread over lanes/shards lanes.
func (g *generator) laneOf(k acctKey) int {
	n := uint64(len(g.lanes))
	s := uint64(max(1, len(g.shards)))
	if s >= n {
		return int(k.shard % n)
	}
	per := n / s
	return int((k.shard%s)*per + k.index%per)
}

// run fills the lanes until ctx ends.
func (g *generator) run(ctx context.Context) {
	var wg sync.WaitGroup
	in := make([]chan *genTx, len(g.lanes))
	for i := range in {
		in[i] = make(chan *genTx, 64)
		wg.Go(func() {
			for t := range in[i] {
				shardcore.SignTx(g.domain, &t.tx, g.key(acctKey{uint64(t.tx.Shard), t.tx.From}))
				select {
				case g.lanes[i] <- t:
				case <-ctx.Done():
				}
			}
		})
	}
	defer wg.Wait()
	defer func() {
		for _, c := range in {
			close(c)
		}
	}()
	for ctx.Err() == nil {
		t := g.draw()
		if t == nil {
			// every drawn account rests: wait a little
			select {
			case <-ctx.Done():
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		select {
		case in[g.laneOf(acctKey{uint64(t.tx.Shard), t.tx.From})] <- t:
		case <-ctx.Done():
		}
	}
}

// key returns (and caches) an account's interop key.
func (g *generator) key(k acctKey) ed25519.PrivateKey {
	g.mu.Lock()
	defer g.mu.Unlock()
	key, ok := g.keys[k]
	if !ok {
		key = shardcore.AccountKey(bt.Shard(k.shard), k.index)
		g.keys[k] = key
	}
	return key
}

// draw picks the next transfer and takes its sender's next nonce; nil when
// a few draws all hit resting accounts.
func (g *generator) draw() *genTx {
	g.mu.Lock()
	defer g.mu.Unlock()
	for range 8 {
		shard := g.shards[g.rng.IntN(len(g.shards))]
		var from uint64
		if g.zipf != nil {
			from = g.zipf.Uint64()
		} else {
			from = g.rng.Uint64N(g.accounts)
		}
		k := acctKey{shard, from}
		a := g.accts[k]
		if a == nil {
			a = &acctState{}
			g.accts[k] = a
		}
		if a.resting {
			continue
		}
		toShard := shard
		if g.cfg.ShardCount > 1 && g.rng.Float64() < g.w.CrossShard {
			toShard = (shard + 1 + g.rng.Uint64N(g.cfg.ShardCount-1)) % g.cfg.ShardCount
		}
		to := g.rng.Uint64N(g.cfg.Shard.Accounts)
		if toShard == shard && to == from {
			to = (to + 1) % g.cfg.Shard.Accounts
		}
		t := &genTx{gen: a.gen, tx: st.Transaction{Shard: bt.Shard(shard), From: from, Nonce: a.nonce,
			ToShard: bt.Shard(toShard), To: to, Amount: bt.Gwei(1 + g.rng.Uint64N(1000))}}
		a.nonce++
		return t
	}
	return nil
}

// rest stops drawing from the account of a transaction signed in
// generation gen that the node did not take (its later nonces cannot be
// pooled); it reports whether the account was not already resting for
// this reason. resume ends the rest at the node's nonce.
func (g *generator) rest(k acctKey, gen uint32) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	a := g.accts[k]
	if a == nil || a.gen != gen || a.resting {
		return false
	}
	a.resting = true
	return true
}

// resume ends an account's rest: it signs from nonce on, in a new
// generation.
func (g *generator) resume(k acctKey, nonce uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	a := g.accts[k]
	if a == nil {
		return
	}
	a.nonce, a.resting = nonce, false
	a.gen++
}
