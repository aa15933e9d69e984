package netsim

import "errors"

// ErrInvalidConfig is wrapped by Config.Validate, ParseLatency and
// Partition.
var ErrInvalidConfig = errors.New("invalid simulation config")

// ErrTimeout is the error of a request that got no answer in time (lost,
// partitioned or slow).
var ErrTimeout = errors.New("request timed out")

// ErrUnknownPeer is the error of a request to a peer that is not simulated.
var ErrUnknownPeer = errors.New("unknown peer")

// ErrDisconnected is the error of a request to a peer disconnected for its
// score (score.go).
var ErrDisconnected = errors.New("peer disconnected for its score")
