package node

import (
	"maps"
	"sync"
	"time"

	"github.com/shardlab/shardlab/beacon/types"
)

// arrivalLog remembers when each block root was first seen (gossip arrival
// or own proposal), bounded by forgetting the oldest entries.
type arrivalLog struct {
	mu    sync.Mutex
	max   int
	times map[types.Root]time.Time
	order []types.Root
}

func newArrivalLog(max int) *arrivalLog {
	return &arrivalLog{max: max, times: make(map[types.Root]time.Time)}
}

// record notes root at t unless it was seen before.
func (l *arrivalLog) record(root types.Root, t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.times[root]; ok {
		return
	}
	l.times[root] = t
	l.order = append(l.order, root)
	if len(l.order) > l.max {
		delete(l.times, l.order[0])
		l.order = l.order[1:]
	}
}

func (l *arrivalLog) snapshot() map[types.Root]time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.times)
}
