package node

import shardhandler "github.com/shardlab/shardlab/shard/handler"

// The shard node's wire containers and protocols live with the handler
// that speaks them (shard/handler, messages.go); these names keep the
// node's API.
type (
	// ShardMessage is the payload of a shard's transaction topic.
	ShardMessage = shardhandler.ShardMessage
	// ShardBlocksByRangeRequest asks for a shard's canonical blocks.
	ShardBlocksByRangeRequest = shardhandler.ShardBlocksByRangeRequest
	// ShardStateRequest asks for the post-state of a shard block.
	ShardStateRequest = shardhandler.ShardStateRequest
	// ShardInboxRequest asks for a shard's inbox nonces at a crosslink.
	ShardInboxRequest = shardhandler.ShardInboxRequest
	// ShardInboxResponse proves a shard's inbox nonces at a crosslink.
	ShardInboxResponse = shardhandler.ShardInboxResponse
)

// The shard node's request protocols (besides p2p's).
const (
	ShardStateByRootProtocol      = shardhandler.ShardStateByRootProtocol
	ShardInboxByCrosslinkProtocol = shardhandler.ShardInboxByCrosslinkProtocol
)
