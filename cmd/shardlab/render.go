package main

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"

	"github.com/urfave/cli/v2"

	"github.com/shardlab/shardlab/sim/deploy"
	"github.com/shardlab/shardlab/sim/testnet"
)

const categoryDeploy = "Deployment"

// renderNetworkFlags are the flags of `testnet up` that render shares:
// the network, not the local processes or the workload.
var renderNetworkFlags = []string{"nodes", "shard-nodes", "base-port", "genesis-delay", "node-log-level",
	"preset", "validators", "shards", "slot-time", "seed"}

func testnetRenderCommand() *cli.Command {
	var flags []cli.Flag
	for _, f := range testnetUpCommand(nil).Flags {
		if f != nil && slices.Contains(renderNetworkFlags, f.Names()[0]) {
			flags = append(flags, f)
		}
	}
	def := deploy.DefaultConfig()
	flags = append(flags,
		&cli.StringFlag{Name: "target", Usage: "docker (a Compose project on the host network) or k8s (Kubernetes manifests for kubectl apply -k)", Required: true, Category: categoryDeploy},
		&cli.PathFlag{Name: "out", Usage: "directory to write into (created; files already there are not replaced unless --force)", Required: true, Category: categoryDeploy},
		&cli.StringFlag{Name: "image", Usage: "shardlab image the containers run (make image builds shardlab:VERSION and tags shardlab:latest)", Value: def.Image, Category: categoryDeploy},
		&cli.StringFlag{Name: "namespace", Usage: "Kubernetes namespace (k8s)", Value: def.Namespace, Category: categoryDeploy},
		&cli.PathFlag{Name: "faults", Usage: "fault timeline (YAML, docs/deploy.md) to render as Chaos Mesh experiments into OUT/chaos (k8s)", TakesFile: true, Category: categoryDeploy},
		&cli.BoolFlag{Name: "force", Usage: "replace files already in --out", Category: categoryDeploy},
	)
	return &cli.Command{
		Name:      "render",
		Usage:     "write the testnet of testnet up as a Docker Compose project or Kubernetes manifests (and Chaos Mesh experiments)",
		UsageText: "shardlab testnet render --target docker|k8s --out DIR [--nodes N] [--shard-nodes N] [--validators N] [--shards N] [--slot-time 2s] [--preset minimal] [--seed N] [--image IMAGE] [--namespace NS] [--faults FILE]",
		Description: `Renders the network testnet up would start (the same flags: nodes, shard
nodes, validators split evenly over the beacon nodes, shards split over the
shard nodes, preset, slot time) for a container engine. Nothing runs here: a
one-shot genesis service (docker) or Job (k8s) writes the genesis into a
shared volume when the network starts, with the genesis time --genesis-delay
ahead (k8s default 60s), and the nodes wait for it. Node p2p keys derive from
--seed and the node name (--p2p-key-seed), so bootnodes are known in advance.

docker: OUT/compose.yaml and OUT/prometheus.yml. The containers use the host
network and testnet up's ports from --base-port; run docker compose up -d
(add --profile prometheus for Prometheus on 127.0.0.1:9090).

k8s: OUT/kustomization.yaml, namespace, genesis (PVC and Job) and one file per
node (headless Service and StatefulSet); run kubectl apply -k OUT. With
--faults, OUT/chaos/ holds a Chaos Mesh Workflow replaying the timeline
(kubectl apply -k OUT/chaos) and one experiment per fault. docs/deploy.md has
the details.`,
		Flags:  flags,
		Action: runTestnetRender,
	}
}

func runTestnetRender(c *cli.Context) error {
	// testnetConfig also checks --dir and the binary, which render has not:
	// deploy.Config.Validate checks the network instead.
	tc, err := testnetConfig(c)
	if err != nil && !errors.Is(err, testnet.ErrInvalidConfig) {
		return cli.Exit("testnet render: "+err.Error(), 1)
	}
	cfg := deploy.Config{Testnet: tc, Image: c.String("image"), Namespace: c.String("namespace")}
	target := c.String("target")
	if p := c.Path("faults"); p != "" {
		raw, err := os.ReadFile(p)
		if err != nil {
			return cli.Exit("testnet render: --faults: "+err.Error(), 2)
		}
		if cfg.Faults, err = deploy.ParseTimeline(raw); err != nil {
			return cli.Exit("testnet render: --faults: "+err.Error(), 2)
		}
	}
	files, err := deploy.Render(cfg, target)
	if err != nil {
		return cli.Exit("testnet render: "+err.Error(), 2)
	}
	out := c.Path("out")
	if err := deploy.Write(out, files, c.Bool("force")); err != nil {
		return cli.Exit("testnet render: "+err.Error(), 1)
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	w := c.App.Writer
	fmt.Fprintf(w, "testnet render: %d files in %s: %v\n", len(paths), out, paths)
	switch target {
	case deploy.TargetDocker:
		fmt.Fprintf(w, "start: docker compose -f %s/%s up -d   (image %s: make image)\n", out, deploy.ComposeFile, cfg.Image)
	case deploy.TargetK8s:
		fmt.Fprintf(w, "start: kubectl apply -k %s   (namespace %s, image %s)\n", out, cfg.Namespace, cfg.Image)
		if cfg.Faults != nil {
			fmt.Fprintf(w, "faults: kubectl apply -k %s/%s   (needs Chaos Mesh)\n", out, deploy.ChaosDir)
		}
	}
	return nil
}
