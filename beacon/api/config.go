package api

import (
	"bufio"
	"bytes"
	"net/http"
	"strconv"
	"strings"

	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
)

// The /eth/v1/config endpoints.

// SpecValues returns every config value of cfg by its consensus-specs YAML
// key, as (*params.Config).MarshalYAML writes them (integers in decimal,
// bytes as 0x-hex, CONFIG_NAME included), plus the v0.8.3 constants that no
// preset changes.
func SpecValues(cfg *params.Config) map[string]string {
	out := map[string]string{
		"FAR_FUTURE_EPOCH":            strconv.FormatUint(params.FarFutureEpoch, 10),
		"BASE_REWARDS_PER_EPOCH":      strconv.FormatUint(params.BaseRewardsPerEpoch, 10),
		"DEPOSIT_CONTRACT_TREE_DEPTH": strconv.FormatUint(params.DepositContractTreeDepth, 10),
		"SECONDS_PER_DAY":             strconv.FormatUint(params.SecondsPerDay, 10),
		"JUSTIFICATION_BITS_LENGTH":   strconv.FormatUint(params.JustificationBitsLength, 10),
	}
	sc := bufio.NewScanner(bytes.NewReader(cfg.MarshalYAML()))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			out[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return out
}

func (s *Server) configSpec(w http.ResponseWriter, r *http.Request) error {
	return WriteData(w, SpecValues(s.be.Config()))
}

// ForkSchedule returns the forks of cfg: phase 0 from GENESIS_EPOCH on the
// zero version and, when enabled, the shard fork at SHARD_FORK_EPOCH.
func ForkSchedule(cfg *params.Config) []types.Fork {
	forks := []types.Fork{{Epoch: types.Epoch(cfg.GenesisEpoch())}}
	if cfg.Shard.Enabled() {
		forks = append(forks, types.Fork{
			PreviousVersion: forks[0].CurrentVersion,
			CurrentVersion:  types.Version(cfg.Shard.ForkVersion),
			Epoch:           types.Epoch(cfg.Shard.ForkEpoch),
		})
	}
	return forks
}

func (s *Server) configForkSchedule(w http.ResponseWriter, r *http.Request) error {
	return WriteData(w, ForkSchedule(s.be.Config()))
}
