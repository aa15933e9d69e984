package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestSimRunBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"latency", []string{"--latency", "soon"}, "--latency"},
		{"uniform below zero", []string{"--latency", "10ms~20ms"}, "--latency"},
		{"loss", []string{"--loss", "1"}, "loss 1 not in [0, 1)"},
		{"nodes", []string{"--nodes", "0"}, "0 nodes"},
		{"slot time", []string{"--slot-time", "1500ms"}, "not whole seconds"},
		{"zero slot time", []string{"--slot-time", "0s"}, "--slot-time 0s must be positive"},
		{"epochs", []string{"--epochs", "0"}, "0 epochs"},
		{"peers", []string{"--peers", "-2"}, "-2 peers"},
		{"few shards", []string{"--shard-nodes", "2", "--shards", "3"}, "3 shards, want at least SLOTS_PER_EPOCH"},
		{"too many shards", []string{"--shard-nodes", "2", "--shards", "2048"}, "2048 shards, at most"},
		{"tx rate", []string{"--shard-nodes", "2", "--tx-rate", "-1"}, "tx rate -1"},
		{"cross-shard", []string{"--shard-nodes", "2", "--cross-shard", "1.5"}, "cross-shard share 1.5"},
		{"shard nodes", []string{"--shard-nodes", "-1"}, "-1 shard nodes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, code := runCLI(t, append([]string{"sim", "run"}, tc.args...)...)
			if code != 2 || !strings.Contains(out, tc.want) {
				t.Fatalf("exit %d, output %q; want exit 2 mentioning %q", code, out, tc.want)
			}
		})
	}
}

// TestSimRun runs one epoch twice with --json: one line per epoch, then a
// summary whose trace hash is the same both times.
func TestSimRun(t *testing.T) {
	var hashes []string
	for range 2 {
		out, code := runCLI(t, "sim", "run", "--epochs", "1", "--mesh-degree", "2", "--json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, out)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 {
			t.Fatalf("%d lines, want an epoch line and the summary:\n%s", len(lines), out)
		}
		var sum simSummary
		if err := json.Unmarshal([]byte(lines[1]), &sum); err != nil {
			t.Fatal(err)
		}
		if len(sum.TraceHash) != 64 || sum.Gossip == 0 || sum.Speedup <= 0 {
			t.Fatalf("summary %+v", sum)
		}
		hashes = append(hashes, sum.TraceHash)
	}
	if hashes[0] != hashes[1] {
		t.Fatalf("trace hashes differ: %v", hashes)
	}
}

// TestSimRunShards runs one epoch with two shard nodes and --json: the
// epoch line and the summary carry the shard side.
func TestSimRunShards(t *testing.T) {
	out, code := runCLI(t, "sim", "run", "--epochs", "1", "--shard-nodes", "2", "--tx-rate", "5", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want an epoch line and the summary:\n%s", len(lines), out)
	}
	var sum simSummary
	if err := json.Unmarshal([]byte(lines[1]), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.ShardNodes != 2 || sum.Shards != 8 || sum.Shard == nil || sum.Shard.Shards != 8 || sum.Shard.Transactions == 0 {
		t.Fatalf("summary %+v, shard side %+v", sum, sum.Shard)
	}
}

// TestSimRunFakeBLS checks that a --fake-bls run says so on every line:
// the epoch lines and the summary, in text and in JSON.
func TestSimRunFakeBLS(t *testing.T) {
	out, code := runCLI(t, "sim", "run", "--epochs", "2", "--fake-bls")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, l := range lines[:2] {
		if !strings.Contains(l, "FAKE BLS") {
			t.Fatalf("epoch line without the fake BLS mark: %q", l)
		}
	}
	if !strings.HasPrefix(lines[2], "FAKE BLS") {
		t.Fatalf("summary does not open with the fake BLS mark:\n%s", out)
	}
	out, code = runCLI(t, "sim", "run", "--epochs", "1", "--fake-bls", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	lines = strings.Split(strings.TrimSpace(out), "\n")
	var epoch struct{ FakeBLS bool }
	var sum simSummary
	if err := json.Unmarshal([]byte(lines[0]), &epoch); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &sum); err != nil {
		t.Fatal(err)
	}
	if !epoch.FakeBLS || !sum.FakeBLS {
		t.Fatalf("JSON without the fake BLS mark:\n%s", out)
	}
}
