package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStatesimBadFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--participation", "1.5"}, "--participation 1.5 is outside (0, 1]"},
		{[]string{"--participation", "0"}, "--participation 0 is outside (0, 1]"},
		{[]string{"--validators", "10"}, "use at least 64"},
		{[]string{"--preset", "mainnet", "--validators", "64"}, "use at least 65536"},
		{[]string{"--preset", "foo"}, `unknown preset "foo"`},
		{[]string{"--epochs", "0"}, "--epochs must be at least 1"},
		{[]string{"--config", "x.yaml", "--preset", "minimal"}, "exclude each other"},
		{[]string{"--config", filepath.Join(t.TempDir(), "missing.yaml")}, "--config"},
	}
	for _, tc := range tests {
		out, code := runCLI(t, append([]string{"statesim"}, tc.args...)...)
		if code != 2 || !strings.Contains(out, tc.want) {
			t.Errorf("statesim %v: exit %d, output %q; want exit 2 and %q", tc.args, code, out, tc.want)
		}
	}
}

func TestStatesimRun(t *testing.T) {
	out, code := runCLI(t, "statesim", "--epochs", "2")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var reports []string
	for _, l := range lines {
		if strings.HasPrefix(l, "epoch ") {
			reports = append(reports, l)
		}
	}
	if code != 0 || len(reports) != 2 || !strings.Contains(reports[1], "attesters    64/64") {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}

	dir := filepath.Join(t.TempDir(), "case")
	out, code = runCLI(t, "statesim", "--epochs", "2", "--participation", "0.9", "--seed", "5", "--json", "--out", dir)
	if code != 0 {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}
	n := 0
	for _, l := range strings.Split(out, "\n") {
		if !strings.HasPrefix(l, "{") {
			continue
		}
		var r struct {
			Epoch  *uint64         `json:"epoch"`
			Timing json.RawMessage `json:"timing"`
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil || r.Epoch == nil || *r.Epoch != uint64(n) || len(r.Timing) == 0 {
			t.Fatalf("line %d is not epoch %d's report: %q (%v)", n, n, l, err)
		}
		n++
	}
	if n != 2 {
		t.Fatalf("%d JSON reports, want 2:\n%s", n, out)
	}
	meta, err := os.ReadFile(filepath.Join(dir, "meta.yaml"))
	if err != nil || string(meta) != "blocks_count: 15\nbls_setting: 1\n" {
		t.Fatalf("meta.yaml: %q, %v", meta, err)
	}
}
