package p2p

import "strconv"

// ShardBlockTopic returns the gossip topic of signed shard blocks of shard
// (SSZ, defined by the shard packages): "shard_<shard>_block".
func ShardBlockTopic(shard uint64) string {
	return "shard_" + strconv.FormatUint(shard, 10) + "_block"
}
