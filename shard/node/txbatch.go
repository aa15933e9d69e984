package node

import (
	bt "github.com/shardlab/shardlab/beacon/types"
	shardapi "github.com/shardlab/shardlab/shard/api"
	st "github.com/shardlab/shardlab/shard/types"
)

var _ shardapi.TxPreverifier = shardBackend{}

// PreverifyTransactions verifies the signatures of a batch's transactions
// of served shards in parallel into the shard chains' verified-signature
// caches (shard/chain.Service.PreverifyTransactions), so that the batch
// route's SubmitTransaction of each finds its signature verified.
func (s shardBackend) PreverifyTransactions(txs []*st.Transaction) {
	if len(txs) == 0 {
		return
	}
	// A batch is of one shard; group anyway, cheaply.
	byShard := make(map[bt.Shard][]*st.Transaction, 1)
	for _, tx := range txs {
		byShard[tx.Shard] = append(byShard[tx.Shard], tx)
	}
	for sh, list := range byShard {
		if c, ok := s.n.chains[sh]; ok {
			c.PreverifyTransactions(list)
		}
	}
}
