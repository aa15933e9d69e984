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
		{[]string{"--shards", "4"}, "--shards 4 is below SLOTS_PER_EPOCH of the minimal config: use at least 8"},
		{[]string{"--shards", "2048", "--validators", "4096"}, "--shards 2048 is above the shard fork's limit: use at most 1024"},
		{[]string{"--shards", "128"}, "--validators 64 is below --shards 128"},
		{[]string{"--shards", "0"}, "--shards must be at least 1"},
		{[]string{"--tx-rate", "10"}, "--tx-rate needs --shards"},
		{[]string{"--cross-shard", "0.5"}, "--cross-shard needs --shards"},
		{[]string{"--fraud-at", "9"}, "--fraud-at needs --shards"},
		{[]string{"--shards", "8", "--tx-rate", "-1"}, "--tx-rate -1 must be a finite number >= 0"},
		{[]string{"--shards", "8", "--tx-rate", "NaN"}, "--tx-rate NaN must be a finite number >= 0"},
		{[]string{"--shards", "8", "--tx-rate", "1e9"}, "exceeds the capacity of 8 shards"},
		{[]string{"--shards", "8", "--cross-shard", "1.5"}, "--cross-shard 1.5 is outside [0, 1]"},
		{[]string{"--shards", "8", "--fraud-at", "0"}, "--fraud-at 0 must be a slot from 1 to the run's last, 63"},
		{[]string{"--shards", "8", "--epochs", "2", "--fraud-at", "16"}, "--fraud-at 16 must be a slot from 1 to the run's last, 15"},
		{[]string{"--config", shardForkConfig(t)}, "enables the shard fork"},
	}
	for _, tc := range tests {
		out, code := runCLI(t, append([]string{"statesim"}, tc.args...)...)
		if code != 2 || !strings.Contains(out, tc.want) {
			t.Errorf("statesim %v: exit %d, output %q; want exit 2 and %q", tc.args, code, out, tc.want)
		}
	}
}

// shardForkConfig writes a minimal config with the shard fork on.
func shardForkConfig(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "shards.yaml")
	if err := os.WriteFile(path, []byte("PRESET_BASE: minimal\nSHARD_FORK_EPOCH: 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestStatesimShards runs the shard layer from the command line, as text
// and as JSON lines ending with the summary.
func TestStatesimShards(t *testing.T) {
	out, code := runCLI(t, "statesim", "--shards", "8", "--epochs", "2", "--tx-rate", "5", "--cross-shard", "0.5", "--fast-genesis")
	if code != 0 || !strings.Contains(out, "  shards: txs 450 ") || !strings.Contains(out, "conservation ok") ||
		!strings.Contains(out, "    shard   7  head   15 ") || !strings.Contains(out, "summary: 8 shards, 450 transactions") {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}
	dir := filepath.Join(t.TempDir(), "case")
	out, code = runCLI(t, "statesim", "--shards", "8", "--epochs", "2", "--tx-rate", "5", "--cross-shard", "0.5", "--fast-genesis", "--json", "--out", dir)
	if code != 0 {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "{") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 2 reports and the summary:\n%s", len(lines), out)
	}
	var rep struct {
		Shard *struct {
			Shards         []json.RawMessage `json:"shards"`
			ConservationOK bool              `json:"conservation_ok"`
		} `json:"shard"`
	}
	if err := json.Unmarshal([]byte(lines[1]), &rep); err != nil || rep.Shard == nil || len(rep.Shard.Shards) != 8 || !rep.Shard.ConservationOK {
		t.Fatalf("report %q: %v", lines[1], err)
	}
	var sum struct {
		Summary *struct {
			Transactions uint64 `json:"transactions"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(lines[2]), &sum); err != nil || sum.Summary == nil || sum.Summary.Transactions != 450 {
		t.Fatalf("summary %q: %v", lines[2], err)
	}
	meta, err := os.ReadFile(filepath.Join(dir, "meta.yaml"))
	if err != nil || string(meta) != "blocks_count: 15\nbls_setting: 1\nfork: shard\n" {
		t.Fatalf("meta.yaml: %q, %v", meta, err)
	}
	for _, name := range []string{"config.yaml", "shards/0/genesis.ssz", "shards/7/blocks_14.ssz", "shards/7/post.ssz"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
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
