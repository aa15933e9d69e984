package hash

import (
	"crypto/sha256"
	"encoding/hex"
	"math/rand"
	"testing"
)

func h32(t testing.TB, s string) [32]byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		t.Fatalf("bad hex %q", s)
	}
	var out [32]byte
	copy(out[:], b)
	return out
}

func randChunks(r *rand.Rand, n int) [][32]byte {
	cs := make([][32]byte, n)
	for i := range cs {
		r.Read(cs[i][:])
	}
	return cs
}

func TestHash(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	}
	for _, tc := range tests {
		if got := Hash([]byte(tc.in)); got != h32(t, tc.want) {
			t.Errorf("Hash(%q) = %x, want %s", tc.in, got, tc.want)
		}
	}
}

func TestHash64(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 50; i++ {
		cs := randChunks(r, 2)
		want := sha256.Sum256(append(cs[0][:], cs[1][:]...))
		if got := Hash64(cs[0], cs[1]); got != want {
			t.Fatalf("Hash64 = %x, want %x", got, want)
		}
	}
	a, b := [32]byte{1}, [32]byte{2}
	if allocs := testing.AllocsPerRun(100, func() { a = Hash64(a, b) }); allocs != 0 {
		t.Fatalf("Hash64 allocates %v times", allocs)
	}
}

func TestZeroHashes(t *testing.T) {
	// Well-known values (the deposit contract's zero hashes).
	known := []struct {
		depth int
		want  string
	}{
		{0, "0000000000000000000000000000000000000000000000000000000000000000"},
		{1, "f5a5fd42d16a20302798ef6ed309979b43003d2320d9f0e8ea9831a92759fb4b"},
		{2, "db56114e00fdd4c1f85c892bf35ac9a89289aaecb1ebd0a96cde606a748b5d71"},
		{3, "c78009fdf07fc56a11f122370658a353aaa542ed63e44c4bc15ff4cd105ab33c"},
	}
	for _, tc := range known {
		if got := ZeroHash(tc.depth); got != h32(t, tc.want) {
			t.Errorf("ZeroHash(%d) = %x, want %s", tc.depth, got, tc.want)
		}
	}
	all := ZeroHashes()
	for d := 1; d <= MaxDepth; d++ {
		if all[d] != Hash64(all[d-1], all[d-1]) || all[d] != ZeroHash(d) {
			t.Fatalf("zero hash %d inconsistent", d)
		}
	}
	all[5] = [32]byte{9} // the copy is the caller's
	if ZeroHash(5) == all[5] {
		t.Fatal("ZeroHashes exposes internal state")
	}
}

func TestDepth(t *testing.T) {
	tests := []struct {
		limit uint64
		want  int
	}{
		{0, 0}, {1, 0}, {2, 1}, {3, 2}, {4, 2}, {5, 3}, {8, 3}, {9, 4},
		{1 << 38, 38}, {1<<38 + 1, 39}, {1 << 63, 63}, {1<<63 + 1, 64}, {^uint64(0), 64},
	}
	for _, tc := range tests {
		if got := Depth(tc.limit); got != tc.want {
			t.Errorf("Depth(%d) = %d, want %d", tc.limit, got, tc.want)
		}
	}
}

func TestMixInLength(t *testing.T) {
	// The root of an empty deposit tree (depth 32, count 0), as returned
	// by the deposit contract's get_deposit_root().
	want := h32(t, "d70a234731285c6804c2a4f56711ddb8c82c99740f207854891028af34e27e5e")
	if got := MixInLength(ZeroHash(32), 0); got != want {
		t.Fatalf("empty deposit root %x, want %x", got, want)
	}
	root := [32]byte{0xaa}
	var l [32]byte
	l[0], l[1] = 0x34, 0x12
	if got := MixInLength(root, 0x1234); got != Hash64(root, l) {
		t.Fatal("length not mixed in little-endian")
	}
}

func BenchmarkHash64(b *testing.B) {
	x, y := [32]byte{1}, [32]byte{2}
	for b.Loop() {
		x = Hash64(x, y)
	}
}

func BenchmarkMerkleize1024Limit2p40(b *testing.B) {
	cs := randChunks(rand.New(rand.NewSource(1)), 1024)
	for b.Loop() {
		if _, err := Merkleize(cs, 1<<40); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTreeSet(b *testing.B) {
	cs := randChunks(rand.New(rand.NewSource(1)), 1<<14)
	tr, err := NewTree(cs, 40)
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		i = (i + 7919) % len(cs)
		if err := tr.Set(i, [32]byte{byte(i)}); err != nil {
			b.Fatal(err)
		}
	}
}
