package p2p

import (
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
)

// TestDeriveKey checks that DeriveKey is deterministic, distinct per seed,
// pinned (a rendered deployment's bootnode peer IDs depend on it) and
// rejects an empty seed.
func TestDeriveKey(t *testing.T) {
	id := func(seed string) peer.ID {
		t.Helper()
		k, err := DeriveKey(seed)
		if err != nil {
			t.Fatalf("DeriveKey(%q): %v", seed, err)
		}
		id, err := peer.IDFromPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	a, b := id("shardlab/1/beacon-0"), id("shardlab/1/beacon-0")
	if a != b {
		t.Fatalf("same seed, different peer IDs: %s, %s", a, b)
	}
	if c := id("shardlab/1/beacon-1"); c == a {
		t.Fatalf("different seeds, same peer ID %s", c)
	}
	// Pinned: rendered manifests name this ID (sim/deploy golden files).
	if got, want := a.String(), "12D3KooWHxjJpHLTG4zoKTTnuAJE2xBpjsX1Z28NWjjoouXL3M9N"; got != want {
		t.Fatalf("peer ID of shardlab/1/beacon-0 = %s, want %s", got, want)
	}
	if _, err := DeriveKey(""); err == nil {
		t.Fatal("DeriveKey(\"\"): no error")
	}
}
