package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/shardlab/shardlab/beacon/store/kv"
)

// Run runs the conformance suite. open must return a new, empty database for
// each call; Run closes it (a second Close must be harmless).
func Run(t *testing.T, open func(t *testing.T) kv.DB) {
	tests := []struct {
		name string
		fn   func(t *testing.T, db kv.DB)
	}{
		{"PutGetHasDelete", testPutGetHasDelete},
		{"NotFound", testNotFound},
		{"Overwrite", testOverwrite},
		{"BatchCommit", testBatchCommit},
		{"BatchUncommitted", testBatchUncommitted},
		{"BatchOrder", testBatchOrder},
		{"BatchReuse", testBatchReuse},
		{"IterateOrder", testIterateOrder},
		{"IteratePrefix", testIteratePrefix},
		{"IterateRange", testIterateRange},
		{"IterateStop", testIterateStop},
		{"IterateWhileWriting", testIterateWhileWriting},
		{"NotAliased", testNotAliased},
		{"LargeValue", testLargeValue},
		{"Concurrent", testConcurrent},
		{"Close", testClose},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := open(t)
			defer func() {
				if err := db.Close(); err != nil {
					t.Errorf("close: %v", err)
				}
			}()
			tc.fn(t, db)
		})
	}
}

func put(t *testing.T, db kv.DB, key, value string) {
	t.Helper()
	if err := db.Put([]byte(key), []byte(value)); err != nil {
		t.Fatalf("put %q: %v", key, err)
	}
}

// expect checks that key holds value, or is absent when absent is set.
func expect(t *testing.T, db kv.DB, key, value string, absent bool) {
	t.Helper()
	got, err := db.Get([]byte(key))
	has, herr := db.Has([]byte(key))
	if herr != nil {
		t.Fatalf("has %q: %v", key, herr)
	}
	if absent {
		if !errors.Is(err, kv.ErrNotFound) {
			t.Fatalf("get %q = %q, %v; want ErrNotFound", key, got, err)
		}
		if has {
			t.Fatalf("has %q = true for a missing key", key)
		}
		return
	}
	if err != nil {
		t.Fatalf("get %q: %v", key, err)
	}
	if string(got) != value {
		t.Fatalf("get %q = %q, want %q", key, got, value)
	}
	if got == nil {
		t.Fatalf("get %q returned a nil slice for a present key", key)
	}
	if !has {
		t.Fatalf("has %q = false for a present key", key)
	}
}

// collect returns key=value strings of an iteration.
func collect(t *testing.T, iter func(fn func(k, v []byte) (bool, error)) error) []string {
	t.Helper()
	var out []string
	err := iter(func(k, v []byte) (bool, error) {
		out = append(out, string(k)+"="+string(v))
		return true, nil
	})
	if err != nil {
		t.Fatalf("iterate: %v", err)
	}
	return out
}

func all(db kv.DB) func(fn func(k, v []byte) (bool, error)) error {
	return func(fn func(k, v []byte) (bool, error)) error { return db.Iterate(nil, fn) }
}

func testPutGetHasDelete(t *testing.T, db kv.DB) {
	cases := []struct{ name, key, value string }{
		{"plain", "key", "value"},
		{"empty value", "empty", ""},
		{"empty key", "", "for the empty key"},
		{"binary", "\x00\x01\xff", "\xff\x00\x00"},
		{"long key", string(bytes.Repeat([]byte("k"), 1000)), "v"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			expect(t, db, c.key, "", true)
			put(t, db, c.key, c.value)
			expect(t, db, c.key, c.value, false)
			if err := db.Delete([]byte(c.key)); err != nil {
				t.Fatalf("delete: %v", err)
			}
			expect(t, db, c.key, "", true)
		})
	}
}

func testNotFound(t *testing.T, db kv.DB) {
	put(t, db, "a", "1")
	for _, k := range []string{"b", "", "a\x00", "A"} {
		expect(t, db, k, "", true)
	}
	if err := db.Delete([]byte("missing")); err != nil {
		t.Fatalf("delete of a missing key: %v", err)
	}
	expect(t, db, "a", "1", false)
}

func testOverwrite(t *testing.T, db kv.DB) {
	for _, v := range []string{"first", "second, longer", "", "last"} {
		put(t, db, "k", v)
		expect(t, db, "k", v, false)
	}
	if got := collect(t, all(db)); !slices.Equal(got, []string{"k=last"}) {
		t.Fatalf("after overwrites the db holds %q", got)
	}
}

func testBatchCommit(t *testing.T, db kv.DB) {
	put(t, db, "gone", "x")
	b := db.NewBatch()
	if b.Len() != 0 {
		t.Fatalf("new batch Len = %d", b.Len())
	}
	for _, k := range []string{"a", "b", "c"} {
		if err := b.Put([]byte(k), []byte("v"+k)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Delete([]byte("gone")); err != nil {
		t.Fatal(err)
	}
	if b.Len() != 4 {
		t.Fatalf("batch Len = %d, want 4", b.Len())
	}
	// Nothing is visible before Commit.
	expect(t, db, "a", "", true)
	expect(t, db, "gone", "x", false)
	if err := b.Commit(); err != nil {
		t.Fatalf("commit: %v", err)
	}
	if b.Len() != 0 {
		t.Fatalf("Len after commit = %d, want 0", b.Len())
	}
	want := []string{"a=va", "b=vb", "c=vc"}
	if got := collect(t, all(db)); !slices.Equal(got, want) {
		t.Fatalf("after commit: %q, want %q", got, want)
	}
	// An empty batch commits as a no-op.
	if err := db.NewBatch().Commit(); err != nil {
		t.Fatalf("commit of an empty batch: %v", err)
	}
}

func testBatchUncommitted(t *testing.T, db kv.DB) {
	put(t, db, "keep", "1")
	b := db.NewBatch()
	_ = b.Put([]byte("new"), []byte("x"))
	_ = b.Delete([]byte("keep"))
	// Abandoned: never committed.
	b2 := db.NewBatch()
	_ = b2.Put([]byte("other"), []byte("y"))
	_ = b2.Delete([]byte("keep"))
	b2.Reset()
	if b2.Len() != 0 {
		t.Fatalf("Len after Reset = %d", b2.Len())
	}
	if err := b2.Commit(); err != nil {
		t.Fatalf("commit after reset: %v", err)
	}
	if got := collect(t, all(db)); !slices.Equal(got, []string{"keep=1"}) {
		t.Fatalf("uncommitted batches wrote: %q", got)
	}
}

func testBatchOrder(t *testing.T, db kv.DB) {
	type op struct {
		del bool
		v   string
	}
	cases := []struct {
		name    string
		initial string // "" = absent
		ops     []op
		want    string // "" = absent
	}{
		{"put then delete", "", []op{{v: "a"}, {del: true}}, ""},
		{"delete then put", "old", []op{{del: true}, {v: "new"}}, "new"},
		{"two puts", "", []op{{v: "a"}, {v: "b"}}, "b"},
		{"put delete put", "old", []op{{v: "a"}, {del: true}, {v: "c"}}, "c"},
		{"delete existing", "old", []op{{del: true}}, ""},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key := fmt.Sprintf("k%d", i)
			if c.initial != "" {
				put(t, db, key, c.initial)
			}
			b := db.NewBatch()
			for _, o := range c.ops {
				var err error
				if o.del {
					err = b.Delete([]byte(key))
				} else {
					err = b.Put([]byte(key), []byte(o.v))
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if err := b.Commit(); err != nil {
				t.Fatal(err)
			}
			expect(t, db, key, c.want, c.want == "")
		})
	}
}

func testBatchReuse(t *testing.T, db kv.DB) {
	b := db.NewBatch()
	for round := range 3 {
		k := fmt.Sprintf("round%d", round)
		if err := b.Put([]byte(k), []byte(k)); err != nil {
			t.Fatal(err)
		}
		if b.Len() != 1 {
			t.Fatalf("round %d: Len = %d, want 1", round, b.Len())
		}
		if err := b.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"round0=round0", "round1=round1", "round2=round2"}
	if got := collect(t, all(db)); !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func testIterateOrder(t *testing.T, db kv.DB) {
	keys := []string{"", "\x00", "\x00\x00", "\x01", "a", "aa", "ab", "b", "\x7f", "\x80", "\xff", "\xff\xff"}
	rng := rand.New(rand.NewPCG(1, 2))
	shuffled := slices.Clone(keys)
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	b := db.NewBatch()
	for i, k := range shuffled {
		if i%2 == 0 {
			put(t, db, k, "v"+k)
		} else if err := b.Put([]byte(k), []byte("v"+k)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, k := range keys { // already in bytewise order
		want = append(want, k+"=v"+k)
	}
	if got := collect(t, all(db)); !slices.Equal(got, want) {
		t.Fatalf("iteration order:\n got %q\nwant %q", got, want)
	}
}

func testIteratePrefix(t *testing.T, db kv.DB) {
	for _, k := range []string{"a", "ab", "abc", "abd", "ac", "b", "\x01\xff", "\x01\xff\x00", "\x02", "\xff", "\xff\xff", "\xff\xff\x01"} {
		put(t, db, k, "")
	}
	cases := []struct {
		prefix string
		want   []string
	}{
		{"ab", []string{"ab", "abc", "abd"}},
		{"abc", []string{"abc"}},
		{"a", []string{"a", "ab", "abc", "abd", "ac"}},
		{"abz", nil},
		{"c", nil},
		{"\x01\xff", []string{"\x01\xff", "\x01\xff\x00"}},
		{"\xff", []string{"\xff", "\xff\xff", "\xff\xff\x01"}},
		{"\xff\xff", []string{"\xff\xff", "\xff\xff\x01"}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%x", c.prefix), func(t *testing.T) {
			var got []string
			err := db.Iterate([]byte(c.prefix), func(k, _ []byte) (bool, error) {
				got = append(got, string(k))
				return true, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("prefix %q: got %q, want %q", c.prefix, got, c.want)
			}
		})
	}
	// A nil and an empty prefix visit everything.
	for _, p := range [][]byte{nil, {}} {
		n := 0
		if err := db.Iterate(p, func(_, _ []byte) (bool, error) { n++; return true, nil }); err != nil {
			t.Fatal(err)
		}
		if n != 12 {
			t.Fatalf("prefix %q visited %d keys, want 12", p, n)
		}
	}
}

func testIterateRange(t *testing.T, db kv.DB) {
	for _, k := range []string{"a", "b", "ba", "c", "d"} {
		put(t, db, k, "")
	}
	cases := []struct {
		name         string
		start, limit []byte
		want         []string
	}{
		{"all", nil, nil, []string{"a", "b", "ba", "c", "d"}},
		{"from b", []byte("b"), nil, []string{"b", "ba", "c", "d"}},
		{"to c", nil, []byte("c"), []string{"a", "b", "ba"}},
		{"b to c", []byte("b"), []byte("c"), []string{"b", "ba"}},
		{"between keys", []byte("bb"), []byte("cc"), []string{"c"}},
		{"empty", []byte("b"), []byte("b"), nil},
		{"inverted", []byte("d"), []byte("a"), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			err := db.IterateRange(c.start, c.limit, func(k, _ []byte) (bool, error) {
				got = append(got, string(k))
				return true, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("[%q, %q): got %q, want %q", c.start, c.limit, got, c.want)
			}
		})
	}
}

func testIterateStop(t *testing.T, db kv.DB) {
	for _, k := range []string{"a", "b", "c", "d"} {
		put(t, db, k, "")
	}
	n := 0
	err := db.Iterate(nil, func(_, _ []byte) (bool, error) {
		n++
		return n < 2, nil
	})
	if err != nil || n != 2 {
		t.Fatalf("stop after 2: visited %d, err %v", n, err)
	}
	boom := errors.New("boom")
	n = 0
	err = db.Iterate(nil, func(_, _ []byte) (bool, error) {
		n++
		if n == 3 {
			return true, boom
		}
		return true, nil
	})
	if !errors.Is(err, boom) || n != 3 {
		t.Fatalf("error at 3: visited %d, err %v; want boom after 3", n, err)
	}
}

func testIterateWhileWriting(t *testing.T, db kv.DB) {
	for _, k := range []string{"k1", "k3", "k5"} {
		put(t, db, k, "old")
	}
	var got []string
	err := db.Iterate([]byte("k"), func(k, v []byte) (bool, error) {
		got = append(got, string(k)+"="+string(v))
		// Writes inside the callback must not deadlock and are not seen
		// by the running iteration.
		if string(k) == "k1" {
			if err := db.Put([]byte("k2"), []byte("new")); err != nil {
				return false, err
			}
			if err := db.Put([]byte("k5"), []byte("new")); err != nil {
				return false, err
			}
			if err := db.Delete([]byte("k3")); err != nil {
				return false, err
			}
		}
		if _, err := db.Get(k); err != nil && !errors.Is(err, kv.ErrNotFound) {
			return false, err
		}
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"k1=old", "k3=old", "k5=old"}
	if !slices.Equal(got, want) {
		t.Fatalf("iteration saw %q, want the snapshot %q", got, want)
	}
	want = []string{"k1=old", "k2=new", "k5=new"}
	if got := collect(t, all(db)); !slices.Equal(got, want) {
		t.Fatalf("after: %q, want %q", got, want)
	}
}

func testNotAliased(t *testing.T, db kv.DB) {
	key, val := []byte("key"), []byte("value")
	if err := db.Put(key, val); err != nil {
		t.Fatal(err)
	}
	key[0], val[0] = 'X', 'X' // the caller reuses its buffers
	expect(t, db, "key", "value", false)

	got, err := db.Get([]byte("key"))
	if err != nil {
		t.Fatal(err)
	}
	got[0] = 'Y'
	expect(t, db, "key", "value", false)

	bk, bv := []byte("bkey"), []byte("bval")
	b := db.NewBatch()
	if err := b.Put(bk, bv); err != nil {
		t.Fatal(err)
	}
	bk[0], bv[0] = 'X', 'X'
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	expect(t, db, "bkey", "bval", false)

	// Slices handed to an iteration callback stay valid and unchanged.
	for i := range 50 {
		put(t, db, fmt.Sprintf("it%03d", i), fmt.Sprintf("v%03d", i))
	}
	var keys, vals [][]byte
	if err := db.Iterate([]byte("it"), func(k, v []byte) (bool, error) {
		keys, vals = append(keys, k), append(vals, v)
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		put(t, db, fmt.Sprintf("it%03d", i), "overwritten")
	}
	for i := range keys {
		if string(keys[i]) != fmt.Sprintf("it%03d", i) || string(vals[i]) != fmt.Sprintf("v%03d", i) {
			t.Fatalf("kept slice %d changed: %q=%q", i, keys[i], vals[i])
		}
	}
	keys[0][0], vals[0][0] = 'Z', 'Z'
	expect(t, db, "it000", "overwritten", false)
}

func testLargeValue(t *testing.T, db kv.DB) {
	big := make([]byte, 4<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	if err := db.Put([]byte("big"), big); err != nil {
		t.Fatal(err)
	}
	got, err := db.Get([]byte("big"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, big) {
		t.Fatal("large value changed in a round trip")
	}
}

func testConcurrent(t *testing.T, db kv.DB) {
	const workers, n = 4, 100
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range n {
				k := []byte(fmt.Sprintf("w%d/%03d", w, i))
				if err := db.Put(k, k); err != nil {
					errs <- err
					return
				}
				v, err := db.Get(k)
				if err != nil || !bytes.Equal(v, k) {
					errs <- fmt.Errorf("get %s = %q, %v", k, v, err)
					return
				}
				if i%10 == 0 {
					if err := db.Iterate([]byte(fmt.Sprintf("w%d/", w)), func(_, _ []byte) (bool, error) { return true, nil }); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := len(collect(t, all(db))); got != workers*n {
		t.Fatalf("%d keys after concurrent writes, want %d", got, workers*n)
	}
}

func testClose(t *testing.T, db kv.DB) {
	put(t, db, "k", "v")
	b := db.NewBatch()
	_ = b.Put([]byte("late"), []byte("v"))
	if err := db.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	late := db.NewBatch() // a batch made and filled after Close
	if err := late.Put([]byte("later"), []byte("v")); err != nil {
		t.Fatalf("batch put after close: %v", err)
	}
	_, getErr := db.Get([]byte("k"))
	_, hasErr := db.Has([]byte("k"))
	noop := func(_, _ []byte) (bool, error) { return true, nil }
	ops := map[string]error{
		"get":          getErr,
		"has":          hasErr,
		"put":          db.Put([]byte("k"), []byte("v")),
		"delete":       db.Delete([]byte("k")),
		"iterate":      db.Iterate(nil, noop),
		"iterateRange": db.IterateRange(nil, nil, noop),
		"commit":       b.Commit(),
		"commit late":  late.Commit(),
	}
	for name, err := range ops {
		if !errors.Is(err, kv.ErrClosed) {
			t.Errorf("%s after close: %v, want ErrClosed", name, err)
		}
	}
}
