package bench

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shardlab/shardlab/sim/testnet"
)

// TestObserverReadsNodesInParallel: a poll asks every shard node at once.
// Each fake node answers only once all of them were asked (or gives up
// after a few seconds and counts a miss): read one after the other, the
// first node waits for the others in vain.
func TestObserverReadsNodesInParallel(t *testing.T) {
	t.Parallel()
	const nodes = 3
	var asked, missed atomic.Int32
	all := make(chan struct{})
	node := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/shardlab/v1/shards" {
			http.NotFound(w, r)
			return
		}
		if asked.Add(1) == nodes {
			close(all)
		}
		select {
		case <-all:
		case <-time.After(3 * time.Second):
			missed.Add(1)
		}
		_, _ = w.Write([]byte("[]"))
	}))
	defer node.Close()
	beacon := httptest.NewServer(http.NotFoundHandler())
	defer beacon.Close()
	o := &observer{tr: newTracker(time.Now()), log: slog.New(slog.DiscardHandler), beacon: testnet.NewClient(beacon.URL),
		shardOf: map[uint64]int{}, fetched: map[uint64]uint64{}, linked: map[uint64]uint64{}, slot: 2 * time.Second, slotsPerEpoch: 8}
	for range nodes {
		o.shardNodes = append(o.shardNodes, testnet.NewClient(node.URL))
	}
	o.poll(context.Background())
	if asked.Load() != nodes || missed.Load() != 0 {
		t.Fatalf("%d of %d nodes asked, %d waited for the others in vain", asked.Load(), nodes, missed.Load())
	}
}
