package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
)

// TestScenarioOutReplays exports the double-vote scenario's canonical chain
// with --out and replays it with `shardlab spectest` (BLS on): the case
// passes, and its post-state has both double voters slashed.
func TestScenarioOutReplays(t *testing.T) {
	t.Setenv("SPEC_TESTS_DIR", "")
	root := t.TempDir()
	dir := filepath.Join(root, "tests", "minimal", "phase0", "sanity", "blocks", "scenarios", "double-vote")
	out, code := runCLI(t, "scenario", "run", "double-vote", "--out", dir, "--out-node", "2")
	if code != 0 {
		t.Fatalf("scenario run: exit %d:\n%s", code, out)
	}
	out, code = runCLI(t, "spectest", "--dir", root, "--preset", "minimal")
	if code != 0 || lastLine(out) != "1 passed, 0 failed" || !strings.Contains(out, "sanity/blocks") {
		t.Fatalf("spectest of the export: exit %d:\n%s", code, out)
	}
	buf, err := os.ReadFile(filepath.Join(dir, "post.ssz"))
	if err != nil {
		t.Fatal(err)
	}
	post, err := types.UnmarshalBeaconState(params.Minimal(), buf)
	if err != nil {
		t.Fatal(err)
	}
	for v, val := range post.Validators {
		if val.Slashed != (v == 3 || v == 40) {
			t.Errorf("validator %d: slashed %v", v, val.Slashed)
		}
	}
	// The directory is not empty now: a second export refuses it.
	if out, code := runCLI(t, "scenario", "run", "double-vote", "--out", dir); code != 1 || !strings.Contains(out, "is not empty") {
		t.Errorf("second export into %s: exit %d:\n%s", dir, code, out)
	}
	if out, code := runCLI(t, "scenario", "run", "baseline", "--out", filepath.Join(root, "x"), "--out-node", "9"); code != 1 || !strings.Contains(out, "node 9") {
		t.Errorf("--out-node 9: exit %d:\n%s", code, out)
	}
}
