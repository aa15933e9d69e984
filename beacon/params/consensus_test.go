package params

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckConsensus(t *testing.T) {
	cases := []struct {
		name string
		edit func(c *Config)
		want []string // substrings of the error; nil: no error
	}{
		{name: "same config", edit: func(*Config) {}},
		{name: "config name", edit: func(c *Config) { c.Name = "renamed" }},
		{name: "min genesis time", edit: func(c *Config) { c.MinGenesisTime++ }},
		{name: "min genesis validators", edit: func(c *Config) { c.MinGenesisActiveValidatorCount = 1 }},
		{name: "deposit contract", edit: func(c *Config) { c.DepositContractAddress[0] ^= 1 }},
		{name: "unused custody domain", edit: func(c *Config) { c.DomainCustodyBitChallenge[1] = 9 }},
		{name: "slot time", edit: func(c *Config) { c.SecondsPerSlot = 2 },
			want: []string{"SECONDS_PER_SLOT is 6 in genesis.yaml but 2 in config.yaml"}},
		{name: "two keys", edit: func(c *Config) { c.BaseRewardFactor = 32; c.Shard.ChallengeWindow = 2 },
			want: []string{"BASE_REWARD_FACTOR is 64 in genesis.yaml but 32 in config.yaml",
				"SHARD_CHALLENGE_WINDOW is 1 in genesis.yaml but 2 in config.yaml"}},
		{name: "domain", edit: func(c *Config) { c.DomainRandao = DomainType{7, 0, 0, 0} },
			want: []string{"DOMAIN_RANDAO is 0x01000000 in genesis.yaml but 0x07000000"}},
		{name: "shard fork epoch", edit: func(c *Config) { c.Shard.ForkEpoch = 3 },
			want: []string{"SHARD_FORK_EPOCH is 18446744073709551615 in genesis.yaml but 3"}},
		{name: "shard accounts", edit: func(c *Config) { c.Shard.Accounts = 8 },
			want: []string{"SHARD_ACCOUNTS"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			base := Minimal()
			rec := base.Consensus()
			edited := base.Copy()
			tc.edit(edited)
			err := CheckConsensus(rec, "genesis.yaml", edited, "config.yaml")
			if tc.want == nil {
				if err != nil {
					t.Fatalf("non-consensus edit refused: %v", err)
				}
				if edited.Consensus().Hash() != rec.Hash() {
					t.Fatal("non-consensus edit changed the hash")
				}
				return
			}
			if !errors.Is(err, ErrConsensusMismatch) {
				t.Fatalf("got %v, want ErrConsensusMismatch", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if edited.Consensus().Hash() == rec.Hash() {
				t.Fatal("consensus edit kept the hash")
			}
		})
	}
}

func TestConsensusRecordEncoding(t *testing.T) {
	for _, c := range []*Config{Minimal(), Mainnet(), Minimal().WithShards()} {
		rec := c.Consensus()
		got, err := DecodeConsensusRecord(rec.Encode())
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if err := CheckConsensus(got, "decoded", c, "config"); err != nil {
			t.Fatalf("%s: round trip: %v", c.Name, err)
		}
		if len(got) != len(c.fields())-6 {
			t.Errorf("%s: %d consensus keys, want every key but the 6 non-consensus ones (%d)", c.Name, len(got), len(c.fields())-6)
		}
	}
	for _, bad := range []string{"", "NO_VALUE\n", "A: 1\nA: 2\n", ": 5\n"} {
		if _, err := DecodeConsensusRecord([]byte(bad)); err == nil {
			t.Errorf("DecodeConsensusRecord(%q) accepted", bad)
		}
	}
	// A key recorded but no longer known, or new since, is a difference too.
	rec := Minimal().Consensus()
	rec["OLD_KEY"] = "1"
	delete(rec, "SLOTS_PER_EPOCH")
	err := CheckConsensus(rec, "db", Minimal(), "cfg")
	if err == nil || !strings.Contains(err.Error(), "OLD_KEY is 1 in db but (absent)") ||
		!strings.Contains(err.Error(), "SLOTS_PER_EPOCH is (absent) in db but 8") {
		t.Fatalf("added/removed keys: %v", err)
	}
}
