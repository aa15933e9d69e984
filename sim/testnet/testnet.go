package testnet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/shardlab/shardlab/beacon/params"
)

// Files of a testnet directory.
const (
	ManifestFile = "testnet.json"
	SummaryFile  = "summary.json"
	genesisDir   = "genesis"
)

// Timeouts of process management.
const (
	listenTimeout = 30 * time.Second
	stopTimeout   = 10 * time.Second
)

// Manifest is testnet.json: what `testnet status` and `testnet down` read.
type Manifest struct {
	Binary         string     `json:"binary"`
	GenesisTime    int64      `json:"genesis_time"`
	SecondsPerSlot uint64     `json:"seconds_per_slot"`
	SlotsPerEpoch  uint64     `json:"slots_per_epoch"`
	Shards         uint64     `json:"shards"`
	Nodes          []NodeSpec `json:"nodes"`
}

// Testnet is a local testnet of node processes.
type Testnet struct {
	cfg   Config
	log   *slog.Logger
	out   *printer
	chain *params.Config
	// genesis is the genesis time (known after Start wrote the genesis).
	genesis time.Time

	mu    sync.Mutex
	procs []*Process
	next  int // index of the next process (the port layout)
}

// New checks cfg and prepares a testnet in cfg.Dir (made absolute);
// nothing runs until Start. logger receives diagnostics (nil: none).
func New(cfg Config, logger *slog.Logger) (*Testnet, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("testnet dir: %w", err)
	}
	cfg.Dir = dir
	if cfg.Binary, err = filepath.Abs(cfg.Binary); err != nil {
		return nil, fmt.Errorf("shardlab binary: %w", err)
	}
	if cfg.LogLevel == "" {
		cfg.LogLevel = "info"
	}
	return &Testnet{cfg: cfg, log: logger, out: newPrinter(cfg.Out, cfg.TTY)}, nil
}

// Config returns the testnet's configuration.
func (t *Testnet) Config() Config { return t.cfg }

// ChainConfig returns the chain config of the genesis (nil before Start).
func (t *Testnet) ChainConfig() *params.Config { return t.chain }

// GenesisTime returns the genesis time (zero before Start).
func (t *Testnet) GenesisTime() time.Time { return t.genesis }

// HasShardCommand reports whether the binary has the `shard` command.
func HasShardCommand(bin string) bool {
	cmd := exec.Command(bin, "shard", "--help")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	return cmd.Run() == nil
}

// Start prepares the directory, writes the genesis and starts the
// processes: beacon node 0 first (the bootnode), then every other node with
// the addresses of the nodes started before it as bootnodes, so that the
// processes form a full mesh. On error the processes already started are
// stopped.
func (t *Testnet) Start(ctx context.Context) (err error) {
	if err := prepareDir(t.cfg.Dir); err != nil {
		return err
	}
	fishermen := ""
	switch {
	case t.cfg.Fishermen == 1:
		fishermen = " and a fisherman"
	case t.cfg.Fishermen > 1:
		fishermen = fmt.Sprintf(" and %d fishermen", t.cfg.Fishermen)
	}
	t.out.progress("testnet in %s: %d beacon nodes, %d shard nodes%s, %d validators, %s preset, %d shards, %v slots",
		t.cfg.Dir, t.cfg.BeaconNodes, t.cfg.ShardNodes, fishermen, t.cfg.Validators, t.cfg.Preset, t.cfg.Shards, t.cfg.SlotTime)
	if err := t.writeGenesis(ctx); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			t.Stop()
		}
	}()
	specs := t.cfg.NodeSpecs()
	for i := range specs {
		if specs[i], err = t.layout(specs[i]); err != nil {
			return err
		}
	}
	up := 0
	for _, s := range specs {
		if t.late(s) {
			t.register(&Process{Spec: s})
			continue
		}
		if _, err := t.startNew(ctx, s); err != nil {
			return err
		}
		up++
	}
	if up < len(specs) {
		if err := t.writeManifest(); err != nil {
			return err
		}
	}
	if left := time.Until(t.genesis); left > 0 {
		t.out.progress("all %d processes up; genesis in %.1fs", up, left.Seconds())
	} else {
		t.out.progress("all %d processes up, %.1fs after genesis (raise the genesis delay if this recurs)", up, -left.Seconds())
	}
	return nil
}

// prepareDir empties dir when it holds a previous testnet (refusing while
// its processes run) and creates it.
func prepareDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return os.MkdirAll(dir, 0o755)
	case err != nil:
		return fmt.Errorf("testnet dir: %w", err)
	case len(entries) == 0:
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, ManifestFile)); err != nil {
		if _, gerr := os.Stat(filepath.Join(dir, genesisDir)); gerr != nil {
			return fmt.Errorf("testnet dir %s is not empty and holds no testnet (%s): choose another --dir", dir, ManifestFile)
		}
	}
	if live := liveProcesses(dir); len(live) > 0 {
		return fmt.Errorf("testnet dir %s: processes still running (%s): run shardlab testnet down --dir %s first", dir, strings.Join(live, ", "), dir)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("clear testnet dir: %w", err)
		}
	}
	return nil
}

// writeGenesis runs `shardlab genesis` into DIR/genesis and loads the
// result.
func (t *Testnet) writeGenesis(ctx context.Context) error {
	out := filepath.Join(t.cfg.Dir, genesisDir)
	args := append([]string{"--log-level", "warn"}, t.cfg.GenesisArgs(out)...)
	cmd := exec.CommandContext(ctx, t.cfg.Binary, args...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("write genesis: %s %s: %w\n%s", t.cfg.Binary, strings.Join(args, " "), err, b)
	}
	cfg, gt, err := loadGenesis(out)
	if err != nil {
		return err
	}
	t.chain, t.genesis = cfg, gt
	t.out.progress("wrote genesis to %s: genesis at %s (in %.0fs), %d slots of %ds per epoch",
		out, gt.Format("15:04:05"), time.Until(gt).Seconds(), cfg.SlotsPerEpoch, cfg.SecondsPerSlot)
	return nil
}

// loadGenesis reads the chain config and the genesis time of a genesis
// directory.
func loadGenesis(dir string) (*params.Config, time.Time, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "config.yaml"))
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("load genesis: %w", err)
	}
	cfg, err := params.Parse(raw)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("load genesis: %w", err)
	}
	raw, err = os.ReadFile(filepath.Join(dir, "genesis.yaml"))
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("load genesis: %w", err)
	}
	var info struct {
		GenesisTime int64 `yaml:"genesis_time"`
	}
	if err := yaml.Unmarshal(raw, &info); err != nil {
		return nil, time.Time{}, fmt.Errorf("load genesis: genesis.yaml: %w", err)
	}
	return cfg, time.Unix(info.GenesisTime, 0), nil
}

// NodeSpecs lays out the testnet's initial nodes, in start order: beacon
// nodes beacon-0... with the validators split evenly (ValidatorSplit), then
// shard nodes shard-0... with the shards split across them (ShardSplit)
// and every validator key, then the fishermen (every shard, keys
// FishermanKeys). Ports follow the layout from BasePort (zero when
// BasePort is 0); Dir is left empty.
func (c Config) NodeSpecs() []NodeSpec {
	var specs []NodeSpec
	add := func(name, role string) *NodeSpec {
		i := len(specs)
		s := NodeSpec{Name: name, Role: role, Index: i}
		s.P2PPort, s.HTTPPort, s.MetricsPort = c.ports(i)
		s.DebugAPI = c.DebugAPI
		specs = append(specs, s)
		return &specs[i]
	}
	for i := range c.BeaconNodes {
		s := add(fmt.Sprintf("beacon-%d", i), RoleBeacon)
		if lo, hi, ok := ValidatorSplit(c.Validators, c.BeaconNodes, i); ok {
			s.Validators = fmt.Sprintf("%d-%d", lo, hi)
		}
	}
	for i := range c.ShardNodes {
		s := add(fmt.Sprintf("shard-%d", i), RoleShard)
		s.Validators = fmt.Sprintf("0-%d", c.Validators-1)
		s.Shards = ShardSplit(c.Shards, c.ShardNodes, i)
	}
	for i := range c.Fishermen {
		s := add(fmt.Sprintf("shard-%d", c.ShardNodes+i), RoleShard)
		s.Validators = FishermanKeys
		for sh := range c.Shards {
			s.Shards = append(s.Shards, sh)
		}
	}
	return specs
}

// GenesisArgs returns the `shardlab genesis` command line (after the
// binary and global flags) that writes the testnet's genesis into out, its
// genesis time the genesis delay ahead of when it runs.
func (c Config) GenesisArgs(out string) []string {
	delay := c.genesisDelay()
	args := []string{"genesis", "--preset", c.Preset,
		"--validators", strconv.FormatUint(c.Validators, 10),
		"--slot-time", strconv.Itoa(int(c.SlotTime / time.Second)),
		"--genesis-delay", strconv.Itoa(int((delay + time.Second - 1) / time.Second)),
		"--out", out}
	if c.ChainConfig != "" {
		args[1], args[2] = "--config", c.ChainConfig
	}
	if c.Shards > 0 {
		args = append(args, "--shards", strconv.FormatUint(c.Shards, 10))
	}
	return args
}

// newSpec lays out the next process.
func (t *Testnet) newSpec(name, role string) (NodeSpec, error) {
	return t.layout(NodeSpec{Name: name, Role: role})
}

// layout gives s the next process index, its directory and its ports.
func (t *Testnet) layout(s NodeSpec) (NodeSpec, error) {
	t.mu.Lock()
	i := t.next
	t.next++
	t.mu.Unlock()
	if i >= MaxProcesses {
		return NodeSpec{}, fmt.Errorf("start %s: more than %d processes", s.Name, MaxProcesses)
	}
	s.Index, s.Dir = i, filepath.Join(t.cfg.Dir, s.Name)
	if t.cfg.BasePort > 0 {
		s.P2PPort, s.HTTPPort, s.MetricsPort = t.cfg.ports(i)
		return s, t.cfg.layoutPprof(&s)
	}
	return s, t.cfg.freePorts(&s)
}

// freePorts gives s free ports (p2p on TCP and UDP, HTTP, metrics and,
// when profiling, pprof).
func (c Config) freePorts(s *NodeSpec) error {
	var err error
	if s.P2PPort, err = freePort(true); err != nil {
		return err
	}
	if s.HTTPPort, err = freePort(false); err != nil {
		return err
	}
	if s.MetricsPort, err = freePort(false); err != nil {
		return err
	}
	return c.layoutPprof(s)
}

// freePort returns a port that was free a moment ago on 127.0.0.1 for TCP
// (and UDP, with udp).
func freePort(udp bool) (int, error) {
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("find a free port: %w", err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		if !udp {
			ln.Close()
			return port, nil
		}
		pc, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port))
		ln.Close()
		if err == nil {
			pc.Close()
			return port, nil
		}
	}
	return 0, errors.New("find a free port: none free for both TCP and UDP")
}

// register adds p to the testnet's processes.
func (t *Testnet) register(p *Process) {
	t.mu.Lock()
	t.procs = append(t.procs, p)
	t.mu.Unlock()
}

// late reports whether s is a beacon node Config.LateBeacon holds back.
func (t *Testnet) late(s NodeSpec) bool {
	for _, n := range t.cfg.LateBeacon {
		if s.Role == RoleBeacon && s.Name == fmt.Sprintf("beacon-%d", n) {
			return true
		}
	}
	return false
}

// startNew registers and starts a new process.
func (t *Testnet) startNew(ctx context.Context, s NodeSpec) (*Process, error) {
	p := &Process{Spec: s}
	t.register(p)
	for attempt := 1; ; attempt++ {
		err := t.launch(ctx, p)
		if err == nil {
			break
		}
		// A free port is free only until something binds it: another
		// testnet or test on the machine may take it between freePort and
		// the node's bind. Only a process that never listened moves.
		if t.cfg.BasePort > 0 || attempt >= launchAttempts || !strings.Contains(err.Error(), "address already in use") {
			return p, err
		}
		t.out.progress("%s: a port was taken before it bound (attempt %d), starting again on other ports", s.Name, attempt)
		if err := t.cfg.freePorts(&p.Spec); err != nil {
			return p, err
		}
	}
	return p, t.writeManifest()
}

// launchAttempts bounds the starts of a new process whose free ports were
// taken before it bound them.
const launchAttempts = 3

// launch starts p with the addresses of the other running processes as
// bootnodes and waits for its listen line.
func (t *Testnet) launch(ctx context.Context, p *Process) error {
	var boot []string
	t.mu.Lock()
	for _, q := range t.procs {
		if q != p && q.Running() && q.Addr() != "" {
			boot = append(boot, q.Addr())
		}
	}
	t.mu.Unlock()
	args := p.Spec.Args(filepath.Join(t.cfg.Dir, genesisDir), boot, t.cfg.LogLevel)
	off, err := p.start(t.cfg.Binary, args, !t.cfg.Keep)
	if err != nil {
		return err
	}
	addr, err := p.waitListening(ctx, off, listenTimeout)
	if err != nil {
		p.Kill()
		return err
	}
	what := p.Spec.Role + " node"
	if len(boot) == 0 {
		what += ", the bootnode"
	}
	details := ""
	if p.Spec.Validators != "" {
		details += " validators " + p.Spec.Validators
	}
	if len(p.Spec.Shards) > 0 {
		details += " shards " + joinUints(p.Spec.Shards)
	}
	t.out.progress("started %-9s (%s, pid %d)%s: http %s, p2p %s", p.Spec.Name, what, p.Pid(), details, p.Spec.URL(), addr)
	return nil
}

func joinUints(v []uint64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatUint(x, 10)
	}
	return strings.Join(s, ",")
}

// writeManifest writes testnet.json.
func (t *Testnet) writeManifest() error {
	m := Manifest{Binary: t.cfg.Binary, GenesisTime: t.genesis.Unix(), SecondsPerSlot: t.chain.SecondsPerSlot,
		SlotsPerEpoch: t.chain.SlotsPerEpoch, Shards: t.cfg.Shards}
	for _, p := range t.Processes() {
		m.Nodes = append(m.Nodes, p.Spec)
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(t.cfg.Dir, ManifestFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return os.Rename(tmp, filepath.Join(t.cfg.Dir, ManifestFile))
}

// ReadManifest reads DIR/testnet.json.
func ReadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, fmt.Errorf("read testnet manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("read testnet manifest: %w", err)
	}
	return &m, nil
}

// Processes returns the testnet's processes in start order.
func (t *Testnet) Processes() []*Process {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.procs)
}

// Process returns the process named name (nil if none).
func (t *Testnet) Process(name string) *Process {
	for _, p := range t.Processes() {
		if p.Spec.Name == name {
			return p
		}
	}
	return nil
}

// Client returns an API client of the named process.
func (t *Testnet) Client(name string) *Client {
	p := t.Process(name)
	if p == nil {
		return nil
	}
	return NewClient(p.Spec.URL())
}

// Stop stops every running process, including nodes started again outside
// this Testnet (Process.Follow): SIGTERM to all, then SIGKILL to those
// still running after a grace period. It returns when all have exited.
func (t *Testnet) Stop() {
	var wg sync.WaitGroup
	for _, p := range t.Processes() {
		p.Follow()
		if p.Running() {
			wg.Go(func() { p.Stop(stopTimeout) })
		}
	}
	wg.Wait()
}

// Kill sends SIGKILL to the named process and waits for it to exit.
func (t *Testnet) Kill(name string) error {
	p := t.Process(name)
	if p == nil {
		return fmt.Errorf("kill %s: no such process", name)
	}
	p.Kill()
	return nil
}

// Restart starts the named (stopped or killed) process again on its data
// dir, with the running processes as bootnodes.
func (t *Testnet) Restart(ctx context.Context, name string) error {
	p := t.Process(name)
	if p == nil {
		return fmt.Errorf("restart %s: no such process", name)
	}
	if p.Running() {
		return fmt.Errorf("restart %s: still running", name)
	}
	return t.launch(ctx, p)
}

// Join starts the named process, one that is not running, as a new node:
// its data dir is emptied first, so it syncs from the running processes
// (a late joiner of Config.LateBeacon, or a node that left for good).
func (t *Testnet) Join(ctx context.Context, name string) error {
	p := t.Process(name)
	switch {
	case p == nil:
		return fmt.Errorf("join %s: no such process", name)
	case p.Running():
		return fmt.Errorf("join %s: %w", name, ErrNodeRunning)
	}
	if err := os.RemoveAll(p.Spec.DataDir()); err != nil {
		return fmt.Errorf("join %s: empty the data dir: %w", name, err)
	}
	return t.launch(ctx, p)
}

// AddBeaconNode starts a new beacon node with an empty data dir hosting
// the given interop keys ("A-B", or "" for none): a late joiner that syncs
// from its peers.
func (t *Testnet) AddBeaconNode(ctx context.Context, name, validators string) (*Process, error) {
	if t.Process(name) != nil {
		return nil, fmt.Errorf("add %s: name taken", name)
	}
	s, err := t.newSpec(name, RoleBeacon)
	if err != nil {
		return nil, err
	}
	s.Validators = validators
	return t.startNew(ctx, s)
}
