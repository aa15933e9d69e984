package chain

import (
	"fmt"
	"slices"

	bt "github.com/shardlab/shardlab/beacon/types"
	shardcore "github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// txPool holds transactions waiting for a block: per sender, a queue of
// consecutive nonces starting at or after the head state's nonce, whose
// amounts the sender's balance covers. Guarded by the Service's lock.
type txPool struct {
	max, perAccount int
	queues          map[uint64][]*pooledTx
	seq             uint64
	n               int
}

type pooledTx struct {
	tx  *st.Transaction
	seq uint64 // arrival order
}

func newTxPool(max, perAccount int) *txPool {
	return &txPool{max: max, perAccount: perAccount, queues: make(map[uint64][]*pooledTx)}
}

func (p *txPool) len() int { return p.n }

// add admits tx (already checked statically) against the head state.
func (p *txPool) add(head *st.ShardState, tx *st.Transaction) error {
	acc := head.Accounts[tx.From]
	q := p.queues[tx.From]
	next := acc.Nonce + uint64(len(q))
	switch {
	case tx.Nonce < acc.Nonce:
		return fmt.Errorf("transaction nonce %d of account %d: %w: the account is at nonce %d", tx.Nonce, tx.From, ErrStale, acc.Nonce)
	case tx.Nonce < next:
		if old := q[tx.Nonce-acc.Nonce].tx; *old == *tx {
			return fmt.Errorf("transaction nonce %d of account %d: %w", tx.Nonce, tx.From, ErrDuplicate)
		}
		return fmt.Errorf("transaction nonce %d of account %d: %w: another transaction has that nonce", tx.Nonce, tx.From, ErrStale)
	case tx.Nonce > next:
		return fmt.Errorf("transaction nonce %d of account %d: %w: the next nonce is %d", tx.Nonce, tx.From, ErrStale, next)
	}
	var spent bt.Gwei
	for _, e := range q {
		spent += e.tx.Amount
	}
	if spent > acc.Balance || acc.Balance-spent < tx.Amount {
		return fmt.Errorf("transaction of account %d: %w: balance %d, pending %d, sends %d", tx.From, ErrStale, acc.Balance, spent, tx.Amount)
	}
	if p.n >= p.max || len(q) >= p.perAccount {
		return fmt.Errorf("transaction of account %d: %w", tx.From, ErrPoolFull)
	}
	p.seq++
	p.queues[tx.From] = append(q, &pooledTx{tx: tx, seq: p.seq})
	p.n++
	return nil
}

// prune drops the transactions whose nonce the head state has passed
// (included, or replaced on the head's chain).
func (p *txPool) prune(head *st.ShardState) {
	for from, q := range p.queues {
		if from >= uint64(len(head.Accounts)) {
			p.n -= len(q)
			delete(p.queues, from)
			continue
		}
		nonce := head.Accounts[from].Nonce
		i := 0
		for i < len(q) && q[i].tx.Nonce < nonce {
			i++
		}
		if i == 0 {
			continue
		}
		p.n -= i
		if i == len(q) {
			delete(p.queues, from)
		} else {
			p.queues[from] = q[i:]
		}
	}
}

// pending returns the pooled transactions in arrival order (so each
// account's in nonce order).
func (p *txPool) pending() []*st.Transaction {
	all := make([]*pooledTx, 0, p.n)
	for _, q := range p.queues {
		all = append(all, q...)
	}
	slices.SortFunc(all, func(a, b *pooledTx) int {
		switch {
		case a.seq < b.seq:
			return -1
		case a.seq > b.seq:
			return 1
		}
		return 0
	})
	out := make([]*st.Transaction, len(all))
	for i, e := range all {
		out[i] = e.tx
	}
	return out
}

// CheckTransaction checks what of tx needs no state: the shard, the
// account and shard ranges, a non-zero amount and the sender's signature
// (account keys never change, so the genesis keys are the keys).
// A verified signature is remembered in the TxCache, so that executing the
// transaction in a block does not verify it again. Failures wrap
// ErrInvalidTx.
func (s *Service) CheckTransaction(tx *st.Transaction) error {
	n := s.pcfg.Shard.Accounts
	if tx == nil || tx.Shard != s.shard || tx.From >= n || tx.To >= n || uint64(tx.ToShard) >= s.pcfg.ShardCount {
		return fmt.Errorf("%w: addresses out of range or not of shard %d", ErrInvalidTx, s.shard)
	}
	if tx.Amount == 0 {
		return fmt.Errorf("%w: zero amount", ErrInvalidTx)
	}
	pk := s.genesis.post.Accounts[tx.From].Pubkey
	if !shardcore.VerifyTxCached(s.cfg.TxCache, s.cfg.TxDomain, pk, tx) {
		return fmt.Errorf("%w: bad signature of account %d", ErrInvalidTx, tx.From)
	}
	return nil
}

// AddTransaction checks tx (CheckTransaction, then its nonce and funds
// against the head state) and pools it. The pool keeps tx.
func (s *Service) AddTransaction(tx *st.Transaction) error {
	if err := s.CheckTransaction(tx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.txs.add(s.headStateLocked(), tx)
}

// PendingTransactions returns the pooled transactions in arrival order.
func (s *Service) PendingTransactions() []*st.Transaction {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.txs.pending()
}
