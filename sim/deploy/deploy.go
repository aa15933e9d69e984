package deploy

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardlab/shardlab/p2p"
	"github.com/shardlab/shardlab/sim/testnet"
)

// Targets of Render.
const (
	TargetDocker = "docker"
	TargetK8s    = "k8s"
)

// Paths and identity inside the image (sim/deploy/Dockerfile).
const (
	// GenesisPath is where the genesis volume is mounted.
	GenesisPath = "/genesis"
	// HomePath is a node's directory; its --datadir is HomePath/data, on
	// the node's own volume.
	HomePath = "/var/lib/shardlab"
	// UID and GID are the image's non-root user.
	UID = 10001
	GID = 10001
)

// Ports of every node on Kubernetes, where each pod has its own address
// (on Docker the nodes share the host network and use the port layout of
// testnet up).
const (
	K8sP2PPort     = 9000
	K8sHTTPPort    = 5052
	K8sMetricsPort = 8080
)

// Defaults of Config.
const (
	DefaultImage     = "shardlab:latest"
	DefaultNamespace = "shardlab"
	// DefaultK8sGenesisDelay leaves a cluster time to schedule the pods
	// and pull the image before slot 0.
	DefaultK8sGenesisDelay = 60 * time.Second
	// genesisWait is the nodes' --genesis-wait: how long they wait for the
	// genesis job.
	genesisWait = 10 * time.Minute
	// maxBootnodes bounds the bootnodes of one node: the first beacon node
	// and the nodes just before it, which keeps large networks connected
	// without every node dialling every other.
	maxBootnodes = 8
)

// Config is what Render needs.
type Config struct {
	// Testnet holds the network: BeaconNodes, ShardNodes, Validators,
	// Shards, Preset, SlotTime, GenesisDelay, Seed, LogLevel and, for
	// Docker, BasePort. Its Dir, Binary, Epochs and workload are not used.
	Testnet testnet.Config
	// Image is the shardlab image the containers run.
	Image string
	// Namespace is the Kubernetes namespace (k8s target only).
	Namespace string
	// Faults, when set, is rendered into Chaos Mesh experiments (k8s).
	Faults *Timeline
}

// DefaultConfig returns the network of `shardlab testnet up` (4 beacon
// and 4 shard nodes, 64 validators, 8 shards, 2-second slots) on image
// DefaultImage in namespace DefaultNamespace.
func DefaultConfig() Config {
	return Config{Testnet: testnet.DefaultConfig(), Image: DefaultImage, Namespace: DefaultNamespace}
}

// dnsLabel is a Kubernetes object name (RFC 1123 label).
var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// Validate checks the configuration for target.
func (c Config) Validate(target string) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
	}
	tc := c.Testnet
	if target == TargetDocker {
		// The host network: testnet up's port layout and its limits. The
		// directory and binary are not used (the image's binary, files
		// written by Write).
		tc.Dir, tc.Binary = "-", "-"
		if err := tc.Validate(); err != nil {
			return err
		}
	} else if err := tc.ValidateNetwork(); err != nil {
		return err // every pod has its own address: any number of nodes
	}
	switch {
	case target != TargetDocker && target != TargetK8s:
		return bad("target %q: want %s or %s", target, TargetDocker, TargetK8s)
	case c.Image == "" || strings.ContainsAny(c.Image, " \t\n"):
		return bad("image %q", c.Image)
	case target == TargetDocker && tc.BasePort == 0:
		return bad("the docker target shares the host network: it needs a base port")
	case target == TargetK8s && (len(c.Namespace) > 63 || !dnsLabel.MatchString(c.Namespace)):
		return bad("namespace %q: a DNS label (lowercase letters, digits, '-')", c.Namespace)
	case c.Faults != nil && target != TargetK8s:
		return bad("faults render to Chaos Mesh experiments: use the %s target", TargetK8s)
	}
	if c.Faults != nil {
		if err := c.Faults.Validate(c.nodeNames()); err != nil {
			return err
		}
	}
	return nil
}

// node is one rendered node: its spec, p2p key seed and peer ID.
type node struct {
	spec    testnet.NodeSpec
	keySeed string
	peerID  peer.ID
}

// nodeNames lists the nodes' names in start order.
func (c Config) nodeNames() []string {
	var names []string
	for _, s := range c.Testnet.NodeSpecs() {
		names = append(names, s.Name)
	}
	return names
}

// nodes lays out the nodes for target: testnet up's specs, with the
// Kubernetes ports and listen address on k8s, the image's home directory,
// and the derived p2p keys.
func (c Config) nodes(target string) ([]node, error) {
	var out []node
	for _, s := range c.Testnet.NodeSpecs() {
		s.Dir = HomePath
		if target == TargetK8s {
			s.P2PPort, s.HTTPPort, s.MetricsPort, s.Host = K8sP2PPort, K8sHTTPPort, K8sMetricsPort, "0.0.0.0"
		}
		seed := fmt.Sprintf("shardlab/%d/%s", c.Testnet.Seed, s.Name)
		k, err := p2p.DeriveKey(seed)
		if err != nil {
			return nil, fmt.Errorf("render %s: %w", s.Name, err)
		}
		id, err := peer.IDFromPrivateKey(k)
		if err != nil {
			return nil, fmt.Errorf("render %s: %w", s.Name, err)
		}
		out = append(out, node{spec: s, keySeed: seed, peerID: id})
	}
	return out, nil
}

// bootnodes returns node i's bootnodes: the first node and up to
// maxBootnodes-1 nodes just before i, as testnet up gives every node the
// nodes started before it. addr renders one node's multiaddr.
func bootnodes(nodes []node, i int, addr func(node) string) []string {
	var out []string
	for j := max(1, i-maxBootnodes+1); j < i; j++ {
		out = append(out, addr(nodes[j]))
	}
	if i > 0 {
		out = append([]string{addr(nodes[0])}, out...)
	}
	return out
}

// args is node i's command line (after the image's entrypoint).
func (c Config) args(nodes []node, i int, addr func(node) string) []string {
	n := nodes[i]
	args := n.spec.Args(GenesisPath, bootnodes(nodes, i, addr), c.logLevel())
	return append(args, "--p2p-key-seed", n.keySeed, "--genesis-wait", genesisWait.String())
}

// genesisArgs is the genesis job's command line, with the genesis delay of
// target. --keep-existing makes it idempotent: run again (compose up after
// compose down, a retried Job) it keeps the genesis the nodes already run.
func (c Config) genesisArgs(target string) []string {
	tc := c.Testnet
	if target == TargetK8s && tc.GenesisDelay == 0 {
		tc.GenesisDelay = DefaultK8sGenesisDelay
	}
	args := append([]string{"--log-level", "info"}, tc.GenesisArgs(GenesisPath)...)
	return append(args, "--keep-existing")
}

func (c Config) logLevel() string {
	if c.Testnet.LogLevel == "" {
		return "info"
	}
	return c.Testnet.LogLevel
}

// Render returns the files of target, by path relative to the output
// directory.
func Render(c Config, target string) (map[string][]byte, error) {
	if err := c.Validate(target); err != nil {
		return nil, err
	}
	nodes, err := c.nodes(target)
	if err != nil {
		return nil, err
	}
	if target == TargetDocker {
		return renderDocker(c, nodes)
	}
	return renderK8s(c, nodes)
}

// Write writes files into dir (created if missing). It refuses a
// directory that already holds any file it would write, so that a render
// never silently replaces edited manifests, unless overwrite.
func Write(dir string, files map[string][]byte, overwrite bool) error {
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	if !overwrite {
		for _, p := range paths {
			if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
				return fmt.Errorf("write %s: exists (render into an empty directory)", filepath.Join(dir, p))
			}
		}
	}
	for _, p := range paths {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return fmt.Errorf("write %s: %w", full, err)
		}
		if err := os.WriteFile(full, files[p], 0o644); err != nil {
			return fmt.Errorf("write %s: %w", full, err)
		}
	}
	return nil
}
