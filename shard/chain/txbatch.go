package chain

import (
	shardcore "github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// PreverifyTransactions verifies the signatures of the transactions of
// this shard among txs, in parallel, into the TxCache, so that the
// AddTransaction of each (in order, as a batch submission does) finds
// its signature verified. It only warms the cache: a transaction it skips
// (another shard, an account out of range) or whose signature fails is
// judged by AddTransaction as before.
func (s *Service) PreverifyTransactions(txs []*st.Transaction) {
	n := s.pcfg.Shard.Accounts
	keys := make([][32]byte, 0, len(txs))
	mine := make([]*st.Transaction, 0, len(txs))
	for _, tx := range txs {
		if tx == nil || tx.Shard != s.shard || tx.From >= n {
			continue
		}
		keys = append(keys, s.genesis.post.Accounts[tx.From].Pubkey)
		mine = append(mine, tx)
	}
	if len(mine) > 0 {
		shardcore.VerifyTxsCached(s.cfg.TxCache, s.cfg.TxDomain, keys, mine)
	}
}
