package netsim

import (
	"container/heap"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"time"
)

// event is one scheduled action.
type event struct {
	at   time.Time
	seq  uint64
	fn   func()
	dead bool // a stopped timer
}

// queued is a queue entry: the event's order key kept inline, so that
// sifting the heap compares integers without loading each event (with
// millions of events in flight that pointer chasing dominated the loop).
type queued struct {
	at  int64 // UnixNano of e.at
	seq uint64
	e   *event
}

// queue orders events by (at, seq): equal times run in scheduling order.
type queue []queued

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q queue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)   { *q = append(*q, x.(queued)) }
func (q *queue) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = queued{}
	*q = old[:len(old)-1]
	return e
}

// loop is the virtual clock and the event queue.
type loop struct {
	now    time.Time
	seq    uint64
	q      queue
	events uint64 // events run
}

// schedule runs fn at at (never before now).
func (l *loop) schedule(at time.Time, fn func()) *event {
	if at.Before(l.now) {
		at = l.now
	}
	l.seq++
	e := &event{at: at, seq: l.seq, fn: fn}
	heap.Push(&l.q, queued{at: at.UnixNano(), seq: e.seq, e: e})
	return e
}

// runUntil runs the events due at or before end, in order, and leaves the
// clock at end.
func (l *loop) runUntil(end time.Time) {
	for len(l.q) > 0 && !l.q[0].e.at.After(end) {
		e := heap.Pop(&l.q).(queued).e
		if e.dead {
			continue
		}
		l.now = e.at
		l.events++
		e.fn()
	}
	if end.After(l.now) {
		l.now = end
	}
}

// trace folds every delivered message and fired timer into one hash.
type trace struct {
	h     hash.Hash
	count uint64
}

func newTrace() *trace { return &trace{h: sha256.New()} }

// Trace record kinds.
const (
	recGossip   = 1
	recRequest  = 2
	recResponse = 3
	recTimer    = 4
	recSlot     = 5
	recScore    = 6 // a peer scored out (score.go)
)

// record adds one record: kind, time, receiving and sending node, a label
// (topic or protocol) and the payload's hash.
func (t *trace) record(kind byte, at time.Time, to, from int, label string, payload []byte) {
	var buf [1 + 8 + 4 + 4]byte
	buf[0] = kind
	binary.LittleEndian.PutUint64(buf[1:], uint64(at.UnixNano()))
	binary.LittleEndian.PutUint32(buf[9:], uint32(to))
	binary.LittleEndian.PutUint32(buf[13:], uint32(from))
	t.h.Write(buf[:])
	t.h.Write([]byte(label))
	sum := sha256.Sum256(payload)
	t.h.Write(sum[:])
	t.count++
}

// sum is the trace hash so far.
func (t *trace) sum() [32]byte {
	var out [32]byte
	copy(out[:], t.h.Sum(nil))
	return out
}
