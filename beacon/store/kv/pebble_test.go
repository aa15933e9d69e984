package kv_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/shardlab/shardlab/beacon/store/kv"
)

func openDisk(t *testing.T, dir string) kv.DB {
	t.Helper()
	db, err := kv.OpenPebble(dir, kv.PebbleOptions{})
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	return db
}

// fill writes n keys of 1 KiB values and flushes a Pebble db, so that the data
// ends up in a table file.
func fill(t *testing.T, db kv.DB, n int) {
	t.Helper()
	b := db.NewBatch()
	for i := range n {
		if err := b.Put(fmt.Appendf(nil, "key%05d", i), bytes.Repeat([]byte{byte(i)}, 1024)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := kv.Flush(db); err != nil {
		t.Fatal(err)
	}
}

func TestPebbleReopen(t *testing.T) {
	dir := t.TempDir()
	db := openDisk(t, dir)
	fill(t, db, 100)
	if err := db.Put([]byte("single"), []byte("put")); err != nil {
		t.Fatal(err)
	}
	if err := db.Delete([]byte("key00007")); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openDisk(t, dir)
	defer db.Close()
	n := 0
	if err := db.Iterate([]byte("key"), func(k, v []byte) (bool, error) {
		n++
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != 99 {
		t.Fatalf("%d keys after reopen, want 99", n)
	}
	if v, err := db.Get([]byte("single")); err != nil || string(v) != "put" {
		t.Fatalf("single = %q, %v", v, err)
	}
	if _, err := db.Get([]byte("key00007")); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("deleted key after reopen: %v", err)
	}
}

func TestPebbleOpenErrors(t *testing.T) {
	// damage builds a data directory and damages it.
	withDB := func(damage func(t *testing.T, dir string)) func(t *testing.T) string {
		return func(t *testing.T) string {
			dir := t.TempDir()
			db := openDisk(t, dir)
			fill(t, db, 200)
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			damage(t, dir)
			return dir
		}
	}
	overwrite := func(pattern string, data []byte) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			files, _ := filepath.Glob(filepath.Join(dir, pattern))
			if len(files) == 0 {
				t.Fatalf("no %s in %s", pattern, dir)
			}
			for _, f := range files {
				if err := os.WriteFile(f, data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	cases := []struct {
		name    string
		dir     func(t *testing.T) string
		corrupt bool // the error must wrap ErrCorrupt
	}{
		{"regular file", func(t *testing.T) string {
			f := filepath.Join(t.TempDir(), "file")
			if err := os.WriteFile(f, []byte("not a db"), 0o644); err != nil {
				t.Fatal(err)
			}
			return f
		}, false},
		{"garbage manifest", withDB(overwrite("MANIFEST-*", []byte("garbage, not a manifest"))), true},
		{"empty manifest", withDB(overwrite("MANIFEST-*", nil)), true},
		{"garbage options", withDB(overwrite("OPTIONS-*", []byte("garbage without an equals sign"))), true},
		{"truncated table", withDB(overwrite("*.sst", []byte("short"))), false},
		{"missing table", withDB(func(t *testing.T, dir string) {
			files, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
			for _, f := range files {
				_ = os.Remove(f)
			}
		}), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := c.dir(t)
			db, err := kv.OpenPebble(dir, kv.PebbleOptions{})
			if err == nil {
				_ = db.Close()
				t.Fatal("open succeeded")
			}
			if c.corrupt && !errors.Is(err, kv.ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
			if !strings.Contains(err.Error(), "open pebble") {
				t.Fatalf("error lacks context: %v", err)
			}
		})
	}
}

func TestPebbleLocked(t *testing.T) {
	dir := t.TempDir()
	db := openDisk(t, dir)
	defer db.Close()
	if db2, err := kv.OpenPebble(dir, kv.PebbleOptions{}); err == nil {
		_ = db2.Close()
		t.Fatal("a second open of a locked directory succeeded")
	}
}

// writeTables writes 500 keys of 1 KiB into a closed database in a new
// directory, flushed into one table file.
func writeTables(t *testing.T) (dir string, tables []string) {
	t.Helper()
	dir = t.TempDir()
	db := openDisk(t, dir)
	fill(t, db, 500)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	tables, _ = filepath.Glob(filepath.Join(dir, "*.sst"))
	if len(tables) != 1 {
		t.Fatalf("%d table files, want 1", len(tables))
	}
	return dir, tables
}

// TestPebbleCorruptTable damages a table file in place (same size): open may
// succeed, but reading the damaged block is an error, not a panic.
func TestPebbleCorruptTable(t *testing.T) {
	dir, files := writeTables(t)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// Flip bytes through the data blocks, keeping the footer intact.
		for i := 16; i < len(data)/2; i += 97 {
			data[i] ^= 0x5a
		}
		if err := os.WriteFile(f, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var logs bytes.Buffer
	db, err := kv.OpenPebble(dir, kv.PebbleOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		if !errors.Is(err, kv.ErrCorrupt) {
			t.Logf("open failed without ErrCorrupt (acceptable): %v", err)
		}
		return
	}
	defer db.Close()
	err = db.Iterate(nil, func(_, _ []byte) (bool, error) { return true, nil })
	if err == nil {
		t.Fatal("iterating a damaged table succeeded")
	}
	if !errors.Is(err, kv.ErrCorrupt) {
		t.Fatalf("iterate error does not wrap ErrCorrupt: %v", err)
	}
	t.Logf("iterate: %v", err)
	if _, err := db.Get([]byte("key00001")); err == nil {
		t.Fatal("reading a damaged block succeeded")
	}
}

// TestPebbleVerify damages one data block near the end of a table: a plain
// open does not notice (nothing reads it yet), an open with Verify refuses
// the database.
func TestPebbleVerify(t *testing.T) {
	dir, files := writeTables(t)
	f, err := os.OpenFile(files[0], os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The values are 1 KiB each, in key order: 90% into the table is a
	// block of the last keys, well before the index and footer.
	fi, _ := f.Stat()
	if _, err := f.WriteAt(bytes.Repeat([]byte{0x5a}, 32), fi.Size()*9/10); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	plain, err := kv.OpenPebble(dir, kv.PebbleOptions{})
	if err != nil {
		t.Fatalf("plain open: %v", err)
	}
	if _, err := plain.Get([]byte("key00001")); err != nil {
		t.Fatalf("an undamaged key: %v", err)
	}
	_ = plain.Close()
	_, err = kv.OpenPebble(dir, kv.PebbleOptions{Verify: true})
	if !errors.Is(err, kv.ErrCorrupt) || !strings.Contains(err.Error(), "verify pebble "+dir) {
		t.Fatalf("open with Verify: %v, want ErrCorrupt naming %s", err, dir)
	}
}

func TestPebbleReadOnly(t *testing.T) {
	dir := t.TempDir()
	db := openDisk(t, dir)
	fill(t, db, 10)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := kv.OpenPebble(dir, kv.PebbleOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.Get([]byte("key00003")); err != nil {
		t.Fatalf("read-only get: %v", err)
	}
	if err := ro.Put([]byte("x"), []byte("y")); err == nil {
		t.Fatal("put on a read-only database succeeded")
	}
	if _, err := kv.OpenPebble(t.TempDir()+"/missing", kv.PebbleOptions{ReadOnly: true}); err == nil {
		t.Fatal("read-only open of a missing database succeeded")
	}
}

func TestPebbleOptions(t *testing.T) {
	var logs bytes.Buffer
	db, err := kv.OpenPebble(t.TempDir(), kv.PebbleOptions{
		Logger:       slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		CacheSize:    1 << 20,
		MemTableSize: 1 << 20,
	})
	if err != nil {
		t.Fatal(err)
	}
	fill(t, db, 3000) // several memtables' worth: flushes happen
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

const killEnv = "SHARDLAB_KV_KILL_DIR"

// TestPebbleKillHelper is the child process of TestPebbleKill9: it commits
// batches forever, printing each batch number after its Commit returns.
func TestPebbleKillHelper(t *testing.T) {
	dir := os.Getenv(killEnv)
	if dir == "" {
		t.Skip("helper process of TestPebbleKill9")
	}
	db, err := kv.OpenPebble(dir, kv.PebbleOptions{})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(2)
	}
	b := db.NewBatch()
	for i := 0; ; i++ {
		for j := range 3 {
			_ = b.Put(fmt.Appendf(nil, "batch%06d/%d", i, j), bytes.Repeat([]byte{byte(i)}, 300))
		}
		if err := b.Commit(); err != nil {
			fmt.Println("error:", err)
			os.Exit(2)
		}
		fmt.Println(i)
	}
}

// TestPebbleKill9 kills a writing process with SIGKILL and checks that every
// batch whose Commit had returned is in the database, whole.
func TestPebbleKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestPebbleKillHelper$")
	cmd.Env = append(os.Environ(), killEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	last := -1
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		n, err := strconv.Atoi(sc.Text())
		if err != nil {
			continue // test framework noise
		}
		last = n
		if last >= 150 {
			break
		}
	}
	_ = cmd.Process.Kill() // SIGKILL
	_ = cmd.Wait()
	if last < 0 {
		t.Fatal("the helper committed nothing")
	}
	db := openDisk(t, dir)
	defer db.Close()
	for i := 0; i <= last; i++ {
		for j := range 3 {
			if ok, err := db.Has(fmt.Appendf(nil, "batch%06d/%d", i, j)); err != nil || !ok {
				t.Fatalf("batch %d (of %d committed) lost key %d after kill -9: %v", i, last+1, j, err)
			}
		}
	}
	// Whatever came after is whole or absent: batches are atomic.
	for i := last + 1; ; i++ {
		n := 0
		for j := range 3 {
			if ok, _ := db.Has(fmt.Appendf(nil, "batch%06d/%d", i, j)); ok {
				n++
			}
		}
		if n == 0 {
			break
		}
		if n != 3 {
			t.Fatalf("batch %d is partly applied (%d of 3 keys)", i, n)
		}
	}
}

func TestPrefixEnd(t *testing.T) {
	cases := []struct{ in, want []byte }{
		{nil, nil},
		{[]byte{}, nil},
		{[]byte("a"), []byte("b")},
		{[]byte("ab"), []byte("ac")},
		{[]byte{0x01, 0xff}, []byte{0x02}},
		{[]byte{0xff, 0xff}, nil},
		{[]byte{0x00}, []byte{0x01}},
	}
	for _, c := range cases {
		got := kv.PrefixEnd(c.in)
		if !bytes.Equal(got, c.want) || (got == nil) != (c.want == nil) {
			t.Errorf("PrefixEnd(%x) = %x, want %x", c.in, got, c.want)
		}
	}
	in := []byte("ab")
	_ = kv.PrefixEnd(in)
	if string(in) != "ab" {
		t.Fatal("PrefixEnd modified its argument")
	}
}
