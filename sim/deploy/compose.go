package deploy

import (
	"bytes"
	"fmt"
	"strconv"

	"gopkg.in/yaml.v3"
)

// Files of the docker target.
const (
	ComposeFile    = "compose.yaml"
	PrometheusFile = "prometheus.yml"
)

// PrometheusImage is the image of the optional Prometheus service (Compose
// profile "prometheus"), pinned.
const PrometheusImage = "prom/prometheus:v2.53.2"

// composeFile is the part of the Compose specification the docker target
// uses (docker compose and docker-compose 1.29 both read it).
type composeFile struct {
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]composeVolume  `yaml:"volumes"`
}

type composeService struct {
	Image           string                       `yaml:"image"`
	User            string                       `yaml:"user,omitempty"`
	Command         []string                     `yaml:"command"`
	NetworkMode     string                       `yaml:"network_mode"`
	Volumes         []string                     `yaml:"volumes,omitempty"`
	DependsOn       map[string]composeDependency `yaml:"depends_on,omitempty"`
	Restart         string                       `yaml:"restart,omitempty"`
	StopGracePeriod string                       `yaml:"stop_grace_period,omitempty"`
	Profiles        []string                     `yaml:"profiles,omitempty"`
	Labels          map[string]string            `yaml:"labels,omitempty"`
}

type composeDependency struct {
	Condition string `yaml:"condition"`
}

type composeVolume struct {
	Labels map[string]string `yaml:"labels,omitempty"`
}

// prometheusConfig is the scrape configuration of the Prometheus service.
type prometheusConfig struct {
	Global struct {
		ScrapeInterval string `yaml:"scrape_interval"`
	} `yaml:"global"`
	ScrapeConfigs []scrapeConfig `yaml:"scrape_configs"`
}

type scrapeConfig struct {
	JobName       string         `yaml:"job_name"`
	StaticConfigs []staticConfig `yaml:"static_configs"`
}

type staticConfig struct {
	Targets []string          `yaml:"targets"`
	Labels  map[string]string `yaml:"labels"`
}

// Labels of rendered services and objects.
const (
	labelNode = "shardlab.io/node"
	labelRole = "shardlab.io/role"
)

// renderDocker renders a Compose project on the host network: a one-shot
// genesis service writing the genesis volume, one service per node with
// its own data volume and testnet up's ports on 127.0.0.1, and an optional
// Prometheus service scraping every node.
func renderDocker(c Config, nodes []node) (map[string][]byte, error) {
	user := strconv.Itoa(UID) + ":" + strconv.Itoa(GID)
	f := composeFile{
		Services: map[string]composeService{
			"genesis": {
				Image: c.Image, User: user, Command: c.genesisArgs(TargetDocker), NetworkMode: "host",
				Volumes: []string{"genesis:" + GenesisPath}, Restart: "no",
				Labels: map[string]string{labelRole: "genesis"},
			},
		},
		Volumes: map[string]composeVolume{"genesis": {}},
	}
	addr := func(n node) string {
		return fmt.Sprintf("/ip4/127.0.0.1/tcp/%d/p2p/%s", n.spec.P2PPort, n.peerID)
	}
	prom := prometheusConfig{ScrapeConfigs: []scrapeConfig{{JobName: "shardlab"}}}
	prom.Global.ScrapeInterval = "5s"
	for i, n := range nodes {
		data := n.spec.Name + "-data"
		f.Services[n.spec.Name] = composeService{
			Image: c.Image, User: user, Command: c.args(nodes, i, addr), NetworkMode: "host",
			Volumes:   []string{"genesis:" + GenesisPath + ":ro", data + ":" + HomePath},
			DependsOn: map[string]composeDependency{"genesis": {Condition: "service_completed_successfully"}},
			Restart:   "on-failure", StopGracePeriod: "15s",
			Labels: map[string]string{labelNode: n.spec.Name, labelRole: n.spec.Role},
		}
		f.Volumes[data] = composeVolume{}
		prom.ScrapeConfigs[0].StaticConfigs = append(prom.ScrapeConfigs[0].StaticConfigs, staticConfig{
			Targets: []string{"127.0.0.1:" + strconv.Itoa(n.spec.MetricsPort)},
			Labels:  map[string]string{"node": n.spec.Name, "role": n.spec.Role},
		})
	}
	f.Services["prometheus"] = composeService{
		Image: PrometheusImage, NetworkMode: "host", Profiles: []string{"prometheus"},
		Command: []string{"--config.file=/etc/prometheus/prometheus.yml", "--web.listen-address=127.0.0.1:9090"},
		Volumes: []string{"./" + PrometheusFile + ":/etc/prometheus/prometheus.yml:ro"},
	}
	compose, err := marshalYAML(composeHeader(c, nodes), f)
	if err != nil {
		return nil, err
	}
	promYAML, err := marshalYAML("# Prometheus scrape configuration of the shardlab Compose project (profile prometheus).\n", prom)
	if err != nil {
		return nil, err
	}
	return map[string][]byte{ComposeFile: compose, PrometheusFile: promYAML}, nil
}

// composeHeader is the comment at the top of the Compose file: the network
// and how to run it.
func composeHeader(c Config, nodes []node) string {
	var b bytes.Buffer
	tc := c.Testnet
	fmt.Fprintf(&b, "# shardlab testnet: %d beacon + %d shard nodes, %d validators, %s preset, %d shards, %v slots, seed %d.\n",
		tc.BeaconNodes, tc.ShardNodes, tc.Validators, tc.Preset, tc.Shards, tc.SlotTime, tc.Seed)
	b.WriteString("# Rendered by `shardlab testnet render --target docker` (docs/deploy.md). Host network:\n")
	for _, n := range nodes {
		fmt.Fprintf(&b, "#   %-9s http://127.0.0.1:%d  metrics :%d  p2p :%d\n", n.spec.Name, n.spec.HTTPPort, n.spec.MetricsPort, n.spec.P2PPort)
	}
	b.WriteString("# Start: docker compose up -d (add --profile prometheus for Prometheus on :9090).\n")
	b.WriteString("# Stop and forget the chain: docker compose down -v.\n")
	return b.String()
}

// marshalYAML encodes v as YAML with two-space indentation after header.
func marshalYAML(header string, v any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(header)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode yaml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode yaml: %w", err)
	}
	return b.Bytes(), nil
}
