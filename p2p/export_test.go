package p2p

import "context"

// PublishRaw publishes data as it is, without compression: tests use it to
// play a peer that sends garbage.
func PublishRaw(ctx context.Context, n *Node, name string, data []byte) error {
	return n.publish(ctx, name, data, nil)
}

// ScoreSamples counts the score samples taken so far.
func ScoreSamples(n *Node) uint64 { return n.scoreSamples.Load() }
