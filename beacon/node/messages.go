package node

import "github.com/shardlab/shardlab/beacon/handler"

// The request/response containers of the beacon node live in beacon/handler
// (SSZ, framed by p2p as ssz_snappy); these aliases keep their names here.
type (
	// Status is exchanged on connect and every few slots.
	Status = handler.Status
	// BlocksByRangeRequest asks for canonical blocks by slot range.
	BlocksByRangeRequest = handler.BlocksByRangeRequest
	// BlocksByRootRequest asks for blocks by root.
	BlocksByRootRequest = handler.BlocksByRootRequest
	// CrosslinkDataRequest asks a shard node for a crosslink data root.
	CrosslinkDataRequest = handler.CrosslinkDataRequest
	// CrosslinkDataResponse answers a CrosslinkDataRequest.
	CrosslinkDataResponse = handler.CrosslinkDataResponse
)

// MaxServedShards bounds the shard list of a Status.
const MaxServedShards = handler.MaxServedShards
