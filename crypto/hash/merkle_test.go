package hash

import (
	"errors"
	"math/rand"
	"testing"

	ssz "github.com/ferranbt/fastssz"
)

// naiveRoot materialises all 2^depth leaves and hashes level by level.
func naiveRoot(chunks [][32]byte, depth int) [32]byte {
	layer := make([][32]byte, 1<<depth)
	copy(layer, chunks)
	for len(layer) > 1 {
		next := make([][32]byte, len(layer)/2)
		for i := range next {
			next[i] = Hash64(layer[2*i], layer[2*i+1])
		}
		layer = next
	}
	return layer[0]
}

// liftRoot extends the root of a depth-from tree to depth-to by hashing
// with zero subtrees on the right, independently of Merkleize.
func liftRoot(root [32]byte, from, to int) [32]byte {
	for d := from; d < to; d++ {
		root = Hash64(root, ZeroHash(d))
	}
	return root
}

func TestMerkleizeTable(t *testing.T) {
	c := randChunks(rand.New(rand.NewSource(2)), 5)
	tests := []struct {
		name   string
		chunks [][32]byte
		limit  uint64
		want   [32]byte
		err    error
	}{
		{"limit 0, no chunks", nil, 0, [32]byte{}, nil},
		{"limit 0, one chunk", c[:1], 0, [32]byte{}, ErrTooManyChunks},
		{"limit 1, no chunks", nil, 1, [32]byte{}, nil},
		{"limit 1, one chunk", c[:1], 1, c[0], nil},
		{"limit 1, two chunks", c[:2], 1, [32]byte{}, ErrTooManyChunks},
		{"limit 2, one chunk", c[:1], 2, Hash64(c[0], [32]byte{}), nil},
		{"limit 2, two chunks", c[:2], 2, Hash64(c[0], c[1]), nil},
		{"limit 3, three chunks", c[:3], 3, Hash64(Hash64(c[0], c[1]), Hash64(c[2], [32]byte{})), nil},
		{"limit 4, no chunks", nil, 4, ZeroHash(2), nil},
		{"limit 5, five chunks", c, 5, naiveRoot(c, 3), nil},
		{"limit 4, five chunks", c, 4, [32]byte{}, ErrTooManyChunks},
		{"limit 2^40, three chunks", c[:3], 1 << 40, liftRoot(naiveRoot(c[:3], 2), 2, 40), nil},
		{"limit 2^40, no chunks", nil, 1 << 40, ZeroHash(40), nil},
		{"limit max, one chunk", c[:1], ^uint64(0), liftRoot(c[0], 0, 64), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Merkleize(tc.chunks, tc.limit)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err == nil && got != tc.want {
				t.Fatalf("root %x, want %x", got, tc.want)
			}
		})
	}
}

func TestMerkleizeAgainstNaive(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for iter := 0; iter < 500; iter++ {
		depth := r.Intn(11)
		limit := uint64(1) << depth
		if depth > 0 {
			// any limit in (2^(depth-1), 2^depth] pads to 2^depth
			limit -= uint64(r.Int63n(int64(limit / 2)))
		}
		n := r.Intn(int(limit) + 1)
		chunks := randChunks(r, n)
		orig := append([][32]byte(nil), chunks...)
		got, err := Merkleize(chunks, limit)
		if err != nil {
			t.Fatal(err)
		}
		if want := naiveRoot(chunks, depth); got != want {
			t.Fatalf("n=%d limit=%d: root %x, want %x", n, limit, got, want)
		}
		for i := range chunks {
			if chunks[i] != orig[i] {
				t.Fatal("Merkleize modified its input")
			}
		}
	}
}

// TestMerkleizeAgainstFastssz compares list roots with an independent SSZ
// implementation.
func TestMerkleizeAgainstFastssz(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	for iter := 0; iter < 200; iter++ {
		n := r.Intn(300)
		limit := uint64(n) + uint64(r.Int63n(1<<50))
		if limit == 0 {
			limit = 1
		}
		chunks := randChunks(r, n)
		hh := ssz.NewHasher()
		idx := hh.Index()
		for _, c := range chunks {
			hh.Append(c[:])
		}
		hh.MerkleizeWithMixin(idx, uint64(n), limit)
		want, err := hh.HashRoot()
		if err != nil {
			t.Fatal(err)
		}
		root, err := Merkleize(chunks, limit)
		if err != nil {
			t.Fatal(err)
		}
		if got := MixInLength(root, uint64(n)); got != want {
			t.Fatalf("n=%d limit=%d: %x, want %x", n, limit, got, want)
		}
	}
}

func TestEmptyUint64ListRoot(t *testing.T) {
	// List[uint64, 2**40]: 2^40 * 8 / 32 = 2^38 chunks.
	root, err := Merkleize(nil, 1<<38)
	if err != nil {
		t.Fatal(err)
	}
	got := MixInLength(root, 0)
	hh := ssz.NewHasher()
	hh.PutUint64Array(nil, 1<<40)
	want, err := hh.HashRoot()
	if err != nil {
		t.Fatal(err)
	}
	if got != want || got != MixInLength(ZeroHash(38), 0) {
		t.Fatalf("empty List[uint64, 2**40] root %x, fastssz %x", got, want)
	}
	// A few values, as the spec packs them: little-endian, 4 per chunk.
	vals := []uint64{1, 2, 3, 4, 5}
	var chunks [][32]byte
	for i, v := range vals {
		if i%4 == 0 {
			chunks = append(chunks, [32]byte{})
		}
		c := &chunks[len(chunks)-1]
		for j := 0; j < 8; j++ {
			c[(i%4)*8+j] = byte(v >> (8 * j))
		}
	}
	root, err = Merkleize(chunks, 1<<38)
	if err != nil {
		t.Fatal(err)
	}
	hh = ssz.NewHasher()
	hh.PutUint64Array(vals, 1<<40)
	want, _ = hh.HashRoot()
	if got := MixInLength(root, uint64(len(vals))); got != want {
		t.Fatalf("List[uint64, 2**40] of 5 values: %x, fastssz %x", got, want)
	}
}

func TestProofOfAndBranch(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	for iter := 0; iter < 60; iter++ {
		depth := r.Intn(9)
		n := r.Intn(1<<depth + 1)
		chunks := randChunks(r, n)
		root := naiveRoot(chunks, depth)
		for i := 0; i < 1<<depth; i++ {
			proof, err := ProofOf(chunks, depth, i)
			if err != nil {
				t.Fatal(err)
			}
			if len(proof) != depth {
				t.Fatalf("proof length %d, want %d", len(proof), depth)
			}
			var leaf [32]byte
			if i < n {
				leaf = chunks[i]
			}
			if !IsValidMerkleBranch(leaf, proof, uint64(depth), uint64(i), root) {
				t.Fatalf("depth %d n %d: proof of %d invalid", depth, n, i)
			}
			if depth == 0 {
				continue
			}
			bad := leaf
			bad[0] ^= 1
			if IsValidMerkleBranch(bad, proof, uint64(depth), uint64(i), root) {
				t.Fatal("altered leaf accepted")
			}
			if IsValidMerkleBranch(leaf, proof, uint64(depth), uint64(i^1), root) && proof[0] != leaf {
				t.Fatal("wrong index accepted")
			}
			if IsValidMerkleBranch(leaf, proof[:depth-1], uint64(depth), uint64(i), root) {
				t.Fatal("short branch accepted")
			}
		}
	}
}

func TestIsValidMerkleBranchEdges(t *testing.T) {
	leaf := [32]byte{7}
	tests := []struct {
		name   string
		branch [][32]byte
		depth  uint64
		index  uint64
		root   [32]byte
		want   bool
	}{
		{"depth 0 leaf is root", nil, 0, 0, leaf, true},
		{"depth 0 other root", nil, 0, 0, [32]byte{}, false},
		{"depth 1 left", [][32]byte{{1}}, 1, 0, Hash64(leaf, [32]byte{1}), true},
		{"depth 1 right", [][32]byte{{1}}, 1, 1, Hash64([32]byte{1}, leaf), true},
		{"index bits above depth ignored", [][32]byte{{1}}, 1, 2, Hash64(leaf, [32]byte{1}), true},
		{"extra branch entries ignored", [][32]byte{{1}, {2}}, 1, 0, Hash64(leaf, [32]byte{1}), true},
		{"branch too short", [][32]byte{{1}}, 2, 0, Hash64(leaf, [32]byte{1}), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsValidMerkleBranch(leaf, tc.branch, tc.depth, tc.index, tc.root); got != tc.want {
				t.Fatalf("IsValidMerkleBranch = %v, want %v", got, tc.want)
			}
		})
	}
	// Depth 65 with the top bit beyond uint64: the 65th step puts the
	// value on the left.
	branch := make([][32]byte, 65)
	v := leaf
	for i := 0; i < 65; i++ {
		if i == 63 {
			v = Hash64(branch[i], v)
		} else {
			v = Hash64(v, branch[i])
		}
	}
	if !IsValidMerkleBranch(leaf, branch, 65, 1<<63, v) {
		t.Fatal("depth 65 branch rejected")
	}
}

func TestProofOfErrors(t *testing.T) {
	chunks := randChunks(rand.New(rand.NewSource(6)), 5)
	tests := []struct {
		name  string
		depth int
		index int
		err   error
	}{
		{"too many chunks", 2, 0, ErrTooManyChunks},
		{"negative depth", -1, 0, ErrDepth},
		{"depth too large", 65, 0, ErrDepth},
		{"index past capacity", 3, 8, ErrIndex},
		{"negative index", 3, -1, ErrIndex},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ProofOf(chunks, tc.depth, tc.index); !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
		})
	}
}
