package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/urfave/cli/v2"

	"github.com/shardlab/shardlab/beacon/node"
	"github.com/shardlab/shardlab/p2p"
)

// Flag categories of the node commands.
const (
	categoryNode       = "Node"
	categoryNetworking = "Networking"
	categoryValidator  = "Validator"
	categoryAPI        = "API and metrics"
)

func init() { register(beaconCommand) }

func beaconCommand() *cli.Command {
	return &cli.Command{
		Name:      "beacon",
		Usage:     "run a beacon node (and the validator client of its keys) until SIGINT or SIGTERM",
		UsageText: "shardlab beacon --genesis DIR --datadir DIR [--validators A-B] [--p2p-port N] [--bootnodes MULTIADDR,...] [--mdns] [--metrics-port N] [--http-port N] [--graffiti S]",
		Description: `Runs a beacon node of the testnet in --genesis (written by shardlab genesis):
it follows and serves the chain over libp2p (gossip and request/response),
syncs from its peers, and runs the validator client of the interop keys
--validators A-B (inclusive; validator i holds interop key i), which proposes
and attests with slashing protection kept in the data dir. The node restarts
from --datadir where it stopped.

At start it logs its multiaddrs as "p2p listening addrs=<addr>,<addr>,...";
give one of them to other nodes' --bootnodes.`,
		Flags: []cli.Flag{
			&cli.PathFlag{Name: "genesis", Usage: "genesis directory written by shardlab genesis (config.yaml, genesis.ssz, genesis.yaml)", Required: true, Category: categoryNode},
			&cli.PathFlag{Name: "datadir", Usage: "data directory: the chain database, slashing protection and the p2p key", Required: true, Category: categoryNode},
			&cli.StringFlag{Name: "validators", Usage: "interop key range A-B (inclusive) whose duties this node performs; empty: none", Category: categoryValidator},
			&cli.StringFlag{Name: "graffiti", Usage: "graffiti of proposed blocks (at most 32 bytes)", Value: "shardlab", Category: categoryValidator},
			&cli.StringFlag{Name: "p2p-host", Usage: "IP address to listen on for libp2p (TCP and QUIC)", Value: "0.0.0.0", Category: categoryNetworking},
			&cli.IntFlag{Name: "p2p-port", Usage: "libp2p port (TCP and QUIC/UDP); 0 picks a free one", Value: p2p.DefaultPort, Category: categoryNetworking},
			&cli.StringSliceFlag{Name: "bootnodes", Usage: "multiaddrs (with /p2p/<peer id>) of nodes to connect to, comma-separated", Category: categoryNetworking},
			&cli.BoolFlag{Name: "mdns", Usage: "discover peers on the local network with mDNS", Category: categoryNetworking},
			&cli.IntFlag{Name: "max-peers", Usage: "maximum number of connected peers", Value: p2p.DefaultConfig().MaxPeers, Category: categoryNetworking},
			&cli.IntFlag{Name: "metrics-port", Usage: "port of the Prometheus /metrics endpoint; 0 disables it", Category: categoryAPI},
			&cli.IntFlag{Name: "http-port", Usage: "port of the HTTP API (Beacon API shape) on 127.0.0.1; 0 disables it", Category: categoryAPI},
		},
		Action: runBeacon,
	}
}

// beaconNodeConfig turns the flags into a node config; errors are usage errors.
func beaconNodeConfig(c *cli.Context) (node.Config, error) {
	g, err := loadGenesis(c.Path("genesis"))
	if err != nil {
		return node.Config{}, fmt.Errorf("--genesis: %w", err)
	}
	cfg := node.DefaultConfig()
	cfg.Transition = newTransition(g.cfg)
	cfg.Genesis = g.state
	cfg.DataDir = c.Path("datadir")
	if cfg.Validators, err = node.ParseValidatorRange(c.String("validators")); err != nil {
		return cfg, fmt.Errorf("--validators: %w", err)
	}
	if end := cfg.Validators.Start + cfg.Validators.Count; cfg.Validators.Count > 0 && end > uint64(len(g.state.Validators)) {
		return cfg, fmt.Errorf("--validators %s: the genesis has %d validators", cfg.Validators, len(g.state.Validators))
	}
	cfg.Graffiti = c.String("graffiti")
	if len(cfg.Graffiti) > 32 {
		return cfg, fmt.Errorf("--graffiti: %d bytes, at most 32", len(cfg.Graffiti))
	}
	port := c.Int("p2p-port")
	if port < 0 || port > 65535 {
		return cfg, fmt.Errorf("--p2p-port %d out of range", port)
	}
	cfg.P2P.ListenAddrs = p2p.ListenAddrs(c.String("p2p-host"), port, true)
	for _, b := range c.StringSlice("bootnodes") {
		for _, a := range strings.Split(b, ",") {
			if a = strings.TrimSpace(a); a != "" {
				cfg.P2P.Bootnodes = append(cfg.P2P.Bootnodes, a)
			}
		}
	}
	cfg.P2P.MDNS = c.Bool("mdns")
	cfg.P2P.MaxPeers = c.Int("max-peers")
	cfg.HTTPPort = c.Int("http-port")
	cfg.Version = nodeVersion()
	for _, f := range []string{"metrics-port", "http-port"} {
		if p := c.Int(f); p < 0 || p > 65535 {
			return cfg, fmt.Errorf("--%s %d out of range", f, p)
		}
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

func runBeacon(c *cli.Context) error {
	cfg, err := beaconNodeConfig(c)
	if err != nil {
		return cli.Exit("beacon: "+err.Error(), 2)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	cfg.Registerer = reg
	logger := slog.Default()

	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	n, err := node.New(cfg, logger)
	if err != nil {
		return cli.Exit("beacon: "+err.Error(), 1)
	}
	defer func() {
		if err := n.Close(); err != nil {
			logger.Error("close beacon node", "err", err)
		}
	}()
	if p := c.Int("metrics-port"); p > 0 {
		srv, err := serveMetrics(ctx, logger, c.String("p2p-host"), p, reg)
		if err != nil {
			return cli.Exit("beacon: "+err.Error(), 1)
		}
		defer shutdownHTTP(srv)
	}
	// With --http-port, Run serves the HTTP API (beacon/node/api.go).
	if err := n.Run(ctx); err != nil {
		return cli.Exit("beacon: "+err.Error(), 1)
	}
	return nil
}

// serveMetrics serves reg on host:port/metrics until ctx ends.
func serveMetrics(ctx context.Context, logger *slog.Logger, host string, port int, reg *prometheus.Registry) (*http.Server, error) {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("metrics server failed", "err", err)
		}
	}()
	logger.Info("metrics listening", "addr", ln.Addr().String())
	return srv, nil
}

func shutdownHTTP(srv *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
}
