package api_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/shardlab/shardlab/beacon/api"
	"github.com/shardlab/shardlab/beacon/types"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got (JSON, indented for review) with testdata/name, or
// rewrites the file with -update.
func golden(t *testing.T, name string, got []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, got, "", "  "); err != nil {
		t.Fatalf("indent %s: %v", name, err)
	}
	buf.WriteByte('\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("%s differs from the encoding (run go test ./beacon/api -run TestGolden -update and review the diff)", path)
	}
	return want
}

// TestGoldenBlock pins the JSON of a shard-fork block with attestations
// (slot 9: the first after an epoch boundary) in the signed shape.
func TestGoldenBlock(t *testing.T) {
	c := testChain(t)
	blk := c.Blocks[c.Canonical[9]].(*types.ShardBeaconBlock)
	js, err := api.EncodeSigned(blk)
	if err != nil {
		t.Fatal(err)
	}
	want := golden(t, "block.json", js)
	var back types.ShardBeaconBlock
	if err := api.DecodeSigned(want, &back); err != nil {
		t.Fatal(err)
	}
	wantSSZ, _ := blk.MarshalSSZ()
	gotSSZ, err := back.MarshalSSZ()
	if err != nil || !bytes.Equal(wantSSZ, gotSSZ) {
		t.Fatalf("the golden block decodes to different SSZ (%v)", err)
	}
}

// TestGoldenState pins the JSON of the head state (pending attestations,
// crosslinks, justification and finality set).
func TestGoldenState(t *testing.T) {
	c := testChain(t)
	st := c.HeadState()
	js, err := api.EncodeJSON(st)
	if err != nil {
		t.Fatal(err)
	}
	want := golden(t, "state.json", js)
	back := types.NewBeaconState(c.Config)
	if err := api.DecodeJSON(want, back); err != nil {
		t.Fatal(err)
	}
	wantSSZ, _ := st.MarshalSSZ()
	gotSSZ, err := back.MarshalSSZ()
	if err != nil || !bytes.Equal(wantSSZ, gotSSZ) {
		t.Fatalf("the golden state decodes to different SSZ (%v)", err)
	}
	root, err := back.HashTreeRoot()
	if err != nil || root != c.Blocks[c.HeadRoot].GetStateRoot() {
		t.Fatalf("decoded state root %s, want the head block's %s (%v)", root, c.Blocks[c.HeadRoot].GetStateRoot(), err)
	}
}
