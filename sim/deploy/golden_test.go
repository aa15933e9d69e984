package deploy

import (
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden files in testdata/golden")

// testConfig is the default network (testnet up's) with the fault
// timeline of testdata/faults.yaml on k8s.
func testConfig(t *testing.T, target string) Config {
	t.Helper()
	c := DefaultConfig()
	if target == TargetK8s {
		raw, err := os.ReadFile(filepath.Join("testdata", "faults.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if c.Faults, err = ParseTimeline(raw); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// render renders target with testConfig.
func render(t *testing.T, target string) map[string][]byte {
	t.Helper()
	files, err := Render(testConfig(t, target), target)
	if err != nil {
		t.Fatalf("Render(%s): %v", target, err)
	}
	return files
}

// TestGolden compares the rendered files of both targets with
// testdata/golden/<target>/ (go test -rewrite rewrites them).
func TestGolden(t *testing.T) {
	for _, target := range []string{TargetDocker, TargetK8s} {
		t.Run(target, func(t *testing.T) {
			files := render(t, target)
			dir := filepath.Join("testdata", "golden", target)
			if *rewrite {
				if err := os.RemoveAll(dir); err != nil {
					t.Fatal(err)
				}
				if err := Write(dir, files, false); err != nil {
					t.Fatal(err)
				}
			}
			var golden []string
			err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					rel, _ := filepath.Rel(dir, p)
					golden = append(golden, filepath.ToSlash(rel))
				}
				return err
			})
			if err != nil {
				t.Fatalf("read golden files (go test -rewrite writes them): %v", err)
			}
			var got []string
			for p := range files {
				got = append(got, p)
			}
			slices.Sort(got)
			slices.Sort(golden)
			if d := cmp.Diff(golden, got); d != "" {
				t.Fatalf("rendered files differ from %s (-golden +rendered):\n%s", dir, d)
			}
			for _, p := range got {
				want, err := os.ReadFile(filepath.Join(dir, p))
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(string(want), string(files[p])); d != "" {
					t.Errorf("%s differs from the golden file (-golden +rendered; go test -rewrite if intended):\n%s", p, d)
				}
			}
		})
	}
}
