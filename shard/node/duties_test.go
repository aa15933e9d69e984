package node

import (
	"errors"
	"testing"

	bnode "github.com/shardlab/shardlab/beacon/node"
	bt "github.com/shardlab/shardlab/beacon/types"
)

// TestLocalDataRootBeforeHandler: the embedded beacon node serves
// crosslink data from the moment New registers its protocols, before the
// shard handler exists (a restarted node's peers ask at once); the answer
// is "no data", not a panic.
func TestLocalDataRootBeforeHandler(t *testing.T) {
	n := &Node{}
	if _, err := n.localDataRoot(t.Context(), bt.Crosslink{Shard: 3}); !errors.Is(err, bnode.ErrNoCrosslinkData) {
		t.Fatalf("got %v, want ErrNoCrosslinkData", err)
	}
}
