package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/urfave/cli/v2"

	"github.com/shardlab/shardlab/beacon/node"
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
		UsageText: "shardlab beacon --genesis DIR --datadir DIR [--validators A-B] [--p2p-port N] [--bootnodes MULTIADDR,...] [--mdns] [--metrics-port N] [--http-port N] [--graffiti S] [--slasher=false] [--slasher-history N]",
		Description: `Runs a beacon node of the testnet in --genesis (written by shardlab genesis):
it follows and serves the chain over libp2p (gossip and request/response),
syncs from its peers, and runs the validator client of the interop keys
--validators A-B (inclusive; validator i holds interop key i), which proposes
and attests with slashing protection kept in the data dir. The node restarts
from --datadir where it stopped.

At start it logs its multiaddrs as "p2p listening addrs=<addr>,<addr>,...";
give one of them to other nodes' --bootnodes.`,
		Flags: append([]cli.Flag{
			&cli.PathFlag{Name: "genesis", Usage: "genesis directory written by shardlab genesis (config.yaml, genesis.ssz, genesis.yaml)", Required: true, Category: categoryNode},
			&cli.PathFlag{Name: "datadir", Usage: "data directory: the chain database, slashing protection and the p2p key", Required: true, Category: categoryNode},
			genesisWaitFlag(),
			&cli.StringFlag{Name: "validators", Usage: "interop key range A-B (inclusive) whose duties this node performs; empty: none", Category: categoryValidator},
			&cli.StringFlag{Name: "graffiti", Usage: "graffiti of proposed blocks (at most 32 bytes)", Value: "shardlab", Category: categoryValidator},
			debugAPIFlag(),
		}, append(append(slasherFlags(), networkFlags("port of the HTTP API (Beacon API shape) on --http-host; 0 disables it")...), pprofFlags()...)...),
		Action: runBeacon,
	}
}

// beaconNodeConfig turns the flags into a node config; errors are usage errors.
func beaconNodeConfig(c *cli.Context) (node.Config, error) {
	g, err := loadNodeGenesis(c)
	if err != nil {
		return node.Config{}, fmt.Errorf("--genesis: %w", err)
	}
	cfg := node.DefaultConfig()
	if cfg.Transition, err = newTransition(g); err != nil {
		return cfg, fmt.Errorf("--genesis: %w", err)
	}
	cfg.Genesis = g.state
	cfg.DataDir = c.Path("datadir")
	if cfg.Validators, err = validatorsFlag(c, g); err != nil {
		return cfg, err
	}
	if cfg.Graffiti, err = graffitiFlag(c); err != nil {
		return cfg, err
	}
	if err := applySlasherFlags(c, &cfg.Slasher); err != nil {
		return cfg, err
	}
	if cfg.HTTPPort, err = applyNetworkFlags(c, &cfg.P2P); err != nil {
		return cfg, err
	}
	cfg.HTTPHost = c.String("http-host")
	if cfg.PprofAddr, err = pprofAddrFlag(c); err != nil {
		return cfg, err
	}
	cfg.DebugAPI = c.Bool("debug-api")
	cfg.Version = nodeVersion()
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
	reg := nodeRegistry()
	cfg.Registerer = reg
	return runNode(c, "beacon", reg, func(logger *slog.Logger) (runner, error) {
		n, err := node.New(cfg, logger)
		if err != nil {
			return nil, nameConfigFile(err, c.Path("genesis"))
		}
		return n, nil
	})
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
