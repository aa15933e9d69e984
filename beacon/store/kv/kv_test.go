package kv_test

import (
	"testing"

	"github.com/shardlab/shardlab/beacon/store/kv"
	"github.com/shardlab/shardlab/beacon/store/storetest"
)

func TestMemory(t *testing.T) {
	storetest.Run(t, func(*testing.T) kv.DB { return kv.NewMemory() })
}

func TestPebbleMem(t *testing.T) {
	storetest.Run(t, func(t *testing.T) kv.DB {
		db, err := kv.OpenPebbleMem()
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}

func TestPebbleDisk(t *testing.T) {
	storetest.Run(t, func(t *testing.T) kv.DB {
		db, err := kv.OpenPebble(t.TempDir(), kv.PebbleOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}

func TestPrefix(t *testing.T) {
	// Each view shares its parent with noise around the prefix, which the
	// view must never see.
	storetest.Run(t, func(t *testing.T) kv.DB {
		parent := kv.NewMemory()
		t.Cleanup(func() { _ = parent.Close() })
		for _, k := range []string{"", "p", "p\xff", "pr", "pre", "q", "\xff"} {
			if err := parent.Put([]byte(k), []byte("noise")); err != nil {
				t.Fatal(err)
			}
		}
		return kv.Prefix(parent, []byte("pre/"))
	})
}

func TestPrefixOnPebble(t *testing.T) {
	storetest.Run(t, func(t *testing.T) kv.DB {
		parent, err := kv.OpenPebbleMem()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = parent.Close() })
		return kv.Prefix(kv.Prefix(parent, []byte("a\xff")), []byte("\xff"))
	})
}
