package spectest

import (
	"bytes"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	bspec "github.com/shardlab/shardlab/beacon/spectest"
)

var rewrite = flag.Bool("rewrite", false, "regenerate the shard vectors in shard/testdata instead of checking them")

// testdata is the directory holding the checked-in vectors (its tests/).
const testdata = "../testdata"

// TestVectorsUpToDate regenerates the vectors into a temporary directory and
// fails when they differ from the checked-in ones, so that a protocol change
// shows up as a diff of shard/testdata to review. With -rewrite it replaces
// the checked-in vectors instead:
//
//	go test ./shard/spectest -run TestVectors -rewrite
func TestVectorsUpToDate(t *testing.T) {
	if *rewrite {
		counts, err := Generate(testdata)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote %s: %v", testdata, Counts(counts))
		return
	}
	tmp := t.TempDir()
	if _, err := Generate(tmp); err != nil {
		t.Fatal(err)
	}
	rel := filepath.Join("tests", ConfigName, ForkName)
	want, err := readTree(filepath.Join(tmp, rel))
	if err != nil {
		t.Fatal(err)
	}
	got, err := readTree(filepath.Join(testdata, rel))
	if err != nil {
		t.Fatalf("%v (run `go test ./shard/spectest -run TestVectors -rewrite`)", err)
	}
	var diffs []string
	for name, data := range want {
		old, ok := got[name]
		switch {
		case !ok:
			diffs = append(diffs, "missing: "+name)
		case !bytes.Equal(old, data):
			diffs = append(diffs, "differs: "+name)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			diffs = append(diffs, "extra: "+name)
		}
	}
	if len(diffs) > 0 {
		slices.Sort(diffs)
		if len(diffs) > 20 {
			diffs = append(diffs[:20], "...")
		}
		t.Fatalf("shard/testdata is out of date (%d files); review the protocol change and run "+
			"`go test ./shard/spectest -run TestVectors -rewrite`:\n%s", len(diffs), joinLines(diffs))
	}
}

// TestVectorsPass runs every case under shard/testdata through a registry
// holding the official handlers and the shard ones: each case must pass, and
// every runner/handler must be registered.
func TestVectorsPass(t *testing.T) {
	cases, err := bspec.Discover(testdata, []string{bspec.ConfigMinimal})
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 40 {
		t.Fatalf("only %d shard cases", len(cases))
	}
	reg := bspec.Default()
	Register(reg)
	for _, c := range cases {
		t.Run(c.ID(), func(t *testing.T) {
			t.Parallel()
			if c.Fork != ForkName {
				t.Fatalf("case %s is under fork %q, not %q", c.Path(), c.Fork, ForkName)
			}
			res := reg.RunCase(c)
			if res.Status != bspec.Passed {
				t.Fatalf("%s: %s: %v", c.Path(), res.Status, res.Err)
			}
		})
	}
}

// TestRunReport runs the vectors as `shardlab spectest --dir shard/testdata`
// does and checks the report's totals.
func TestRunReport(t *testing.T) {
	reg := bspec.Default()
	Register(reg)
	rep, err := bspec.Run(bspec.Options{Dir: testdata, Configs: []string{bspec.ConfigMinimal}, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Failed != 0 || rep.NotRun != 0 || rep.Passed == 0 {
		var buf bytes.Buffer
		_ = rep.WriteText(&buf)
		t.Fatalf("report:\n%s", buf.String())
	}
}

func readTree(root string) (map[string][]byte, error) {
	out := make(map[string][]byte)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		out[filepath.ToSlash(rel)] = b
		return nil
	})
	return out, err
}

func joinLines(l []string) string {
	var b bytes.Buffer
	for _, s := range l {
		b.WriteString("  " + s + "\n")
	}
	return b.String()
}

// TestHandlersRejectWrongExpectations checks that the handlers are strict:
// a valid case with a corrupted post file, or without its post file, fails,
// and so does an invalid case given a post file.
func TestHandlersRejectWrongExpectations(t *testing.T) {
	reg := bspec.NewRegistry()
	Register(reg)
	cases := []struct {
		runner, handler, name string
		edit                  func(dir string) error
	}{
		{RunnerShardBlock, HandlerProcess, "transfers_intra_shard", flipLastByte("post.ssz")},
		{RunnerShardBlock, HandlerProcess, "transfers_intra_shard", remove("post.ssz")},
		{RunnerShardBlock, HandlerClaims, "claim_one", flipLastByte("post.ssz")},
		{RunnerShardBlock, HandlerProcess, "wrong_state_root", copyFrom("../transfers_intra_shard/post.ssz", "post.ssz")},
		{RunnerFraudProof, HandlerVerify, "wrong_state_root", flipLastByte("post.ssz")},
		{RunnerFraudProof, HandlerVerify, "wrong_state_root", remove("post.ssz")},
		{RunnerCrosslink, HandlerDataRoot, "two_headers", flipFirstByte("headers.ssz")},
		{RunnerCrosslink, HandlerDataRoot, "two_headers", remove("data_root.yaml")},
	}
	for _, tc := range cases {
		tmp := t.TempDir()
		src := filepath.Join(testdata, "tests", ConfigName, ForkName)
		if err := os.CopyFS(tmp, os.DirFS(src)); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(tmp, tc.runner, tc.handler, Suite, tc.name)
		if err := tc.edit(dir); err != nil {
			t.Fatal(err)
		}
		c := &bspec.Case{Config: ConfigName, Fork: ForkName, Runner: tc.runner, Handler: tc.handler, Suite: Suite, Name: tc.name, Dir: dir}
		if res := reg.RunCase(c); res.Status != bspec.Failed {
			t.Errorf("%s/%s/%s edited: %s, want failed", tc.runner, tc.handler, tc.name, res.Status)
		}
	}
}

func flipLastByte(name string) func(dir string) error { return flipByte(name, -1) }

// flipFirstByte changes the first header's slot (a header's last bytes are
// its signature, which its signing root leaves out).
func flipFirstByte(name string) func(dir string) error { return flipByte(name, 0) }

func flipByte(name string, i int) func(dir string) error {
	return func(dir string) error {
		p := filepath.Join(dir, name)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if i < 0 {
			i += len(b)
		}
		b[i] ^= 1
		return os.WriteFile(p, b, 0o644)
	}
}

func remove(name string) func(dir string) error {
	return func(dir string) error { return os.Remove(filepath.Join(dir, name)) }
}

func copyFrom(src, name string) func(dir string) error {
	return func(dir string) error {
		b, err := os.ReadFile(filepath.Join(dir, src))
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name), b, 0o644)
	}
}
