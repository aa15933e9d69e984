package hash

import (
	"errors"
	"math/rand"
	"testing"
)

func TestGIndex(t *testing.T) {
	if got := GIndexConcat(3, 5); got != 3*4+1 {
		t.Errorf("GIndexConcat(3,5) = %d", got)
	}
	if got := GIndexConcat(GIndexConcat(2, 3), 2); got != GIndexConcat(2, GIndexConcat(3, 2)) {
		t.Errorf("concat not associative: %d", got)
	}
	if GIndexAt(3, 5) != 13 {
		t.Error("GIndexAt")
	}
}

// TestMultiproofRandom proves random leaf sets of random trees, checks the
// reconstructed root, then changes leaves through the partial tree and
// compares with the full tree changed the same way.
func TestMultiproofRandom(t *testing.T) {
	r := rand.New(rand.NewSource(21))
	for trial := 0; trial < 200; trial++ {
		depth := r.Intn(12) + 1
		n := r.Intn(1<<depth) + 1
		leaves := make([][32]byte, n)
		for i := range leaves {
			leaves[i][0], leaves[i][1] = byte(i), byte(trial)
		}
		full, _ := NewTree(leaves, depth)
		var idx []uint64
		for k := r.Intn(6) + 1; k > 0; k-- {
			idx = append(idx, GIndexAt(depth, uint64(r.Intn(1<<depth))))
		}
		sorted, lv, hp, err := BuildMultiproof(full.TreeNode, idx)
		if err != nil {
			t.Fatal(err)
		}
		p, err := NewPartialTree(sorted, lv, hp)
		if err != nil {
			t.Fatal(err)
		}
		if root, _ := p.Root(); root != full.Root() {
			t.Fatalf("trial %d: partial root differs", trial)
		}
		for _, g := range sorted {
			v, err := p.Leaf(g)
			if err != nil {
				t.Fatal(err)
			}
			v[7]++
			if err := p.SetLeaf(g, v); err != nil {
				t.Fatal(err)
			}
			i := int(g - 1<<depth)
			if i >= full.Len() {
				if err := full.Resize(i + 1); err != nil {
					t.Fatal(err)
				}
			}
			_ = full.Set(i, v)
		}
		if root, err := p.Root(); err != nil || root != full.Root() {
			t.Fatalf("trial %d: root after updates differs (%v)", trial, err)
		}
		if _, err := p.Leaf(1); !errors.Is(err, ErrMissingNode) {
			t.Errorf("reading an unrevealed node: %v", err)
		}
	}
}

func TestMultiproofMalformed(t *testing.T) {
	leaves := [][32]byte{{1}, {2}, {3}, {4}}
	full, _ := NewTree(leaves, 2)
	sorted, lv, hp, _ := BuildMultiproof(full.TreeNode, []uint64{4})
	if _, err := NewPartialTree(sorted, lv, hp[:1]); err == nil {
		t.Error("too few helpers accepted")
	}
	if _, err := NewPartialTree([]uint64{4, 4}, [][32]byte{{1}, {1}}, hp); err == nil {
		t.Error("duplicate leaf accepted")
	}
	if _, err := NewPartialTree([]uint64{2, 4}, [][32]byte{{1}, {1}}, nil); err == nil {
		t.Error("ancestor leaf accepted")
	}
	if _, err := NewPartialTree([]uint64{0}, [][32]byte{{1}}, nil); err == nil {
		t.Error("gindex 0 accepted")
	}
	if _, err := NewPartialTree([]uint64{4}, nil, nil); err == nil {
		t.Error("leaf count mismatch accepted")
	}
	// A tampered helper gives a different root, not an error: callers compare roots.
	hp[0][0] ^= 1
	p, err := NewPartialTree(sorted, lv, hp)
	if err != nil {
		t.Fatal(err)
	}
	if root, _ := p.Root(); root == full.Root() {
		t.Error("tampered proof gives the right root")
	}
}

func FuzzNewPartialTree(f *testing.F) {
	f.Add([]byte{4, 0, 5, 0}, []byte{1, 2})
	f.Fuzz(func(t *testing.T, idx []byte, vals []byte) {
		var indices []uint64
		for i := 0; i+1 < len(idx) && len(indices) < 16; i += 2 {
			indices = append(indices, uint64(idx[i])|uint64(idx[i+1])<<8)
		}
		leaves := make([][32]byte, len(indices))
		helpers := make([][32]byte, len(vals)%40)
		p, err := NewPartialTree(indices, leaves, helpers)
		if err != nil {
			return
		}
		if _, err := p.Root(); err != nil {
			t.Fatalf("built tree has no root: %v", err)
		}
	})
}
