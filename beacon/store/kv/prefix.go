package kv

import "fmt"

// prefixDB is the view of Prefix.
type prefixDB struct {
	gate   gate
	db     DB
	prefix []byte
}

// Prefix returns a view of db in which every key is stored with p in front:
// keys written through the view are p+key in db, and the view's iterations
// see only keys that start with p, with p removed. Closing the view does not
// close db (its owner does); it only makes the view refuse further calls.
func Prefix(db DB, p []byte) DB {
	return &prefixDB{db: db, prefix: clone(p)}
}

func (v *prefixDB) key(k []byte) []byte {
	out := make([]byte, 0, len(v.prefix)+len(k))
	return append(append(out, v.prefix...), k...)
}

func (v *prefixDB) Get(key []byte) ([]byte, error) {
	if err := v.gate.enter("get"); err != nil {
		return nil, err
	}
	defer v.gate.exit()
	return v.db.Get(v.key(key))
}

func (v *prefixDB) Has(key []byte) (bool, error) {
	if err := v.gate.enter("has"); err != nil {
		return false, err
	}
	defer v.gate.exit()
	return v.db.Has(v.key(key))
}

func (v *prefixDB) Put(key, value []byte) error {
	if err := v.gate.enter("put"); err != nil {
		return err
	}
	defer v.gate.exit()
	return v.db.Put(v.key(key), value)
}

func (v *prefixDB) Delete(key []byte) error {
	if err := v.gate.enter("delete"); err != nil {
		return err
	}
	defer v.gate.exit()
	return v.db.Delete(v.key(key))
}

func (v *prefixDB) NewBatch() Batch { return &prefixBatch{v: v, b: v.db.NewBatch()} }

func (v *prefixDB) Iterate(prefix []byte, fn func(key, value []byte) (bool, error)) error {
	return v.IterateRange(prefix, PrefixEnd(prefix), fn)
}

func (v *prefixDB) IterateRange(start, limit []byte, fn func(key, value []byte) (bool, error)) error {
	if err := v.gate.enter("iterate"); err != nil {
		return err
	}
	defer v.gate.exit()
	lo := v.key(start)
	var hi []byte
	if limit != nil {
		hi = v.key(limit)
	} else {
		hi = PrefixEnd(v.prefix)
	}
	n := len(v.prefix)
	return v.db.IterateRange(lo, hi, func(k, val []byte) (bool, error) {
		if len(k) < n {
			return false, fmt.Errorf("iterate prefix %x: key %x outside the prefix", v.prefix, k)
		}
		return fn(k[n:], val)
	})
}

func (v *prefixDB) Close() error {
	v.gate.close()
	return nil
}

type prefixBatch struct {
	v *prefixDB
	b Batch
}

func (b *prefixBatch) Put(key, value []byte) error { return b.b.Put(b.v.key(key), value) }

func (b *prefixBatch) Delete(key []byte) error { return b.b.Delete(b.v.key(key)) }

func (b *prefixBatch) Commit() error {
	if err := b.v.gate.enter("commit batch"); err != nil {
		b.b.Reset()
		return err
	}
	defer b.v.gate.exit()
	return b.b.Commit()
}

func (b *prefixBatch) Len() int { return b.b.Len() }

func (b *prefixBatch) Reset() { b.b.Reset() }
