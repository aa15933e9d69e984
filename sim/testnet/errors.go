package testnet

import "errors"

// Errors of process management. They are wrapped with the node's name and
// the testnet directory; test with errors.Is.
var (
	// ErrNotListening is returned when a process exits or times out before
	// logging its "p2p listening" line.
	ErrNotListening = errors.New("process did not start listening")
	// ErrNoTestnet: the directory holds no testnet (no testnet.json).
	ErrNoTestnet = errors.New("no testnet")
	// ErrUnknownNode: the testnet has no node of that name.
	ErrUnknownNode = errors.New("unknown node")
	// ErrNodeRunning: the node is running (start).
	ErrNodeRunning = errors.New("node already running")
	// ErrNodeStopped: the node is not running (stop, kill).
	ErrNodeStopped = errors.New("node not running")
)
