package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/shardlab/shardlab/sim/testnet"
)

// TestConfigValidate rejects configurations the targets cannot render.
func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		target string
		edit   func(c *Config)
		want   string
	}{
		{name: "docker", target: TargetDocker, edit: func(*Config) {}},
		{name: "k8s", target: TargetK8s, edit: func(*Config) {}},
		{name: "unknown target", target: "nomad", edit: func(*Config) {}, want: "target"},
		{name: "no image", target: TargetK8s, edit: func(c *Config) { c.Image = "" }, want: "image"},
		{name: "docker without base port", target: TargetDocker, edit: func(c *Config) { c.Testnet.BasePort = 0 }, want: "base port"},
		{name: "bad namespace", target: TargetK8s, edit: func(c *Config) { c.Namespace = "Shard_Lab" }, want: "namespace"},
		{name: "faults on docker", target: TargetDocker, edit: func(c *Config) { c.Faults = &Timeline{} }, want: "faults"},
		{name: "bad faults", target: TargetK8s, edit: func(c *Config) { c.Faults = &Timeline{} }, want: "no faults"},
		{name: "bad network", target: TargetK8s, edit: func(c *Config) { c.Testnet.BeaconNodes = 0 }, want: "beacon nodes"},
		{name: "200 nodes on k8s", target: TargetK8s, edit: func(c *Config) { c.Testnet.BeaconNodes, c.Testnet.ShardNodes, c.Testnet.Validators = 100, 100, 256 }},
		{name: "200 nodes on docker", target: TargetDocker, edit: func(c *Config) { c.Testnet.BeaconNodes, c.Testnet.ShardNodes, c.Testnet.Validators = 100, 100, 256 }, want: "processes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.edit(&c)
			_, err := Render(c, tc.target)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Render: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err %v, want one containing %q", err, tc.want)
			case tc.want != "" && !errors.Is(err, ErrInvalidConfig) && !errors.Is(err, testnet.ErrInvalidConfig):
				t.Fatalf("err %v wraps no config error", err)
			}
		})
	}
}

// TestWrite writes the files and refuses to replace them unless told.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{"a.yaml": []byte("a"), "chaos/b.yaml": []byte("b")}
	if err := Write(dir, files, false); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "chaos", "b.yaml")); err != nil || string(b) != "b" {
		t.Fatalf("chaos/b.yaml: %q %v", b, err)
	}
	if err := Write(dir, files, false); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("second write: %v", err)
	}
	if err := Write(dir, map[string][]byte{"a.yaml": []byte("new")}, true); err != nil {
		t.Fatal(err)
	}
}

// composeView is the Compose specification as the test reads it,
// independent of the renderer's types: strict decoding rejects any field
// outside it.
type composeView struct {
	Services map[string]struct {
		Image           string                                `yaml:"image"`
		User            string                                `yaml:"user"`
		Command         []string                              `yaml:"command"`
		NetworkMode     string                                `yaml:"network_mode"`
		Volumes         []string                              `yaml:"volumes"`
		DependsOn       map[string]struct{ Condition string } `yaml:"depends_on"`
		Restart         string                                `yaml:"restart"`
		StopGracePeriod string                                `yaml:"stop_grace_period"`
		Profiles        []string                              `yaml:"profiles"`
		Labels          map[string]string                     `yaml:"labels"`
	} `yaml:"services"`
	Volumes map[string]map[string]any `yaml:"volumes"`
}

// TestComposeStructure parses the Compose file and the Prometheus config
// and checks the deployment: a one-shot genesis service on the genesis
// volume; per node a service on the host network that waits for it, with
// its own data volume, testnet up's ports and command line, bootnodes of
// earlier nodes with their peer IDs; Prometheus scraping every node.
func TestComposeStructure(t *testing.T) {
	c := testConfig(t, TargetDocker)
	files := render(t, TargetDocker)
	dec := yaml.NewDecoder(bytes.NewReader(files[ComposeFile]))
	dec.KnownFields(true)
	var f composeView
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	g := f.Services["genesis"]
	if got := strings.Join(g.Command, " "); !strings.HasPrefix(got, "--log-level info genesis --preset minimal --validators 64 --slot-time 2 --genesis-delay 8 --out /genesis") ||
		!strings.HasSuffix(got, " --keep-existing") || g.Restart != "no" || !slices.Equal(g.Volumes, []string{"genesis:/genesis"}) || g.User != "10001:10001" {
		t.Fatalf("genesis service %+v", g)
	}
	specs := c.Testnet.NodeSpecs()
	nodes, err := c.nodes(TargetDocker)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Services) != len(specs)+2 {
		t.Fatalf("%d services, want %d nodes + genesis + prometheus", len(f.Services), len(specs))
	}
	for i, s := range specs {
		svc, ok := f.Services[s.Name]
		if !ok {
			t.Fatalf("no service %s", s.Name)
		}
		if svc.Image != DefaultImage || svc.NetworkMode != "host" || svc.DependsOn["genesis"].Condition != "service_completed_successfully" ||
			!slices.Equal(svc.Volumes, []string{"genesis:/genesis:ro", s.Name + "-data:" + HomePath}) || f.Volumes[s.Name+"-data"] == nil {
			t.Errorf("%s: %+v", s.Name, svc)
		}
		want := s
		want.Dir = HomePath
		var boot []string
		for j := range i {
			boot = append(boot, fmt.Sprintf("/ip4/127.0.0.1/tcp/%d/p2p/%s", specs[j].P2PPort, nodes[j].peerID))
		}
		args := append(want.Args(GenesisPath, boot, "info"), "--p2p-key-seed", "shardlab/1/"+s.Name, "--genesis-wait", "10m0s")
		if !slices.Equal(svc.Command, args) {
			t.Errorf("%s: command\n%q\nwant\n%q", s.Name, svc.Command, args)
		}
	}
	if p := f.Services["prometheus"]; !slices.Equal(p.Profiles, []string{"prometheus"}) || p.NetworkMode != "host" {
		t.Errorf("prometheus service %+v", p)
	}
	var prom prometheusConfig
	pdec := yaml.NewDecoder(bytes.NewReader(files[PrometheusFile]))
	pdec.KnownFields(true)
	if err := pdec.Decode(&prom); err != nil {
		t.Fatalf("prometheus.yml: %v", err)
	}
	var targets []string
	for _, sc := range prom.ScrapeConfigs[0].StaticConfigs {
		targets = append(targets, sc.Labels["node"]+"="+sc.Targets[0])
	}
	var want []string
	for _, s := range specs {
		want = append(want, fmt.Sprintf("%s=127.0.0.1:%d", s.Name, s.MetricsPort))
	}
	if !slices.Equal(targets, want) {
		t.Errorf("scrape targets %v, want %v", targets, want)
	}
}

// TestBootnodes gives every node the first node and the nodes just before
// it, at most maxBootnodes.
func TestBootnodes(t *testing.T) {
	nodes := make([]node, 20)
	for i := range nodes {
		nodes[i].spec.Name = fmt.Sprint(i)
	}
	name := func(n node) string { return n.spec.Name }
	for _, tc := range []struct {
		i    int
		want string
	}{
		{0, ""},
		{1, "0"},
		{5, "0 1 2 3 4"},
		{8, "0 1 2 3 4 5 6 7"},
		{15, "0 8 9 10 11 12 13 14"},
	} {
		if got := strings.Join(bootnodes(nodes, tc.i, name), " "); got != tc.want {
			t.Errorf("bootnodes of %d: %q, want %q", tc.i, got, tc.want)
		}
	}
}
