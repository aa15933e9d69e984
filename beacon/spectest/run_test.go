package spectest_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shardlab/shardlab/beacon/spectest"
)

// makeTree creates <root>/tests/<config>/phase0/<path> case directories.
func makeTree(t *testing.T, paths ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, p := range paths {
		config, rest, _ := strings.Cut(p, "/")
		if err := os.MkdirAll(filepath.Join(root, "tests", config, "phase0", rest), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// fakeRegistry registers r/h, whose cases pass, fail, panic or decline by
// their name.
func fakeRegistry() *spectest.Registry {
	reg := spectest.NewRegistry()
	reg.Register("r", "h", func(c *spectest.Case) error {
		switch {
		case strings.HasPrefix(c.Name, "fail"):
			return errors.New("boom\nsecond line")
		case strings.HasPrefix(c.Name, "panic"):
			panic("kaboom")
		case strings.HasPrefix(c.Name, "decline"):
			return fmt.Errorf("needs bls: %w", spectest.ErrNotRun)
		}
		if c.Cfg == nil && c.Config != spectest.ConfigGeneral {
			return errors.New("no config")
		}
		return nil
	})
	return reg
}

func TestRunCounts(t *testing.T) {
	dir := makeTree(t,
		"minimal/r/h/s/ok_1", "minimal/r/h/s/ok_2", "minimal/r/h/s/fail_1",
		"minimal/r/h/s/panic_1", "minimal/r/h/s/decline_1",
		"minimal/r/unknown/s/c", "minimal/other/x/s/c1", "minimal/other/x/s/c2",
		"general/r/h/s/ok_1", "mainnet/r/h/s/ok_1",
	)
	var progress atomic.Int64
	rep, err := spectest.Run(spectest.Options{
		Dir:      dir,
		Registry: fakeRegistry(),
		Workers:  3,
		Progress: func(done, total int, res *spectest.Result) {
			progress.Add(1)
			if total != 9 || done < 1 || done > total || res.Case == nil {
				t.Errorf("progress(%d, %d, %v)", done, total, res.Case)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if progress.Load() != 9 {
		t.Errorf("progress called %d times, want 9", progress.Load())
	}
	if rep.Passed != 3 || rep.Failed != 2 || rep.NotRun != 4 || rep.OK() {
		t.Errorf("counts: passed %d failed %d not run %d", rep.Passed, rep.Failed, rep.NotRun)
	}
	var got []string
	for _, h := range rep.Handlers {
		got = append(got, fmt.Sprintf("%s %s %t %d/%d/%d", h.Config, h.Name(), h.Registered, h.Passed, h.Failed, h.NotRun))
	}
	want := []string{
		"minimal other/x false 0/0/2",
		"minimal r/h true 2/2/1",
		"minimal r/unknown false 0/0/1",
		"general r/h true 1/0/0",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("handler stats (-want +got):\n%s", d)
	}
	if len(rep.Failures) != 2 || rep.Failures[0].Case != "minimal/r/h/s/fail_1" || !strings.Contains(rep.Failures[1].Error, "kaboom") {
		t.Errorf("failures: %+v", rep.Failures)
	}
	if len(rep.Declined) != 1 || !strings.Contains(rep.Declined[0].Error, "needs bls") {
		t.Errorf("declined: %+v", rep.Declined)
	}
	if d := cmp.Diff([]string{"other/x", "r/unknown"}, rep.Unregistered()); d != "" {
		t.Errorf("unregistered (-want +got):\n%s", d)
	}

	var b strings.Builder
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if last := lines[len(lines)-1]; last != "3 passed, 2 failed" {
		t.Errorf("last line %q, want the summary", last)
	}
	for _, s := range []string{
		"FAIL minimal/r/h/s/fail_1: boom\n    second line",
		"NOT RUN minimal/r/h/s/decline_1",
		"4 not run (no handler for other/x, r/unknown)",
		"(no handler)",
	} {
		if !strings.Contains(text, s) {
			t.Errorf("report text lacks %q:\n%s", s, text)
		}
	}

	js, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if back["passed"] != 3.0 || back["failed"] != 2.0 || back["not_run"] != 4.0 {
		t.Errorf("json counts: %s", js)
	}
}

func TestRunFilterAndConfigs(t *testing.T) {
	dir := makeTree(t, "minimal/r/h/s/ok_a", "minimal/r/h/s/ok_b", "mainnet/r/h/s/ok_a", "general/r/h/s/ok_a")
	for _, tc := range []struct {
		configs []string
		filter  string
		want    int
	}{
		{nil, "", 3},
		{nil, "ok_b", 1},
		{nil, "^general/", 1},
		{[]string{"mainnet"}, "", 1},
		{[]string{"minimal", "mainnet", "general"}, "r/h/s/ok_a$", 3},
		{nil, "nothing", 0},
	} {
		rep, err := spectest.Run(spectest.Options{Dir: dir, Configs: tc.configs, Filter: tc.filter, Registry: fakeRegistry()})
		if err != nil {
			t.Fatalf("%v %q: %v", tc.configs, tc.filter, err)
		}
		if rep.Passed != tc.want || rep.Total() != tc.want {
			t.Errorf("%v %q: passed %d of %d, want %d", tc.configs, tc.filter, rep.Passed, rep.Total(), tc.want)
		}
	}
	if _, err := spectest.Run(spectest.Options{Dir: dir, Filter: "("}); err == nil {
		t.Error("bad filter accepted")
	}
	// The tests directory itself is accepted as Dir.
	if rep, err := spectest.Run(spectest.Options{Dir: filepath.Join(dir, "tests"), Registry: fakeRegistry()}); err != nil || rep.Passed != 3 {
		t.Errorf("Run(tests dir) = %v, %v", rep, err)
	}
}

func TestRunMissingVectors(t *testing.T) {
	dir := makeTree(t, "minimal/r/h/s/ok")
	for _, opts := range []spectest.Options{
		{Dir: ""},
		{Dir: t.TempDir()},
		{Dir: dir}, // general is a default config and is missing
		{Dir: dir, Configs: []string{"mainnet"}},
	} {
		if _, err := spectest.Run(opts); !errors.Is(err, spectest.ErrNoTests) {
			t.Errorf("Run(%+v) = %v, want ErrNoTests", opts, err)
		}
	}
	got, err := spectest.AvailableConfigs(dir)
	if err != nil || len(got) != 1 || got[0] != "minimal" {
		t.Errorf("AvailableConfigs = %v, %v", got, err)
	}
}

func TestCaseHelpers(t *testing.T) {
	dir := makeTree(t, "minimal/r/h/s/c")
	cases, err := spectest.Discover(dir, []string{"minimal"})
	if err != nil || len(cases) != 1 {
		t.Fatalf("Discover = %v, %v", cases, err)
	}
	c := cases[0]
	if c.ID() != "r/h/s/c" || c.Path() != "minimal/r/h/s/c" || c.Fork != "phase0" || c.Cfg == nil || c.Cfg.Name != "minimal" {
		t.Errorf("case fields: %+v", c)
	}
	m, err := c.Meta()
	if err != nil || *m != (spectest.Meta{}) {
		t.Errorf("Meta without meta.yaml = %+v, %v", m, err)
	}
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(c.Dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("meta.yaml", "{bls_setting: 1, blocks_count: 3}\n")
	write("pre.ssz", "\x01\x02")
	write("data.yaml", "x: 5\n")
	c2 := &spectest.Case{Dir: c.Dir}
	m, err = c2.Meta()
	if err != nil || m.BLSSetting != spectest.BLSRequired || m.BlocksCount != 3 {
		t.Errorf("Meta = %+v, %v", m, err)
	}
	if b, err := c.ReadSSZ("pre"); err != nil || string(b) != "\x01\x02" {
		t.Errorf("ReadSSZ(pre) = %x, %v", b, err)
	}
	var v struct{ X int }
	if err := c.ReadYAML("data", &v); err != nil || v.X != 5 {
		t.Errorf("ReadYAML(data) = %+v, %v", v, err)
	}
	if !c.Exists("pre") || !c.Exists("pre.ssz") || !c.Exists("data") || c.Exists("post") {
		t.Error("Exists is wrong")
	}
	if _, err := c.ReadSSZ("post"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadSSZ(missing) = %v", err)
	}
	if _, err := c.ReadState("pre"); err == nil {
		t.Error("ReadState decoded two bytes")
	}
}

func TestRegistry(t *testing.T) {
	reg := spectest.Default()
	for _, name := range []string{
		"ssz_static/BeaconState", "ssz_static/HistoricalBatch", "ssz_static/Attestation",
		"ssz_generic/uints", "ssz_generic/boolean", "ssz_generic/basic_vector",
		"ssz_generic/bitvector", "ssz_generic/bitlist", "ssz_generic/containers",
	} {
		runner, handler, _ := strings.Cut(name, "/")
		if _, ok := reg.Lookup(runner, handler); !ok {
			t.Errorf("%s is not registered", name)
		}
	}
	// 22 ssz_static containers, 6 ssz_generic shapes, 6 bls, 1 shuffling,
	// 7 operations, 5 epoch_processing, 2 sanity, 2 genesis.
	if n, want := len(reg.Registered()), 22+6+6+1+7+5+2+2; n != want {
		t.Errorf("%d handlers registered, want %d", n, want)
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a pair twice did not panic")
		}
	}()
	reg.Register("ssz_generic", "uints", func(*spectest.Case) error { return nil })
}
