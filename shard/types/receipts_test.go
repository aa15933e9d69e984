package types

import (
	"errors"
	"testing"

	"github.com/shardlab/shardlab/beacon/params"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/hash"
)

// TestReceiptsTree checks that the branches a ReceiptsTree gives are those
// of ReceiptProofs and prove each receipt in ReceiptsRoot, for lists of
// several shapes, and that bad indices and oversized lists fail.
func TestReceiptsTree(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		n    int
	}{
		{"one receipt", 1},
		{"odd count", 7},
		{"power of two", 64},
		{"full block", params.MaxShardTransactions},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rs := make([]Receipt, tc.n)
			for i := range rs {
				rs[i] = Receipt{SrcShard: 1, DstShard: bt.Shard(i % 3), Nonce: uint64(i), Sender: uint64(i), Amount: bt.Gwei(i + 1)}
			}
			root, err := ReceiptsRoot(rs)
			if err != nil {
				t.Fatal(err)
			}
			all, err := ReceiptProofs(rs)
			if err != nil {
				t.Fatal(err)
			}
			rt, err := NewReceiptsTree(rs)
			if err != nil {
				t.Fatal(err)
			}
			if rt.Len() != tc.n || rt.Root() != root {
				t.Fatalf("Len %d, Root %x; want %d, %x", rt.Len(), rt.Root(), tc.n, root)
			}
			for i := range rs {
				p, err := rt.Proof(i)
				if err != nil {
					t.Fatal(err)
				}
				if len(p) != ReceiptsDepth+1 {
					t.Fatalf("receipt %d: branch of %d", i, len(p))
				}
				for j := range p {
					if p[j] != all[i][j] {
						t.Fatalf("receipt %d: branch node %d differs from ReceiptProofs", i, j)
					}
				}
				leaf := rs[i].TreeRoot()
				branch := make([][32]byte, len(p))
				for j := range p {
					branch[j] = p[j]
				}
				if !hash.IsValidMerkleBranch(leaf, branch, ReceiptsDepth+1, uint64(i), root) {
					t.Fatalf("receipt %d: branch does not prove it in the receipts root", i)
				}
			}
			for _, i := range []int{-1, tc.n} {
				if _, err := rt.Proof(i); !errors.Is(err, hash.ErrIndex) {
					t.Fatalf("Proof(%d): %v, want ErrIndex", i, err)
				}
			}
		})
	}
	if _, err := NewReceiptsTree(make([]Receipt, params.MaxShardTransactions+1)); !errors.Is(err, ErrInvalidSSZ) {
		t.Fatalf("oversized list: %v, want ErrInvalidSSZ", err)
	}
}
