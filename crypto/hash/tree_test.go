package hash

import (
	"errors"
	"math/rand"
	"testing"
)

func TestTreeRandomOps(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	for iter := 0; iter < 40; iter++ {
		depth := r.Intn(8)
		capacity := 1 << depth
		leaves := randChunks(r, r.Intn(capacity+1))
		tr, err := NewTree(leaves, depth)
		if err != nil {
			t.Fatal(err)
		}
		ref := append([][32]byte(nil), leaves...)
		for op := 0; op < 60; op++ {
			var c [32]byte
			r.Read(c[:])
			switch {
			case len(ref) < capacity && r.Intn(3) == 0:
				if err := tr.Append(c); err != nil {
					t.Fatal(err)
				}
				ref = append(ref, c)
			case len(ref) > 0:
				i := r.Intn(len(ref))
				if err := tr.Set(i, c); err != nil {
					t.Fatal(err)
				}
				ref[i] = c
			}
			if tr.Len() != len(ref) {
				t.Fatalf("Len = %d, want %d", tr.Len(), len(ref))
			}
			want := naiveRoot(ref, depth)
			if tr.Root() != want {
				t.Fatalf("depth %d op %d: root %x, want %x", depth, op, tr.Root(), want)
			}
			i := r.Intn(capacity)
			proof, err := tr.Proof(i)
			if err != nil {
				t.Fatal(err)
			}
			var leaf [32]byte
			if i < len(ref) {
				leaf = ref[i]
				if got, err := tr.Leaf(i); err != nil || got != leaf {
					t.Fatalf("Leaf(%d) = %x, %v", i, got, err)
				}
			}
			if !IsValidMerkleBranch(leaf, proof, uint64(depth), uint64(i), want) {
				t.Fatalf("proof of %d invalid", i)
			}
		}
	}
}

func TestTreeDeep(t *testing.T) {
	// A deposit-style tree: depth 32, built by appends, equals Merkleize
	// with limit 2^32 after every append.
	r := rand.New(rand.NewSource(8))
	tr, err := NewTree(nil, 32)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Root() != ZeroHash(32) {
		t.Fatal("empty tree root is not the zero hash")
	}
	var leaves [][32]byte
	for i := 0; i < 40; i++ {
		c := randChunks(r, 1)[0]
		leaves = append(leaves, c)
		if err := tr.Append(c); err != nil {
			t.Fatal(err)
		}
		want, err := Merkleize(leaves, 1<<32)
		if err != nil {
			t.Fatal(err)
		}
		if tr.Root() != want {
			t.Fatalf("after %d appends: root %x, want %x", i+1, tr.Root(), want)
		}
		proof, err := tr.Proof(i)
		if err != nil {
			t.Fatal(err)
		}
		if !IsValidMerkleBranch(c, proof, 32, uint64(i), want) {
			t.Fatalf("proof of %d invalid", i)
		}
		// Deposit proofs carry the count as a 33rd element.
		var count [32]byte
		count[0] = byte(i + 1)
		full := append(proof, count)
		if !IsValidMerkleBranch(c, full, 33, uint64(i), MixInLength(want, uint64(i+1))) {
			t.Fatalf("proof of %d with length mix-in invalid", i)
		}
	}
	// Depth 64: the largest supported.
	big, err := NewTree(leaves[:3], 64)
	if err != nil {
		t.Fatal(err)
	}
	if want := liftRoot(naiveRoot(leaves[:3], 2), 2, 64); big.Root() != want {
		t.Fatalf("depth 64 root %x, want %x", big.Root(), want)
	}
	if err := big.Append(leaves[3]); err != nil {
		t.Fatal(err)
	}
	if p, err := big.Proof(1 << 40); err != nil || !IsValidMerkleBranch([32]byte{}, p, 64, 1<<40, big.Root()) {
		t.Fatalf("proof of an empty leaf in a depth-64 tree: %v", err)
	}
}

func TestTreeCopy(t *testing.T) {
	leaves := randChunks(rand.New(rand.NewSource(9)), 5)
	a, err := NewTree(leaves, 4)
	if err != nil {
		t.Fatal(err)
	}
	rootA := a.Root()
	b := a.Copy()
	if err := b.Set(2, [32]byte{1}); err != nil {
		t.Fatal(err)
	}
	if err := b.Append([32]byte{2}); err != nil {
		t.Fatal(err)
	}
	if a.Root() != rootA || a.Len() != 5 {
		t.Fatal("modifying a copy changed the original")
	}
	if b.Root() == rootA || b.Len() != 6 {
		t.Fatal("copy not modified")
	}
	leaves[0] = [32]byte{3}
	if a.Root() != rootA {
		t.Fatal("NewTree kept the caller's slice")
	}
}

func TestTreeErrors(t *testing.T) {
	leaves := randChunks(rand.New(rand.NewSource(10)), 4)
	if _, err := NewTree(leaves, -1); !errors.Is(err, ErrDepth) {
		t.Errorf("depth -1: %v", err)
	}
	if _, err := NewTree(leaves, 65); !errors.Is(err, ErrDepth) {
		t.Errorf("depth 65: %v", err)
	}
	if _, err := NewTree(leaves, 1); !errors.Is(err, ErrTooManyChunks) {
		t.Errorf("4 leaves at depth 1: %v", err)
	}
	tr, err := NewTree(leaves, 2)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"append to full", tr.Append([32]byte{}), ErrTreeFull},
		{"set past end", tr.Set(4, [32]byte{}), ErrIndex},
		{"set negative", tr.Set(-1, [32]byte{}), ErrIndex},
		{"proof past capacity", func() error { _, err := tr.Proof(4); return err }(), ErrIndex},
		{"leaf past end", func() error { _, err := tr.Leaf(4); return err }(), ErrIndex},
	}
	for _, tc := range tests {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	zero, err := NewTree(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if zero.Root() != ([32]byte{}) || zero.Depth() != 0 {
		t.Fatal("empty depth-0 tree")
	}
	if err := zero.Append([32]byte{5}); err != nil || zero.Root() != ([32]byte{5}) {
		t.Fatalf("depth-0 append: %v", err)
	}
	if err := zero.Append([32]byte{6}); !errors.Is(err, ErrTreeFull) {
		t.Fatalf("second append to depth 0: %v", err)
	}
	if p, err := zero.Proof(0); err != nil || len(p) != 0 {
		t.Fatalf("depth-0 proof: %v %v", p, err)
	}
}

// TestTreeLazyMatchesRebuild applies random sets, appends and truncations
// and checks root, nodes and proofs against a tree rebuilt from the leaves.
func TestTreeLazyMatchesRebuild(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	for _, depth := range []int{0, 1, 5, 12, 40} {
		tr, err := NewTree(nil, depth)
		if err != nil {
			t.Fatal(err)
		}
		var leaves [][32]byte
		for step := 0; step < 300; step++ {
			switch k := r.Intn(10); {
			case k < 4 && (depth >= 63 || len(leaves) < 1<<depth):
				var l [32]byte
				l[0], l[1] = byte(step), byte(step>>8)
				leaves = append(leaves, l)
				if err := tr.Append(l); err != nil {
					t.Fatal(err)
				}
			case k < 8 && len(leaves) > 0:
				i := r.Intn(len(leaves))
				leaves[i][5]++
				if err := tr.Set(i, leaves[i]); err != nil {
					t.Fatal(err)
				}
			case len(leaves) > 0:
				n := r.Intn(len(leaves) + 1)
				leaves = leaves[:n]
				if err := tr.Truncate(n); err != nil {
					t.Fatal(err)
				}
			}
			if r.Intn(3) > 0 {
				continue // let changes pile up before the next check
			}
			want, err := NewTree(leaves, depth)
			if err != nil {
				t.Fatal(err)
			}
			if tr.Root() != want.Root() {
				t.Fatalf("depth %d step %d: lazy root differs from a rebuild", depth, step)
			}
			if len(leaves) > 0 {
				i := r.Intn(len(leaves))
				p, _ := tr.Proof(i)
				if !IsValidMerkleBranch(leaves[i], p, uint64(depth), uint64(i), want.Root()) {
					t.Fatalf("depth %d step %d: proof of %d invalid", depth, step, i)
				}
				h := r.Intn(depth + 1)
				a, err1 := tr.Node(h, i>>h)
				b, err2 := want.Node(h, i>>h)
				if err1 != nil || err2 != nil || a != b {
					t.Fatalf("depth %d step %d: node (%d,%d) differs", depth, step, h, i>>h)
				}
			}
		}
	}
}

func TestTreeTruncateErrors(t *testing.T) {
	tr, _ := NewTree([][32]byte{{1}, {2}}, 3)
	if err := tr.Truncate(3); err == nil {
		t.Error("truncating past the end accepted")
	}
	if err := tr.Truncate(-1); err == nil {
		t.Error("negative truncate accepted")
	}
	if _, err := tr.Node(4, 0); err == nil {
		t.Error("node above the root accepted")
	}
	if _, err := tr.Node(0, 8); err == nil {
		t.Error("node past the tree accepted")
	}
	if err := tr.Truncate(0); err != nil || tr.Root() != ZeroHash(3) {
		t.Errorf("empty tree root wrong: %v", err)
	}
}

// TestListProofs checks every branch ListProofs gives against the list root
// MixInLength(root, len), including an empty list and a full one.
func TestListProofs(t *testing.T) {
	type root [32]byte
	for _, n := range []int{0, 1, 5, 8} {
		leaves := make([][32]byte, n)
		for i := range leaves {
			leaves[i] = Hash([]byte{byte(i), 7})
		}
		tr, err := NewTree(leaves, 3)
		if err != nil {
			t.Fatal(err)
		}
		proofs, err := ListProofs[root](tr)
		if err != nil || len(proofs) != n {
			t.Fatalf("n=%d: %d proofs, %v", n, len(proofs), err)
		}
		want := MixInLength(tr.Root(), uint64(n))
		for i, p := range proofs {
			branch := make([][32]byte, len(p))
			for j := range p {
				branch[j] = p[j]
			}
			if len(branch) != 4 || !IsValidMerkleBranch(leaves[i], branch, 4, uint64(i), want) {
				t.Errorf("n=%d: branch of leaf %d does not prove it in the list root", n, i)
			}
			if IsValidMerkleBranch(leaves[i], branch, 4, uint64(i)^1, want) {
				t.Errorf("n=%d: branch of leaf %d also proves it at index %d", n, i, i^1)
			}
		}
	}
}
