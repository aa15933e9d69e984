package kv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// PebbleOptions tunes OpenPebble. The zero value is a good default.
type PebbleOptions struct {
	// Logger receives Pebble's messages: its informational messages at debug
	// level, its errors at error level. Nil discards them.
	Logger *slog.Logger
	// CacheSize is the block cache size in bytes; 0 leaves Pebble's default.
	CacheSize int64
	// MemTableSize is the size of one memtable in bytes; 0 leaves Pebble's
	// default.
	MemTableSize uint64
	// ReadOnly opens an existing database without writing to it; writes
	// fail.
	ReadOnly bool
	// Verify reads every key and value once after opening, so that damaged
	// tables (whose block checksums Pebble checks on every read) are found
	// at startup, not at the first read of a damaged block. It costs one
	// sequential read of the database.
	Verify bool
}

// pebbleDB is the DB of OpenPebble and OpenPebbleMem.
type pebbleDB struct {
	gate gate
	db   *pebble.DB
	name string // for error messages
}

// OpenPebble opens, or creates, the Pebble database in dir. A directory that
// is not a Pebble database, or whose files are damaged, is an error (wrapping
// ErrCorrupt when Pebble reports corruption), never a panic.
func OpenPebble(dir string, opts PebbleOptions) (DB, error) {
	return openPebble(dir, vfs.Default, opts)
}

// OpenPebbleMem opens an empty Pebble database on Pebble's in-memory file
// system: the same code path as OpenPebble, without a disk. Its contents are
// lost on Close.
func OpenPebbleMem() (DB, error) {
	return openPebble("", vfs.NewMem(), PebbleOptions{})
}

func openPebble(dir string, fs vfs.FS, o PebbleOptions) (_ DB, err error) {
	name := dir
	if fs != vfs.Default {
		name = "in-memory"
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	lg := pebbleLogger{log: log.With("component", "pebble")}
	opts := &pebble.Options{
		FS:       fs,
		Logger:   lg,
		ReadOnly: o.ReadOnly,
		EventListener: &pebble.EventListener{
			// The default reaction to a corrupt block is Logger.Fatalf; the
			// read that found it already fails with an error, so log only.
			DataCorruption: func(info pebble.DataCorruptionInfo) {
				lg.log.Error("data corruption", "info", info.String())
			},
			BackgroundError: func(err error) {
				lg.log.Error("background error", "err", err)
			},
		},
	}
	if o.MemTableSize > 0 {
		opts.MemTableSize = o.MemTableSize
	}
	if o.CacheSize > 0 {
		c := pebble.NewCache(o.CacheSize)
		defer c.Unref() // Open takes its own reference
		opts.Cache = c
	}
	// Pebble reports most damage as errors, but a damaged file can also trip
	// one of its internal assertions: turn that into an error as well.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("open pebble %s: %w: %v", name, ErrCorrupt, r)
		}
	}()
	db, err := pebble.Open(dir, opts)
	if err != nil {
		return nil, fmt.Errorf("open pebble %s: %w", name, wrapPebble(err))
	}
	d := &pebbleDB{db: db, name: name}
	if o.Verify {
		if err := d.Iterate(nil, func(_, _ []byte) (bool, error) { return true, nil }); err != nil {
			_ = d.Close()
			return nil, fmt.Errorf("verify pebble %s: %w", name, err)
		}
	}
	return d, nil
}

// wrapPebble marks Pebble's corruption errors with ErrCorrupt. Pebble marks
// them with cockroachdb/errors, which the standard errors.Is does not see.
func wrapPebble(err error) error {
	if pebble.IsCorruptionError(err) {
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return err
}

func (d *pebbleDB) Get(key []byte) ([]byte, error) {
	if err := d.gate.enter("get"); err != nil {
		return nil, err
	}
	defer d.gate.exit()
	v, closer, err := d.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get %x: %w", key, wrapPebble(err))
	}
	out := clone(v)
	if err := closer.Close(); err != nil {
		return nil, fmt.Errorf("get %x: %w", key, wrapPebble(err))
	}
	return out, nil
}

func (d *pebbleDB) Has(key []byte) (bool, error) {
	if err := d.gate.enter("has"); err != nil {
		return false, err
	}
	defer d.gate.exit()
	_, closer, err := d.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("has %x: %w", key, wrapPebble(err))
	}
	if err := closer.Close(); err != nil {
		return false, fmt.Errorf("has %x: %w", key, wrapPebble(err))
	}
	return true, nil
}

func (d *pebbleDB) Put(key, value []byte) error {
	if err := d.gate.enter("put"); err != nil {
		return err
	}
	defer d.gate.exit()
	if err := d.db.Set(key, value, pebble.Sync); err != nil {
		return fmt.Errorf("put %x: %w", key, wrapPebble(err))
	}
	return nil
}

func (d *pebbleDB) Delete(key []byte) error {
	if err := d.gate.enter("delete"); err != nil {
		return err
	}
	defer d.gate.exit()
	if err := d.db.Delete(key, pebble.Sync); err != nil {
		return fmt.Errorf("delete %x: %w", key, wrapPebble(err))
	}
	return nil
}

func (d *pebbleDB) NewBatch() Batch { return &pebbleBatch{d: d} }

func (d *pebbleDB) Iterate(prefix []byte, fn func(key, value []byte) (bool, error)) error {
	return d.IterateRange(prefix, PrefixEnd(prefix), fn)
}

func (d *pebbleDB) IterateRange(start, limit []byte, fn func(key, value []byte) (bool, error)) (err error) {
	if err := d.gate.enter("iterate"); err != nil {
		return err
	}
	defer d.gate.exit()
	it, err := d.db.NewIterWithContext(context.Background(), &pebble.IterOptions{
		LowerBound: cloneOrNil(start),
		UpperBound: cloneOrNil(limit),
	})
	if err != nil {
		return fmt.Errorf("iterate: %w", wrapPebble(err))
	}
	defer func() {
		if cerr := it.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("iterate: %w", wrapPebble(cerr))
		}
	}()
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return fmt.Errorf("iterate at %x: %w", it.Key(), wrapPebble(err))
		}
		more, err := fn(clone(it.Key()), clone(v))
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("iterate: %w", wrapPebble(err))
	}
	return nil
}

func cloneOrNil(b []byte) []byte {
	if b == nil {
		return nil
	}
	return clone(b)
}

func (d *pebbleDB) Close() error {
	if !d.gate.close() {
		return nil
	}
	if err := d.db.Close(); err != nil {
		return fmt.Errorf("close pebble %s: %w", d.name, wrapPebble(err))
	}
	return nil
}

// pebbleBatch builds a pebble.Batch lazily, so that an abandoned kv.Batch
// holds no Pebble resources.
type pebbleBatch struct {
	d *pebbleDB
	b *pebble.Batch
}

func (b *pebbleBatch) batch() *pebble.Batch {
	if b.b == nil {
		b.b = b.d.db.NewBatch()
	}
	return b.b
}

func (b *pebbleBatch) Put(key, value []byte) error {
	if err := b.batch().Set(key, value, nil); err != nil {
		return fmt.Errorf("batch put %x: %w", key, err)
	}
	return nil
}

func (b *pebbleBatch) Delete(key []byte) error {
	if err := b.batch().Delete(key, nil); err != nil {
		return fmt.Errorf("batch delete %x: %w", key, err)
	}
	return nil
}

func (b *pebbleBatch) Commit() error {
	if err := b.d.gate.enter("commit batch"); err != nil {
		b.Reset()
		return err
	}
	defer b.d.gate.exit()
	if b.b == nil {
		return nil
	}
	err := b.b.Commit(pebble.Sync)
	// A committed pebble.Batch cannot take more writes; an uncommitted one is
	// dropped as the contract says. Either way start afresh.
	b.Reset()
	if err != nil {
		return fmt.Errorf("commit batch: %w", wrapPebble(err))
	}
	return nil
}

func (b *pebbleBatch) Len() int {
	if b.b == nil {
		return 0
	}
	return int(b.b.Count())
}

func (b *pebbleBatch) Reset() {
	if b.b != nil {
		_ = b.b.Close() // returns the batch to Pebble's pool; it never fails
		b.b = nil
	}
}

// pebbleLogger sends Pebble's log lines to a slog.Logger.
type pebbleLogger struct{ log *slog.Logger }

func (l pebbleLogger) Infof(format string, args ...any) {
	l.log.Debug(fmt.Sprintf(format, args...))
}

func (l pebbleLogger) Errorf(format string, args ...any) {
	l.log.Error(fmt.Sprintf(format, args...))
}

// Fatalf is called by Pebble on states it cannot continue from (a failed
// MANIFEST sync, a broken invariant) and must not return: log and panic.
func (l pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	l.log.Error(msg, "fatal", true)
	panic("pebble: " + msg)
}
