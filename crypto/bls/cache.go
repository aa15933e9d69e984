package bls

import "sync"

// PubkeyCache memoises PublicKeyFromBytes, whose decompression and
// subgroup check dominate the cost of reading a key. It is safe for
// concurrent use. Only successful decodings are kept; the cache grows with
// the number of distinct keys seen (one entry per validator in practice).
// The zero value is not usable; call NewPubkeyCache.
type PubkeyCache struct {
	mu sync.RWMutex
	m  map[[PublicKeySize]byte]*PublicKey
}

// NewPubkeyCache returns an empty cache.
func NewPubkeyCache() *PubkeyCache {
	return &PubkeyCache{m: make(map[[PublicKeySize]byte]*PublicKey)}
}

// Get returns the decoded key for b, decoding and remembering it on first
// use. The returned key is shared and must not be modified (the API offers
// no way to).
func (c *PubkeyCache) Get(b [PublicKeySize]byte) (*PublicKey, error) {
	c.mu.RLock()
	pk, ok := c.m[b]
	c.mu.RUnlock()
	if ok {
		return pk, nil
	}
	pk, err := PublicKeyFromBytes(b[:])
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if prev, ok := c.m[b]; ok {
		pk = prev
	} else {
		c.m[b] = pk
	}
	c.mu.Unlock()
	return pk, nil
}

// Len returns the number of cached keys.
func (c *PubkeyCache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
