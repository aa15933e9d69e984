package sigcache

import (
	"container/list"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"sync"
)

// Digest names one verification: a SHA-256 over its scheme and inputs.
type Digest [32]byte

// DefaultEntries is the bound a node uses when it is given none: enough
// for the attestations of several epochs of a large validator set, or a
// 64 full shard blocks of transactions, at about 150 bytes an entry (~10 MB).
const DefaultEntries = 1 << 16

// Stats are a cache's counters since it was made.
type Stats struct {
	Hits      uint64 // lookups that found a verified signature
	Misses    uint64 // lookups that did not
	Adds      uint64 // digests added (repeats included)
	Evictions uint64 // digests dropped to respect the bound
	Entries   int    // digests held now
	Capacity  int    // the bound on Entries
}

// Cache is a bounded set of digests of verified signatures with
// least-recently-used eviction. It is safe for concurrent use. A nil
// *Cache holds nothing: Contains reports false and Add does nothing.
type Cache struct {
	mu      sync.Mutex
	cap     int
	order   *list.List // front = most recently used; values are Digest
	entries map[Digest]*list.Element
	stats   Stats
}

// New returns an empty cache holding at most entries digests; entries <= 0
// means DefaultEntries.
func New(entries int) *Cache {
	if entries <= 0 {
		entries = DefaultEntries
	}
	return &Cache{cap: entries, order: list.New(), entries: make(map[Digest]*list.Element)}
}

// Contains reports whether d was added and not evicted since, and marks it
// recently used. It counts a hit or a miss.
func (c *Cache) Contains(d Digest) bool {
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[d]
	if !ok {
		c.stats.Misses++
		return false
	}
	c.stats.Hits++
	c.order.MoveToFront(e)
	return true
}

// Add records that the verification named by d succeeded, evicting the
// least recently used digest when the cache is full. Callers must add a
// digest only after its verification succeeded.
func (c *Cache) Add(d Digest) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats.Adds++
	if e, ok := c.entries[d]; ok {
		c.order.MoveToFront(e)
		return
	}
	if c.order.Len() >= c.cap {
		old := c.order.Back()
		delete(c.entries, old.Value.(Digest))
		c.order.Remove(old)
		c.stats.Evictions++
	}
	c.entries[d] = c.order.PushFront(d)
}

// Check answers the check named by d: true at once when d is held,
// otherwise verify's result, remembering d when it is true. A nil c calls
// verify every time.
func (c *Cache) Check(d Digest, verify func() bool) bool {
	if c.Contains(d) {
		return true
	}
	if !verify() {
		return false
	}
	c.Add(d)
	return true
}

// Stats returns the counters; a nil cache reports zeros.
func (c *Cache) Stats() Stats {
	if c == nil {
		return Stats{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Entries, s.Capacity = c.order.Len(), c.cap
	return s
}

// Hasher builds a Digest from a scheme tag and a sequence of fields. Each
// field is written with its length first, so that no two different field
// sequences give the same byte stream.
type Hasher struct {
	h   hash.Hash
	buf [8]byte
}

// NewHasher starts a digest for the given scheme, e.g. "bls-v0.8.3/verify".
func NewHasher(scheme string) *Hasher {
	h := &Hasher{h: sha256.New()}
	h.Write([]byte(scheme))
	return h
}

// Write adds one length-prefixed field.
func (h *Hasher) Write(field []byte) {
	binary.BigEndian.PutUint64(h.buf[:], uint64(len(field)))
	h.h.Write(h.buf[:])
	h.h.Write(field)
}

// Count adds a count (of keys, messages) as its own field.
func (h *Hasher) Count(n int) {
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], uint64(n))
	h.Write(v[:])
}

// Sum returns the digest of everything written.
func (h *Hasher) Sum() Digest {
	var d Digest
	h.h.Sum(d[:0])
	return d
}
