package store_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/shardlab/shardlab/beacon/store"
)

func TestMarker(t *testing.T) {
	path := filepath.Join(t.TempDir(), "beacon.head")
	if _, ok, err := store.ReadMarker(path); ok || err != nil {
		t.Fatalf("missing marker: ok %v, %v", ok, err)
	}
	for _, m := range []store.Marker{{Slot: 7, Root: root(3)}, {Slot: 1 << 40, Root: root(9), Clean: true}} {
		if err := store.WriteMarker(path, m); err != nil {
			t.Fatal(err)
		}
		got, ok, err := store.ReadMarker(path)
		if err != nil || !ok || got != m {
			t.Fatalf("read %+v (%v, %v), wrote %+v", got, ok, err, m)
		}
	}
	if _, err := os.Stat(path + ".tmp"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("temporary file left behind: %v", err)
	}
	for _, bad := range []string{"", "7", "x 0x00 clean", "7 0x12 clean", "7 " + root(1).String() + " maybe"} {
		if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, err := store.ReadMarker(path); !errors.Is(err, store.ErrCorrupt) {
			t.Errorf("ReadMarker(%q) = %v, want ErrCorrupt", bad, err)
		}
	}
}
