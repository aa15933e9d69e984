package kv

import (
	"bytes"
	"slices"
	"sync"
)

// memory is the map-backed DB of NewMemory.
type memory struct {
	gate gate
	mu   sync.RWMutex
	m    map[string][]byte
}

// NewMemory returns an empty DB held in a Go map. It is meant for small tests:
// each iteration sorts the matching keys.
func NewMemory() DB {
	return &memory{m: make(map[string][]byte)}
}

func (db *memory) Get(key []byte) ([]byte, error) {
	if err := db.gate.enter("get"); err != nil {
		return nil, err
	}
	defer db.gate.exit()
	db.mu.RLock()
	defer db.mu.RUnlock()
	v, ok := db.m[string(key)]
	if !ok {
		return nil, ErrNotFound
	}
	return clone(v), nil
}

func (db *memory) Has(key []byte) (bool, error) {
	if err := db.gate.enter("has"); err != nil {
		return false, err
	}
	defer db.gate.exit()
	db.mu.RLock()
	defer db.mu.RUnlock()
	_, ok := db.m[string(key)]
	return ok, nil
}

func (db *memory) Put(key, value []byte) error {
	if err := db.gate.enter("put"); err != nil {
		return err
	}
	defer db.gate.exit()
	db.mu.Lock()
	defer db.mu.Unlock()
	db.m[string(key)] = clone(value)
	return nil
}

func (db *memory) Delete(key []byte) error {
	if err := db.gate.enter("delete"); err != nil {
		return err
	}
	defer db.gate.exit()
	db.mu.Lock()
	defer db.mu.Unlock()
	delete(db.m, string(key))
	return nil
}

func (db *memory) NewBatch() Batch { return &memoryBatch{db: db} }

func (db *memory) Iterate(prefix []byte, fn func(key, value []byte) (bool, error)) error {
	return db.IterateRange(prefix, PrefixEnd(prefix), fn)
}

func (db *memory) IterateRange(start, limit []byte, fn func(key, value []byte) (bool, error)) error {
	if err := db.gate.enter("iterate"); err != nil {
		return err
	}
	defer db.gate.exit()
	type kv struct {
		k string
		v []byte
	}
	// Take the snapshot under the lock, then call fn without it so fn may
	// write to the DB.
	db.mu.RLock()
	var snap []kv
	for k, v := range db.m {
		if (start == nil || k >= string(start)) && (limit == nil || k < string(limit)) {
			snap = append(snap, kv{k, v})
		}
	}
	db.mu.RUnlock()
	slices.SortFunc(snap, func(a, b kv) int { return bytes.Compare([]byte(a.k), []byte(b.k)) })
	for _, e := range snap {
		// Stored values are never modified in place, so copying outside
		// the lock is safe.
		more, err := fn([]byte(e.k), clone(e.v))
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
	}
	return nil
}

func (db *memory) Close() error {
	if db.gate.close() {
		db.mu.Lock()
		db.m = nil
		db.mu.Unlock()
	}
	return nil
}

type memoryOp struct {
	key, value []byte
	del        bool
}

type memoryBatch struct {
	db  *memory
	ops []memoryOp
}

func (b *memoryBatch) Put(key, value []byte) error {
	b.ops = append(b.ops, memoryOp{key: clone(key), value: clone(value)})
	return nil
}

func (b *memoryBatch) Delete(key []byte) error {
	b.ops = append(b.ops, memoryOp{key: clone(key), del: true})
	return nil
}

func (b *memoryBatch) Commit() error {
	if err := b.db.gate.enter("commit batch"); err != nil {
		b.ops = nil
		return err
	}
	defer b.db.gate.exit()
	b.db.mu.Lock()
	defer b.db.mu.Unlock()
	for _, op := range b.ops {
		if op.del {
			delete(b.db.m, string(op.key))
		} else {
			b.db.m[string(op.key)] = op.value
		}
	}
	b.ops = nil
	return nil
}

func (b *memoryBatch) Len() int { return len(b.ops) }

func (b *memoryBatch) Reset() { b.ops = nil }
