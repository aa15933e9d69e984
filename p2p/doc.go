// Package p2p is shardlab's networking layer: a libp2p host (TCP and QUIC,
// noise, yamux) with gossipsub v1.1 topics and eth2-style request/response
// protocols, both "ssz_snappy" encoded, plus discovery (bootnodes, mDNS and
// a peer exchange that dials towards a target peer count and a server of
// every wanted shard, discover.go), peer scoring and Prometheus metrics.
//
// p2p knows message bytes, topic names and protocol names, not the state
// transition: the beacon and shard nodes register Validators and Handlers
// for gossip topics (Subscribe, Publish) and RequestHandlers for
// request/response protocols (Handle, Request), and decode the SSZ
// themselves. A Validator's verdict maps onto gossipsub: Accept forwards
// and delivers, Reject drops and penalizes the sender, Ignore drops without
// penalty (errors.Is(err, core.ErrInvalid) -> Reject, else Ignore).
//
// Wire formats:
//
//   - Gossip topic: /shardlab/<network>/<name>/ssz_snappy, payload = snappy
//     block compression of the SSZ bytes, message ID = first 20 bytes of
//     SHA-256 of the compressed payload, messages unsigned and anonymous
//     (StrictNoSign).
//   - Request/response protocol: /shardlab/req/<name>/1/ssz_snappy. The
//     request is varint(len(ssz)) + snappy framed ssz, after which the
//     requester closes its write side. The response is a sequence of
//     chunks, each a result byte (0 success, 1 invalid request, 2 server
//     error, 3 resource unavailable) followed by varint(len) + snappy
//     framed bytes: the SSZ payload on success, a UTF-8 error message
//     otherwise (which ends the response).
//   - Peer exchange (PeerExchangeProtocol, "peer_exchange"): request
//     PeersRequest{count, shards}, response up to min(count, 16)
//     PeerRecord{peer_id, addrs, shards} chunks, the responder's connected
//     peers with those serving a requested shard first.
//
// A Node either builds its own host (New) or runs on the caller's
// (NewWithHost), which is how the simulator and p2ptest run many nodes in
// one process over go-libp2p's mock network.
//
// p2p must not import the beacon or shard packages, storage, or sim.
package p2p
