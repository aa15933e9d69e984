package p2p

import "strconv"

// ShardTxTopic returns the gossip topic of transactions of shard (SSZ,
// defined by the shard packages): "shard_<shard>_tx".
func ShardTxTopic(shard uint64) string {
	return "shard_" + strconv.FormatUint(shard, 10) + "_tx"
}
