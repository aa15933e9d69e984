package netsim

import (
	"math/rand/v2"
	"time"

	"github.com/shardlab/shardlab/beacon/types"
	shardcore "github.com/shardlab/shardlab/shard/core"
	shardhandler "github.com/shardlab/shardlab/shard/handler"
	st "github.com/shardlab/shardlab/shard/types"
)

// The transaction workload: Shard.TxRate transfers a second from slot 1
// on, each from a random account of a random shard, to another shard with
// probability Shard.CrossShard, signed with the chain's transaction domain
// (docs/protocol.md §2.5) and submitted to the first shard node serving
// the sender's shard, which pools and gossips it as its API would.

// startWorkload schedules the first transaction (nothing without a rate).
func (s *Sim) startWorkload() error {
	if s.cfg.Shard.TxRate <= 0 {
		return nil
	}
	if err := s.initWorkload(); err != nil {
		return err
	}
	s.scheduleTx(s.txStart())
	return nil
}

// initWorkload sets up the transaction signing domain, randomness and
// nonces (once).
func (s *Sim) initWorkload() error {
	if s.sh.txRng != nil {
		return nil
	}
	v, err := shardhandler.Verifier(s.nodes[0].chain)
	if err != nil {
		return err
	}
	s.sh.txDomain = v.TxDomain(s.pcfg)
	s.sh.txRng = rand.New(rand.NewPCG(s.cfg.Seed, 0x7478)) // "tx"
	s.sh.nonces = make(map[[2]uint64]uint64)
	return nil
}

// scheduleTx submits one transaction at at and schedules the next.
func (s *Sim) scheduleTx(at time.Time) {
	gen := s.sh.txGen
	s.loop.schedule(at, func() {
		if gen != s.sh.txGen {
			return // SetWorkload replaced this schedule
		}
		s.submitTx()
		s.scheduleTx(at.Add(time.Duration(float64(time.Second) / s.cfg.Shard.TxRate)))
	})
}

// submitTx draws, signs and submits one transfer.
func (s *Sim) submitTx() {
	r, cfg := s.sh.txRng, s.pcfg
	shard := r.Uint64N(cfg.ShardCount)
	from := r.Uint64N(cfg.Shard.Accounts)
	to, toShard := r.Uint64N(cfg.Shard.Accounts), shard
	if cfg.ShardCount > 1 && r.Float64() < s.cfg.Shard.CrossShard {
		toShard = (shard + 1 + r.Uint64N(cfg.ShardCount-1)) % cfg.ShardCount
	}
	if toShard == shard && to == from {
		to = (to + 1) % cfg.Shard.Accounts
	}
	n := s.firstServing(types.Shard(shard))
	if n == nil {
		return
	}
	key := [2]uint64{shard, from}
	tx := &st.Transaction{Shard: types.Shard(shard), From: from, Nonce: s.sh.nonces[key], ToShard: types.Shard(toShard), To: to,
		Amount: types.Gwei(1 + r.Uint64N(1000))}
	shardcore.SignTx(s.sh.txDomain, tx, shardcore.AccountKey(tx.Shard, from))
	pooled, err := s.submit(n, tx)
	if err != nil {
		return
	}
	if !pooled {
		// Out of step with the chain (a dropped transaction): take the
		// account's nonce from the head state.
		if a, ok := n.shard.chains[tx.Shard].Account(from, nil); ok {
			s.sh.nonces[key] = a.Nonce
		}
		return
	}
	s.sh.nonces[key] = tx.Nonce + 1
}

// firstServing is the first shard node serving shard (nil: none).
func (s *Sim) firstServing(shard types.Shard) *node {
	for _, n := range s.nodes {
		if n.shard != nil && n.shard.chains[shard] != nil {
			return n
		}
	}
	return nil
}
