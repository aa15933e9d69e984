package validator

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestChunks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n       uint64
		workers int
		want    [][2]uint64
	}{
		{0, 4, nil},
		{10, 4, [][2]uint64{{0, 10}}},
		{1200, 0, [][2]uint64{{0, 1200}}},
		{1200, 2, [][2]uint64{{0, 600}, {600, 1200}}},
		{1100, 3, [][2]uint64{{0, 512}, {512, 1024}, {1024, 1100}}},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, chunks(tc.n, tc.workers)); diff != "" {
			t.Errorf("chunks(%d, %d) (-want +got):\n%s", tc.n, tc.workers, diff)
		}
	}
}

func TestInteropKeysParallel(t *testing.T) {
	t.Parallel()
	got, err := NewInteropKeysParallel(1100, 3)
	if err != nil {
		t.Fatal(err)
	}
	want, err := NewInteropKeys(0, 1100)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want.Pubkeys(), got.Pubkeys()); diff != "" || got.Start() != 0 {
		t.Fatalf("parallel keys differ:\n%s", diff)
	}
}
