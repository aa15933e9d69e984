package handler

//go:generate go tool sszgen --path messages.go --objs Status,BlocksByRangeRequest,BlocksByRootRequest,CrosslinkDataRequest,CrosslinkDataResponse --output messages_encoding.go

// The request/response containers of the beacon node (SSZ, framed by p2p as
// ssz_snappy). Field order defines the encoding.

// MaxBlocksByRoot bounds a BlocksByRootRequest.
const MaxBlocksByRoot = 1024

// MaxServedShards bounds the shard list of a Status.
const MaxServedShards = 1024

// Status is exchanged on connect and every few slots (StatusProtocol): the
// request carries the requester's status, the response the responder's.
type Status struct {
	// ForkVersion is the fork version at the sender's current epoch.
	ForkVersion [4]byte `ssz-size:"4"`
	// GenesisRoot tells networks apart.
	GenesisRoot    [32]byte `ssz-size:"32"`
	FinalizedRoot  [32]byte `ssz-size:"32"`
	FinalizedEpoch uint64
	HeadRoot       [32]byte `ssz-size:"32"`
	HeadSlot       uint64
	// Shards lists the shards whose data the sender serves (crosslink data
	// roots over CrosslinkDataRootProtocol); empty for a plain beacon node.
	Shards []uint64 `ssz-max:"1024"`
}

// BlocksByRangeRequest asks for the canonical blocks at slots start_slot +
// i * step, i < count (BeaconBlocksByRangeProtocol). Empty slots are skipped;
// each response chunk is one block's SSZ.
type BlocksByRangeRequest struct {
	StartSlot uint64
	Count     uint64
	Step      uint64
}

// BlocksByRootRequest asks for blocks by root (BeaconBlocksByRootProtocol);
// unknown roots are skipped.
type BlocksByRootRequest struct {
	Roots [][32]byte `ssz-size:"?,32" ssz-max:"1024"`
}

// CrosslinkDataRequest asks a shard node for the data root an honest
// attester votes for the crosslink of shard over [start_epoch, end_epoch)
// (CrosslinkDataRootProtocol).
type CrosslinkDataRequest struct {
	Shard      uint64
	StartEpoch uint64
	EndEpoch   uint64
}

// CrosslinkDataResponse answers a CrosslinkDataRequest; Known is false when
// the node cannot tell (it does not follow the shard or lacks the blocks).
type CrosslinkDataResponse struct {
	DataRoot [32]byte `ssz-size:"32"`
	Known    bool
}
