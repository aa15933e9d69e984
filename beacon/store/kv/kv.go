package kv

import (
	"fmt"
	"sync"
)

// DB is an ordered key-value database. See the package documentation for the
// contract every implementation keeps.
type DB interface {
	// Get returns a copy of the value stored under key, or an error wrapping
	// ErrNotFound.
	Get(key []byte) ([]byte, error)
	// Has reports whether key is present.
	Has(key []byte) (bool, error)
	// Put stores value under key, replacing any previous value.
	Put(key, value []byte) error
	// Delete removes key; deleting a missing key is not an error.
	Delete(key []byte) error
	// NewBatch returns an empty batch of writes to this database.
	NewBatch() Batch
	// Iterate calls fn for each key that starts with prefix, in ascending
	// order, until fn returns false or an error. An error from fn is returned
	// as is. A nil or empty prefix visits every key.
	Iterate(prefix []byte, fn func(key, value []byte) (bool, error)) error
	// IterateRange is Iterate over the keys k with start <= k < limit; a nil
	// start or limit leaves that side unbounded.
	IterateRange(start, limit []byte, fn func(key, value []byte) (bool, error)) error
	// Close releases the database. Later calls return ErrClosed; a second
	// Close returns nil.
	Close() error
}

// Batch is a set of writes applied atomically by Commit. It is not safe for
// concurrent use.
type Batch interface {
	// Put adds a write of value under key.
	Put(key, value []byte) error
	// Delete adds a deletion of key.
	Delete(key []byte) error
	// Commit applies the writes atomically and durably, then empties the batch
	// (also when it fails) so it can be reused. Later writes to the same key
	// win over earlier ones. Committing an empty batch does nothing.
	Commit() error
	// Len is the number of writes in the batch.
	Len() int
	// Reset discards the writes without applying them.
	Reset()
}

// PrefixEnd returns the smallest key greater than every key that starts with
// prefix, or nil when there is none (an empty prefix or one of only 0xff
// bytes): the exclusive upper bound of a prefix scan.
func PrefixEnd(prefix []byte) []byte {
	for i := len(prefix) - 1; i >= 0; i-- {
		if prefix[i] != 0xff {
			end := append([]byte(nil), prefix[:i+1]...)
			end[i]++
			return end
		}
	}
	return nil
}

// clone returns a copy of b that is never nil.
func clone(b []byte) []byte {
	return append(make([]byte, 0, len(b)), b...)
}

// gate tracks the calls running on a database so that Close can wait for
// them and later calls can be refused.
type gate struct {
	mu      sync.Mutex
	idle    sync.Cond
	running int
	closed  bool
}

// enter registers a call; it fails once the database is closed. Every
// successful enter must be paired with exit.
func (g *gate) enter(op string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return fmt.Errorf("%s: %w", op, ErrClosed)
	}
	g.running++
	return nil
}

func (g *gate) exit() {
	g.mu.Lock()
	g.running--
	if g.running == 0 && g.idle.L != nil {
		g.idle.Broadcast()
	}
	g.mu.Unlock()
}

// close marks the database closed and waits for running calls. It reports
// whether this call closed it (false when it was already closed).
func (g *gate) close() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.closed = true
	if g.idle.L == nil {
		g.idle.L = &g.mu
	}
	for g.running > 0 {
		g.idle.Wait()
	}
	return true
}
