package p2p

//go:generate go tool sszgen --path peerexchange_messages.go --objs PeersRequest,PeerRecord --output peerexchange_encoding.go

// The containers of PeerExchangeProtocol (SSZ, framed as ssz_snappy like
// every request/response protocol). Field order defines the encoding.

// Bounds of the peer exchange. A hostile answer cannot exceed them: the
// SSZ decoder refuses longer lists and Request reads at most
// MaxPeerRecords chunks.
const (
	// MaxPeerRecords bounds the records of one answer (one chunk each).
	MaxPeerRecords = 16
	// MaxPeerIDSize bounds the bytes of a peer ID in a record.
	MaxPeerIDSize = 64
	// MaxRecordAddrs bounds the multiaddrs of a record.
	MaxRecordAddrs = 8
	// MaxRecordAddrSize bounds the bytes of one multiaddr of a record.
	MaxRecordAddrSize = 256
	// MaxRecordShards bounds the shards of a record and of a request.
	MaxRecordShards = 1024
)

// PeersRequest asks a peer for peers it is connected to
// (PeerExchangeProtocol): at most Count records, those serving one of
// Shards first.
type PeersRequest struct {
	Count  uint64
	Shards []uint64 `ssz-max:"1024"`
}

// PeerRecord is one answer chunk of PeerExchangeProtocol: a peer the
// responder is connected to, its addresses (binary multiaddrs) and the
// shards it serves as far as the responder knows.
type PeerRecord struct {
	ID     []byte   `ssz-max:"64"`
	Addrs  [][]byte `ssz-size:"?,?" ssz-max:"8,256"`
	Shards []uint64 `ssz-max:"1024"`
}
