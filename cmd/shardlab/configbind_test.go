package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// writeTestGenesis runs shardlab genesis with a 1-validator-per-shard
// minimal chain and extra flags into dir.
func writeTestGenesis(t *testing.T, dir string, extra ...string) {
	t.Helper()
	var out bytes.Buffer
	args := append([]string{"shardlab", "genesis", "--validators", "64", "--shards", "8", "--fast-genesis", "--out", dir}, extra...)
	if err := testApp(&out).Run(args); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
}

// editFile replaces old by new in path.
func editFile(t *testing.T, path, old, replacement string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), old) {
		t.Fatalf("%s lacks %q", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(raw), old, replacement, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestConfigEditedAfterGenesis checks that config.yaml is bound to the
// genesis: a consensus parameter edited after genesis is refused, naming the
// key and both files; a non-consensus one is not.
func TestConfigEditedAfterGenesis(t *testing.T) {
	cases := []struct {
		name  string
		file  string      // in the genesis dir
		edits [][2]string // old, new
		want  []string    // in the error; nil: loads
	}{
		{name: "slot time", file: genesisConfigFile, edits: [][2]string{{"SECONDS_PER_SLOT: 1\n", "SECONDS_PER_SLOT: 2\n"}},
			want: []string{"SECONDS_PER_SLOT is 1 in ", "genesis.yaml but 2 in ", "config.yaml"}},
		{name: "committee period and reward factor", file: genesisConfigFile, edits: [][2]string{
			{"BASE_REWARD_FACTOR: 64\n", "BASE_REWARD_FACTOR: 65\n"}, {"SHARD_COMMITTEE_PERIOD: 4\n", "SHARD_COMMITTEE_PERIOD: 2\n"}},
			want: []string{"BASE_REWARD_FACTOR is 64", "SHARD_COMMITTEE_PERIOD is 4"}},
		{name: "config name", file: genesisConfigFile, edits: [][2]string{{"CONFIG_NAME: minimal\n", "CONFIG_NAME: renamed\n"}}},
		{name: "min genesis time", file: genesisConfigFile, edits: [][2]string{{"MIN_GENESIS_TIME: 1578009600\n", "MIN_GENESIS_TIME: 1578009601\n"}}},
		{name: "record edited", file: genesisInfoFile, edits: [][2]string{{"SECONDS_PER_SLOT: \"1\"", "SECONDS_PER_SLOT: \"2\""}},
			want: []string{"consensus_config hashes to"}},
		{name: "record missing", file: genesisInfoFile, edits: [][2]string{{"consensus_config_hash:", "old_hash:"}},
			want: []string{"records no consensus_config", "shardlab genesis"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "net")
			writeTestGenesis(t, dir, "--slot-time", "1", "--genesis-time", "1700000000")
			if _, err := loadGenesis(dir); err != nil {
				t.Fatalf("fresh genesis: %v", err)
			}
			for _, e := range tc.edits {
				editFile(t, filepath.Join(dir, tc.file), e[0], e[1])
			}
			_, err := loadGenesis(dir)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("non-consensus edit refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("edited genesis accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// slotTimeGeneses writes two genesis dirs with the same genesis state
// (time and validators) but 1- and 2-second slots, and returns them with a
// data dir path.
func slotTimeGeneses(t *testing.T) (a, b, data string) {
	t.Helper()
	dir := t.TempDir()
	a, b, data = filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "data")
	writeTestGenesis(t, a, "--slot-time", "1", "--genesis-delay", "0")
	g, err := loadGenesis(a)
	if err != nil {
		t.Fatal(err)
	}
	writeTestGenesis(t, b, "--slot-time", "2", "--genesis-time", strconv.FormatUint(g.state.GenesisTime, 10))
	return a, b, data
}

// refused runs the app with args, which must fail at startup with an error
// containing every want. Without the check the node would run: it is
// stopped after a while.
func refused(t *testing.T, args []string, want ...string) {
	t.Helper()
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err := testApp(&out).RunContext(ctx, append([]string{"shardlab"}, args...))
	if err == nil {
		t.Fatalf("node started on a data dir of another config:\n%s", out.String())
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
}

// TestDataDirBoundToConfig checks that a data dir is bound to the consensus
// config it was made with: a new genesis with the same genesis state (same
// time and validators) but another slot time does not start on it.
func TestDataDirBoundToConfig(t *testing.T) {
	a, b, data := slotTimeGeneses(t)
	args := func(gen string) []string {
		return []string{"--log-level", "info", "beacon", "--genesis", gen, "--datadir", data, "--p2p-host", "127.0.0.1", "--p2p-port", "0"}
	}
	runBeaconFor(t, args(a), func(log string) bool { return strings.Contains(log, `msg="beacon node ready"`) })
	refused(t, args(b), "SECONDS_PER_SLOT is 1 in the database but 2 in the config",
		filepath.Join(data, "beacon"), filepath.Join(b, genesisConfigFile))
	// The original genesis still starts on it.
	runBeaconFor(t, args(a), func(log string) bool { return strings.Contains(log, `msg="restored chain"`) })
}

// TestShardDataDirBoundToConfig checks the shard database's own record: a
// shard node whose beacon database was removed still refuses another
// config on its shard database.
func TestShardDataDirBoundToConfig(t *testing.T) {
	a, b, data := slotTimeGeneses(t)
	args := func(gen string) []string {
		return []string{"--log-level", "info", "shard", "--genesis", gen, "--datadir", data, "--shards", "0", "--p2p-host", "127.0.0.1", "--p2p-port", "0"}
	}
	runBeaconFor(t, args(a), func(log string) bool { return strings.Contains(log, `msg="shard node ready"`) })
	if err := os.RemoveAll(filepath.Join(data, "beacon")); err != nil {
		t.Fatal(err)
	}
	refused(t, args(b), "SECONDS_PER_SLOT is 1 in the database but 2 in the config",
		filepath.Join(data, "shard"), filepath.Join(b, genesisConfigFile))
}
