package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/store"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
	shardcore "github.com/shardlab/shardlab/shard/core"
)

// Files of a genesis directory.
const (
	genesisConfigFile = "config.yaml"
	genesisStateFile  = "genesis.ssz"
	genesisInfoFile   = "genesis.yaml"
)

const categoryGenesis = "Genesis"

func init() { register(genesisCommand) }

func genesisCommand() *cli.Command {
	return &cli.Command{
		Name:      "genesis",
		Usage:     "write a testnet genesis: the chain config, the interop genesis state and a summary",
		UsageText: "shardlab genesis [--preset minimal|mainnet | --config FILE] [--validators N] [--shards N] [--slot-time SECONDS] [--genesis-time UNIX | --genesis-delay SECONDS] --out DIR",
		Description: `Builds the interop genesis of the chain config (validator i holds interop key i,
deposits of MAX_EFFECTIVE_BALANCE) and writes DIR/config.yaml (the effective
config, consensus-specs keys), DIR/genesis.ssz (the genesis state) and
DIR/genesis.yaml (genesis time, validator count, genesis block root, and
every consensus parameter of config.yaml with their hash). The beacon and
shard node commands read the directory with --genesis DIR, refuse a
config.yaml whose consensus parameters differ from genesis.yaml's, and bind
their data dir to them (docs/architecture.md).

--shards N sets SHARD_COUNT = N and activates shardlab's shard fork at genesis;
--slot-time sets SECONDS_PER_SLOT.

Genesis time: v0.8.3's initialize_beacon_state_from_eth1 rounds genesis_time
to a day boundary (eth1 timestamp rounded down to a day, plus two days). For
testnets that start now, the state is built that way and its genesis_time is
then set to the requested time (--genesis-time, or now plus --genesis-delay).
Nothing else in the state depends on it, but the state is not what a v0.8.3
eth1 deposit contract would have produced at that time.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "preset", Usage: "chain preset: minimal or mainnet", Value: "minimal", Category: categoryChain},
			&cli.PathFlag{Name: "config", Usage: "consensus-specs style YAML chain config (PRESET_BASE picks the preset it amends); replaces --preset", TakesFile: true, Category: categoryChain},
			&cli.Uint64Flag{Name: "validators", Usage: "number of genesis validators, at least MIN_GENESIS_ACTIVE_VALIDATOR_COUNT (0: exactly that many)", Category: categoryGenesis},
			&cli.Uint64Flag{Name: "shards", Usage: "SHARD_COUNT, with the shard fork active from genesis (at least SLOTS_PER_EPOCH, at most 1024); 0: the config's phase 0 chain", Category: categoryShards},
			&cli.Uint64Flag{Name: "slot-time", Usage: "SECONDS_PER_SLOT (0: the config's)", Category: categoryChain},
			&cli.Uint64Flag{Name: "genesis-time", Usage: "genesis time, Unix seconds; excludes --genesis-delay", Category: categoryGenesis},
			&cli.Uint64Flag{Name: "genesis-delay", Usage: "genesis time as seconds from now", Value: 30, Category: categoryGenesis},
			&cli.BoolFlag{Name: "fast-genesis", Usage: "skip deposit signatures (much faster for large registries; the genesis deposit root differs)", Category: categoryGenesis},
			&cli.PathFlag{Name: "out", Usage: "directory to write config.yaml, genesis.ssz and genesis.yaml into (created if missing; existing genesis files are not overwritten)", Required: true, Category: categoryOutput},
			&cli.BoolFlag{Name: "keep-existing", Usage: "when --out already holds a complete genesis of the same chain (config, validators), keep it and succeed: a deployment's genesis job run again", Category: categoryOutput},
		},
		Action: runGenesis,
	}
}

// genesisSpec is what the genesis flags ask for.
type genesisSpec struct {
	cfg         *params.Config
	validators  uint64
	genesisTime uint64
	fast        bool
	out         string
}

// genesisFlags turns the flags into a spec; errors are usage errors.
func genesisFlags(c *cli.Context) (*genesisSpec, error) {
	var cfg *params.Config
	var err error
	if c.IsSet("config") {
		if c.IsSet("preset") {
			return nil, errors.New("--preset and --config exclude each other: set PRESET_BASE in the config file")
		}
		if cfg, err = loadConfigFile(c.Path("config")); err != nil {
			return nil, fmt.Errorf("--config: %w", err)
		}
	} else if cfg, err = params.Preset(c.String("preset")); err != nil {
		return nil, fmt.Errorf("--preset: %w", err)
	}
	if s := c.Uint64("slot-time"); s > 0 {
		cfg.SecondsPerSlot = s
	}
	if n := c.Uint64("shards"); n > 0 {
		if n < cfg.SlotsPerEpoch || n > params.MaxShards {
			return nil, fmt.Errorf("--shards %d: want SLOTS_PER_EPOCH (%d) to %d", n, cfg.SlotsPerEpoch, params.MaxShards)
		}
		cfg.ShardCount = n
		cfg = cfg.WithShards()
	} else if c.IsSet("shards") {
		return nil, errors.New("--shards must be at least 1 (leave it out for the config's chain)")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	spec := &genesisSpec{cfg: cfg, validators: c.Uint64("validators"), fast: c.Bool("fast-genesis"), out: c.Path("out")}
	if spec.validators == 0 {
		spec.validators = cfg.MinGenesisActiveValidatorCount
	}
	if spec.validators < cfg.MinGenesisActiveValidatorCount {
		return nil, fmt.Errorf("--validators %d is below MIN_GENESIS_ACTIVE_VALIDATOR_COUNT (%d)", spec.validators, cfg.MinGenesisActiveValidatorCount)
	}
	if cfg.Shard.Enabled() && spec.validators < cfg.ShardCount {
		return nil, fmt.Errorf("--validators %d is below SHARD_COUNT %d: every shard committee needs a member", spec.validators, cfg.ShardCount)
	}
	switch {
	case c.IsSet("genesis-time") && c.IsSet("genesis-delay"):
		return nil, errors.New("--genesis-time and --genesis-delay exclude each other")
	case c.IsSet("genesis-time"):
		spec.genesisTime = c.Uint64("genesis-time")
	default:
		spec.genesisTime = uint64(time.Now().Unix()) + c.Uint64("genesis-delay")
	}
	if spec.genesisTime < cfg.MinGenesisTime {
		return nil, fmt.Errorf("genesis time %d is before MIN_GENESIS_TIME %d", spec.genesisTime, cfg.MinGenesisTime)
	}
	return spec, nil
}

func runGenesis(c *cli.Context) error {
	spec, err := genesisFlags(c)
	if err != nil {
		return cli.Exit("genesis: "+err.Error(), 2)
	}
	if c.Bool("keep-existing") {
		if kept, err := keepGenesis(spec); kept || err != nil {
			if err != nil {
				return cli.Exit("genesis: --keep-existing: "+err.Error(), 1)
			}
			return nil
		}
	}
	g, err := buildGenesis(spec)
	if err != nil {
		return cli.Exit("genesis: "+err.Error(), 1)
	}
	if err := writeGenesis(spec.out, g); err != nil {
		return cli.Exit("genesis: "+err.Error(), 1)
	}
	slog.Info("wrote genesis", "dir", spec.out, "config", g.cfg.Name, "validators", len(g.state.Validators),
		"genesis_time", g.state.GenesisTime, "root", g.root, "shards", shardCount(g.cfg))
	return nil
}

// keepGenesis reports whether spec.out already holds a complete genesis
// of the chain spec asks for (then it is kept); a genesis of another
// chain is an error, a missing or partial one is not (it is then written,
// or refused if files exist).
func keepGenesis(spec *genesisSpec) (bool, error) {
	g, err := loadGenesis(spec.out)
	if err != nil {
		return false, nil
	}
	want, have := spec.cfg, g.cfg
	if have.Name != want.Name || have.ShardCount != want.ShardCount || have.SecondsPerSlot != want.SecondsPerSlot ||
		uint64(len(g.state.Validators)) != spec.validators {
		return false, fmt.Errorf("%s holds the genesis of another chain (%s, %d validators, %d shards, %ds slots)",
			spec.out, have.Name, len(g.state.Validators), shardCount(have), have.SecondsPerSlot)
	}
	slog.Info("kept existing genesis", "dir", spec.out, "genesis_time", g.state.GenesisTime, "root", g.root)
	return true, nil
}

// genesis is a loaded or built testnet genesis.
type genesis struct {
	cfg   *params.Config
	state *types.BeaconState
	root  types.Root // genesis block root
}

func shardCount(cfg *params.Config) uint64 {
	if !cfg.Shard.Enabled() {
		return 0
	}
	return cfg.ShardCount
}

// newTransition returns the state transition of g's chain with the shard
// layer's fraud-proof verifier (the only place beacon code meets
// shard/core), which checks transaction signatures against g's genesis.
func newTransition(g *genesis) (*core.Transition, error) {
	fv, err := shardcore.NewFraudVerifier(g.state)
	if err != nil {
		return nil, err
	}
	return core.New(g.cfg).WithShardFork(fv), nil
}

// buildGenesis builds the interop genesis state with the requested genesis
// time (see the command's description).
func buildGenesis(spec *genesisSpec) (*genesis, error) {
	keys, err := validator.NewInteropKeysParallel(spec.validators, runtime.GOMAXPROCS(0))
	if err != nil {
		return nil, err
	}
	opts := []validator.GenesisOption{validator.WithKeys(keys)}
	if spec.fast {
		opts = append(opts, validator.SkipDepositSignatures())
	}
	st, err := validator.InteropGenesis(core.New(spec.cfg), spec.validators, spec.genesisTime, opts...)
	if err != nil {
		return nil, err
	}
	st.GenesisTime = spec.genesisTime
	_, root, err := store.GenesisBlock(st)
	if err != nil {
		return nil, err
	}
	return &genesis{cfg: spec.cfg, state: st, root: root}, nil
}

// genesisInfo is genesis.yaml.
type genesisInfo struct {
	GenesisTime       uint64 `yaml:"genesis_time"`
	GenesisValidators uint64 `yaml:"genesis_validators"`
	GenesisRoot       string `yaml:"genesis_root"`
	GenesisStateRoot  string `yaml:"genesis_state_root"`
	ConfigName        string `yaml:"config_name"`
	Shards            uint64 `yaml:"shards"`
	SecondsPerSlot    uint64 `yaml:"seconds_per_slot"`
	// ConsensusConfigHash is the SHA-256 of ConsensusConfig's encoding
	// (params.ConsensusRecord.Hash); ConsensusConfig is every consensus
	// parameter of config.yaml at genesis, checked when a node loads the
	// directory.
	ConsensusConfigHash string            `yaml:"consensus_config_hash"`
	ConsensusConfig     map[string]string `yaml:"consensus_config"`
}

func writeGenesis(dir string, g *genesis) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create output dir: %w", err)
	}
	for _, f := range []string{genesisConfigFile, genesisStateFile, genesisInfoFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return fmt.Errorf("write genesis: %s already exists", filepath.Join(dir, f))
		}
	}
	ssz, err := g.state.MarshalSSZ()
	if err != nil {
		return fmt.Errorf("encode genesis state: %w", err)
	}
	stateRoot, err := g.state.HashTreeRoot()
	if err != nil {
		return fmt.Errorf("hash genesis state: %w", err)
	}
	rec := g.cfg.Consensus()
	info, err := yaml.Marshal(genesisInfo{
		GenesisTime:       g.state.GenesisTime,
		GenesisValidators: uint64(len(g.state.Validators)),
		GenesisRoot:       g.root.String(),
		GenesisStateRoot:  stateRoot.String(),
		ConfigName:        g.cfg.Name,
		Shards:            shardCount(g.cfg),
		SecondsPerSlot:    g.cfg.SecondsPerSlot,

		ConsensusConfigHash: fmt.Sprintf("0x%x", rec.Hash()),
		ConsensusConfig:     rec,
	})
	if err != nil {
		return fmt.Errorf("encode genesis info: %w", err)
	}
	files := []struct {
		name string
		data []byte
	}{
		{genesisConfigFile, g.cfg.MarshalYAML()},
		{genesisStateFile, ssz},
		{genesisInfoFile, append([]byte("# shardlab testnet genesis (genesis_root: signing root of the genesis block)\n"), info...)},
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", f.name, err)
		}
	}
	return nil
}

// loadGenesis reads a genesis directory written by `shardlab genesis`:
// the config (validated and checked against the consensus config recorded
// in the summary), the genesis state (decoded with it) and the summary, and
// checks that they agree (time, validator count, genesis root).
func loadGenesis(dir string) (*genesis, error) {
	cfgPath := filepath.Join(dir, genesisConfigFile)
	cfg, err := loadConfigFile(cfgPath)
	if err != nil {
		return nil, fmt.Errorf("load genesis: %w", err)
	}
	infoPath := filepath.Join(dir, genesisInfoFile)
	raw, err := os.ReadFile(infoPath)
	if err != nil {
		return nil, fmt.Errorf("load genesis: %w", err)
	}
	var info genesisInfo
	if err := yaml.Unmarshal(raw, &info); err != nil {
		return nil, fmt.Errorf("load genesis: parse %s: %w", genesisInfoFile, err)
	}
	if err := checkGenesisConsensus(info, infoPath, cfg, cfgPath); err != nil {
		return nil, fmt.Errorf("load genesis: %w", err)
	}
	buf, err := os.ReadFile(filepath.Join(dir, genesisStateFile))
	if err != nil {
		return nil, fmt.Errorf("load genesis: %w", err)
	}
	st, err := types.UnmarshalBeaconState(cfg, buf)
	if err != nil {
		return nil, fmt.Errorf("load genesis: decode %s: %w", genesisStateFile, err)
	}
	if uint64(st.Slot) != cfg.GenesisSlot {
		return nil, fmt.Errorf("load genesis: state at slot %d, GENESIS_SLOT is %d", st.Slot, cfg.GenesisSlot)
	}
	_, root, err := store.GenesisBlock(st)
	if err != nil {
		return nil, fmt.Errorf("load genesis: %w", err)
	}
	var problems []string
	if info.GenesisTime != st.GenesisTime {
		problems = append(problems, fmt.Sprintf("genesis_time %d, state says %d", info.GenesisTime, st.GenesisTime))
	}
	if info.GenesisValidators != uint64(len(st.Validators)) {
		problems = append(problems, fmt.Sprintf("genesis_validators %d, state has %d", info.GenesisValidators, len(st.Validators)))
	}
	if !strings.EqualFold(info.GenesisRoot, root.String()) {
		problems = append(problems, fmt.Sprintf("genesis_root %s, state gives %s", info.GenesisRoot, root))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("load genesis %s: inconsistent files: %s", dir, strings.Join(problems, "; "))
	}
	return &genesis{cfg: cfg, state: st, root: root}, nil
}

// checkGenesisConsensus checks the consensus config recorded in the summary
// (infoPath) against its hash and against cfg (loaded from cfgPath).
func checkGenesisConsensus(info genesisInfo, infoPath string, cfg *params.Config, cfgPath string) error {
	if len(info.ConsensusConfig) == 0 || info.ConsensusConfigHash == "" {
		return fmt.Errorf("%s records no consensus_config and consensus_config_hash (written by an older shardlab?): write the genesis again with shardlab genesis", infoPath)
	}
	rec := params.ConsensusRecord(info.ConsensusConfig)
	if h := fmt.Sprintf("0x%x", rec.Hash()); !strings.EqualFold(h, info.ConsensusConfigHash) {
		return fmt.Errorf("%s: consensus_config hashes to %s, but consensus_config_hash is %s (edited by hand?)", infoPath, h, info.ConsensusConfigHash)
	}
	if err := params.CheckConsensus(rec, infoPath, cfg, cfgPath); err != nil {
		return err
	}
	return nil
}
