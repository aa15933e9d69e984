package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/urfave/cli/v2"

	"github.com/shardlab/shardlab/beacon/node"
	"github.com/shardlab/shardlab/beacon/slasher"
	"github.com/shardlab/shardlab/p2p"
)

// The flags and run loop shared by shardlab beacon, shard and node.

// networkFlags are the networking, metrics and HTTP flags of the node
// commands; httpUsage describes --http-port.
func networkFlags(httpUsage string) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "p2p-host", Usage: "IP address to listen on for libp2p (TCP and QUIC)", Value: "0.0.0.0", Category: categoryNetworking},
		&cli.IntFlag{Name: "p2p-port", Usage: "libp2p port (TCP and QUIC/UDP); 0 picks a free one", Value: p2p.DefaultPort, Category: categoryNetworking},
		&cli.StringSliceFlag{Name: "bootnodes", Usage: "multiaddrs (with /p2p/<peer id>) of nodes to connect to, comma-separated", Category: categoryNetworking},
		&cli.BoolFlag{Name: "mdns", Usage: "discover peers on the local network with mDNS", Category: categoryNetworking},
		&cli.IntFlag{Name: "max-peers", Usage: "maximum number of connected peers", Value: p2p.DefaultConfig().MaxPeers, Category: categoryNetworking},
		&cli.StringFlag{Name: "p2p-key-seed", Usage: "derive the libp2p key from this string (SHA-256) instead of DATADIR/p2p.key, for peer IDs known in advance (rendered deployments); anyone knowing it can impersonate the node: testnets only", Category: categoryNetworking},
		&cli.StringFlag{Name: "http-host", Usage: "IP address the HTTP API listens on (0.0.0.0 in containers, for probes)", Value: "127.0.0.1", Category: categoryAPI},
		&cli.IntFlag{Name: "target-peers", Usage: "peers to keep connected: below it the node asks its peers for theirs and dials them; " +
			"a server of every shard the node needs is dialled even above it; 0 turns peer discovery off (bootnodes and --mdns only); " +
			"at most --max-peers (the default is lowered to it)",
			Value: p2p.DefaultConfig().Discovery.TargetPeers, Category: categoryNetworking},
		&cli.IntFlag{Name: "metrics-port", Usage: "port of the Prometheus /metrics endpoint; 0 disables it", Category: categoryAPI},
		&cli.IntFlag{Name: "http-port", Usage: httpUsage, Category: categoryAPI},
	}
}

// slasherFlags turn the beacon node's slasher off and size its window.
func slasherFlags() []cli.Flag {
	d := slasher.DefaultConfig()
	return []cli.Flag{
		&cli.BoolFlag{Name: "slasher", Usage: "detect double proposals, double votes and surround votes in the blocks and attestations received, and publish the slashings (--slasher=false turns it off)", Value: true, Category: categoryNode},
		&cli.Uint64Flag{Name: "slasher-history", Usage: fmt.Sprintf("epochs of votes and proposals the slasher keeps and checks against (1 to %d)", slasher.MaxHistoryEpochs), Value: d.HistoryEpochs, Category: categoryNode},
	}
}

// applySlasherFlags sets sc from the slasher flags.
func applySlasherFlags(c *cli.Context, sc *node.SlasherConfig) error {
	sc.Enabled = c.Bool("slasher")
	sc.HistoryEpochs = c.Uint64("slasher-history")
	if sc.Enabled {
		if err := sc.Validate(); err != nil {
			return fmt.Errorf("--slasher-history: %w", err)
		}
	}
	return nil
}

// applyNetworkFlags sets pc from the networking flags and checks the port
// flags; it returns the HTTP port.
func applyNetworkFlags(c *cli.Context, pc *p2p.Config) (httpPort int, err error) {
	for _, f := range []string{"p2p-port", "metrics-port", "http-port"} {
		if p := c.Int(f); p < 0 || p > 65535 {
			return 0, fmt.Errorf("--%s %d out of range", f, p)
		}
	}
	pc.ListenAddrs = p2p.ListenAddrs(c.String("p2p-host"), c.Int("p2p-port"), true)
	for _, b := range c.StringSlice("bootnodes") {
		for _, a := range strings.Split(b, ",") {
			if a = strings.TrimSpace(a); a != "" {
				pc.Bootnodes = append(pc.Bootnodes, a)
			}
		}
	}
	if seed := c.String("p2p-key-seed"); seed != "" {
		k, err := p2p.DeriveKey(seed)
		if err != nil {
			return 0, fmt.Errorf("--p2p-key-seed: %w", err)
		}
		pc.PrivateKey = k
	}
	pc.MDNS = c.Bool("mdns")
	pc.MaxPeers = c.Int("max-peers")
	pc.Discovery.TargetPeers = c.Int("target-peers")
	if !c.IsSet("target-peers") {
		// A smaller --max-peers lowers the default target with it.
		pc.Discovery.TargetPeers = min(pc.Discovery.TargetPeers, pc.MaxPeers)
	}
	if pc.Discovery.TargetPeers < 0 || pc.Discovery.TargetPeers > pc.MaxPeers {
		return 0, fmt.Errorf("--target-peers %d not in [0, --max-peers %d]", pc.Discovery.TargetPeers, pc.MaxPeers)
	}
	return c.Int("http-port"), nil
}

// validatorsFlag parses --validators and checks the range against the
// genesis's validator count.
func validatorsFlag(c *cli.Context, g *genesis) (node.ValidatorRange, error) {
	vals, err := node.ParseValidatorRange(c.String("validators"))
	if err != nil {
		return vals, fmt.Errorf("--validators: %w", err)
	}
	if end := vals.Start + vals.Count; vals.Count > 0 && end > uint64(len(g.state.Validators)) {
		return vals, fmt.Errorf("--validators %s: the genesis has %d validators", vals, len(g.state.Validators))
	}
	return vals, nil
}

// graffitiFlag returns --graffiti, at most 32 bytes.
func graffitiFlag(c *cli.Context) (string, error) {
	g := c.String("graffiti")
	if len(g) > 32 {
		return "", fmt.Errorf("--graffiti: %d bytes, at most 32", len(g))
	}
	return g, nil
}

// nodeRegistry is a metrics registry with the Go runtime and process
// collectors.
func nodeRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// runner is a node the commands run: Run until its context ends, then
// Close.
type runner interface {
	Run(ctx context.Context) error
	Close() error
}

// runNode builds a node with build (given the registry its metrics go to),
// serves the registry on --metrics-port, and runs the node until SIGINT or
// SIGTERM. Errors exit with status 1, prefixed with name.
func runNode(c *cli.Context, name string, reg *prometheus.Registry, build func(*slog.Logger) (runner, error)) error {
	logger := slog.Default()
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	n, err := build(logger)
	if err != nil {
		return cli.Exit(name+": "+err.Error(), 1)
	}
	defer func() {
		if err := n.Close(); err != nil {
			logger.Error("close "+name+" node", "err", err)
		}
	}()
	if p := c.Int("metrics-port"); p > 0 {
		srv, err := serveMetrics(ctx, logger, c.String("p2p-host"), p, reg)
		if err != nil {
			return cli.Exit(name+": "+err.Error(), 1)
		}
		defer shutdownHTTP(srv)
	}
	// With --http-port, Run serves the HTTP API.
	if err := n.Run(ctx); err != nil {
		return cli.Exit(name+": "+err.Error(), 1)
	}
	return nil
}
