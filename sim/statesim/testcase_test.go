package statesim

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
)

// TestWriteCase writes a run as a sanity/blocks case and replays it with
// full signature verification, as the official runner would.
func TestWriteCase(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "case")
	cfg := DefaultConfig()
	cfg.Epochs = 3
	cfg.Participation = 0.9
	cfg.OutDir = dir
	res := runSim(t, cfg)

	meta, err := os.ReadFile(filepath.Join(dir, "meta.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "blocks_count: 23\nbls_setting: 1\n"; string(meta) != want {
		t.Fatalf("meta.yaml = %q, want %q", meta, want)
	}
	tr := core.New(cfg.Chain)
	c, err := ReadCase(tr, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Blocks) != res.Blocks || c.BLSSetting != 1 {
		t.Fatalf("case has %d blocks (bls_setting %d), run made %d", len(c.Blocks), c.BLSSetting, res.Blocks)
	}
	for i, b := range c.Blocks {
		if uint64(b.Slot) != uint64(i)+1 {
			t.Fatalf("blocks_%d is at slot %d", i, b.Slot)
		}
	}
	pre, _ := res.Genesis.MarshalSSZ()
	if got, _ := c.Pre.MarshalSSZ(); !bytes.Equal(got, pre) {
		t.Fatal("pre.ssz is not the genesis state")
	}
	post, _ := res.Final.MarshalSSZ()
	if !bytes.Equal(c.Post, post) {
		t.Fatal("post.ssz is not the final state")
	}
	if err := VerifyCase(tr, dir); err != nil {
		t.Fatal(err)
	}

	// A changed block signature fails the replay; a changed post-state
	// is a mismatch.
	blk := filepath.Join(dir, "blocks_5.ssz")
	orig, err := os.ReadFile(blk)
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(orig)
	bad[len(bad)-1] ^= 1
	if err := os.WriteFile(blk, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := VerifyCase(tr, dir); err == nil {
		t.Fatal("a tampered block replayed")
	}
	if err := os.WriteFile(blk, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	postPath := filepath.Join(dir, "post.ssz")
	if err := os.WriteFile(postPath, pre, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := VerifyCase(tr, dir); !errors.Is(err, ErrCaseMismatch) {
		t.Fatalf("wrong post.ssz: err = %v, want ErrCaseMismatch", err)
	}

	// Without post.ssz the blocks must be rejected, and these are not.
	if err := os.Remove(postPath); err != nil {
		t.Fatal(err)
	}
	if err := VerifyCase(tr, dir); !errors.Is(err, ErrCaseMismatch) {
		t.Fatalf("no post.ssz: err = %v, want ErrCaseMismatch", err)
	}

	// A non-empty output directory is refused before anything is run.
	cfg.Epochs = 1
	if _, err := Run(context.Background(), cfg, nil); err == nil {
		t.Fatal("a run wrote into a non-empty directory")
	}
}

// TestVerifyCaseOfficialVectors runs VerifyCase over the official v0.8.3
// minimal sanity/blocks vectors, to show that it reads and judges the format
// as the official runner does.
func TestVerifyCaseOfficialVectors(t *testing.T) {
	t.Parallel()
	root := specTestsRoot(t)
	if root == "" {
		t.Skip("spec tests not found: set SPEC_TESTS_DIR to the v0.8.3 spec-tests directory (the one holding tests/)")
	}
	dir := filepath.Join(root, "tests", "minimal", "phase0", "sanity", "blocks", "pyspec_tests")
	cases, err := os.ReadDir(dir)
	if err != nil {
		t.Skipf("no minimal sanity/blocks vectors: %v", err)
	}
	tr := core.New(params.Minimal())
	n := 0
	for _, c := range cases {
		if !c.IsDir() {
			continue
		}
		n++
		if err := VerifyCase(tr, filepath.Join(dir, c.Name())); err != nil {
			t.Errorf("%s: %v", c.Name(), err)
		}
	}
	if n == 0 {
		t.Fatal("no cases found")
	}
}

// specTestsRoot returns the v0.8.3 spec-tests directory: $SPEC_TESTS_DIR,
// else shared/spec-tests/v0.8.3 beside the repository root, else "".
func specTestsRoot(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("SPEC_TESTS_DIR"); dir != "" {
		return dir
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatalf("get working directory: %v", err)
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			cand := filepath.Join(dir, "..", "shared", "spec-tests", "v0.8.3")
			if _, err := os.Stat(cand); err == nil {
				return cand
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
