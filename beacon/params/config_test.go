package params

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPresetsValidate(t *testing.T) {
	for _, c := range []*Config{Minimal(), Mainnet()} {
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", c.Name, err)
		}
	}
}

func TestYAMLRoundTrip(t *testing.T) {
	for _, want := range []*Config{Minimal(), Mainnet(), Minimal().WithShards()} {
		got, err := Parse(want.MarshalYAML())
		if err != nil {
			t.Fatalf("%s: %v", want.Name, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s round trip (-want +got):\n%s", want.Name, diff)
		}
	}
}

// TestOfficialConfigFiles parses the config.yaml files shipped with the
// official vectors (the npm package has them; the shared minimal copy may not).
func TestOfficialConfigFiles(t *testing.T) {
	dir := os.Getenv("SPEC_TESTS_DIR")
	if dir == "" {
		t.Skip("SPEC_TESTS_DIR not set")
	}
	found := false
	for _, preset := range []string{"minimal", "mainnet"} {
		path := filepath.Join(dir, "tests", preset, "config.yaml")
		if _, err := os.Stat(path); err != nil {
			continue
		}
		found = true
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Parse(data)
		if err != nil {
			t.Fatalf("%s: %v", preset, err)
		}
		want, _ := Preset(preset)
		got.Name = want.Name
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s differs from the official file (-ours +file):\n%s", preset, diff)
		}
	}
	if !found {
		t.Skip("no config.yaml in SPEC_TESTS_DIR")
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
		{"not a mapping", "- 1\n- 2\n", "mapping"},
		{"unknown key", "SHARD_COUNTS: 8\n", "unknown key SHARD_COUNTS"},
		{"bad integer", "SHARD_COUNT: eight\n", "SHARD_COUNT"},
		{"negative", "SHARD_COUNT: -8\n", "SHARD_COUNT"},
		{"bad hex", "DOMAIN_RANDAO: 0x0100\n", "DOMAIN_RANDAO"},
		{"no 0x", "DOMAIN_RANDAO: 01000000\n", "DOMAIN_RANDAO"},
		{"zero slots", "SLOTS_PER_EPOCH: 0\n", "SLOTS_PER_EPOCH must be > 0"},
		{"one slot", "SLOTS_PER_EPOCH: 1\n", "SLOTS_PER_EPOCH must be at least 2"},
		{"not pow2", "SLOTS_PER_HISTORICAL_ROOT: 100\n", "power of two"},
		{"fixed shape", "MAX_ATTESTATIONS: 64\n", "MAX_ATTESTATIONS"},
		{"too few shards", "SHARD_COUNT: 4\n", "SHARD_COUNT (4) must be >= SLOTS_PER_EPOCH"},
		{"duplicate", "SHARD_COUNT: 8\nSHARD_COUNT: 16\n", "duplicate"},
		{"bad preset", "PRESET_BASE: huge\n", "unknown preset"},
		{"garbage", ":\n\t- [", "parse yaml"},
		{"shard window", "SHARD_FORK_EPOCH: 0\nSHARD_CHALLENGE_WINDOW: 10\n", "SHARD_CHALLENGE_WINDOW"},
		{"shard accounts", "SHARD_FORK_EPOCH: 0\nSHARD_ACCOUNTS: 0\n", "SHARD_ACCOUNTS"},
		// (W + MAX_EPOCHS_PER_CROSSLINK + 3) * SLOTS_PER_EPOCH <= SLOTS_PER_HISTORICAL_ROOT:
		// (2 + 4 + 3) * 8 = 72 > 64 on minimal, (62 + 64 + 3) * 64 > 8192 on mainnet.
		{"shard window minimal", "PRESET_BASE: minimal\nSHARD_FORK_EPOCH: 0\nSHARD_CHALLENGE_WINDOW: 2\n", "SHARD_CHALLENGE_WINDOW (2)"},
		{"shard window mainnet", "PRESET_BASE: mainnet\nSHARD_FORK_EPOCH: 0\nSHARD_CHALLENGE_WINDOW: 62\n", "SHARD_CHALLENGE_WINDOW (62)"},
		{"shard accounts above 2^22", "SHARD_FORK_EPOCH: 0\nSHARD_ACCOUNTS: 4194305\n", "SHARD_ACCOUNTS"},
		{"shard period", "SHARD_FORK_EPOCH: 0\nSHARD_COMMITTEE_PERIOD: 0\n", "SHARD_COMMITTEE_PERIOD"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			if err == nil {
				t.Fatalf("no error")
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("error %v does not wrap ErrInvalidConfig", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

// TestShardBounds checks that the largest values the shard checks allow
// parse (the failing ones next to them are in TestParseErrors).
func TestShardBounds(t *testing.T) {
	for _, y := range []string{
		"PRESET_BASE: minimal\nSHARD_FORK_EPOCH: 0\nSHARD_CHALLENGE_WINDOW: 1\n",
		"PRESET_BASE: mainnet\nSHARD_FORK_EPOCH: 0\nSHARD_CHALLENGE_WINDOW: 61\n",
		"PRESET_BASE: minimal\nSHARD_FORK_EPOCH: 0\nSHARD_ACCOUNTS: 4194304\n",
	} {
		if _, err := Parse([]byte(y)); err != nil {
			t.Errorf("%q: %v", y, err)
		}
	}
}

func TestCustomConfig(t *testing.T) {
	c, err := Parse([]byte("PRESET_BASE: minimal\nCONFIG_NAME: sixteen\nSHARD_COUNT: 16\nSECONDS_PER_SLOT: 2\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "sixteen" || c.ShardCount != 16 || c.SecondsPerSlot != 2 || c.SlotsPerEpoch != 8 {
		t.Errorf("unexpected config %+v", c)
	}
}
