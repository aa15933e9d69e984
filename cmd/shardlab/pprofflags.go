package main

import (
	"fmt"
	"net"
	"strconv"

	"github.com/urfave/cli/v2"
)

// pprofFlags are the node commands' opt-in profiling endpoint flags.
func pprofFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "pprof-port", Usage: "serve Go's pprof profiles (/debug/pprof/, e.g. a CPU profile) on this port; 0 (the default) disables it", Category: categoryAPI},
		&cli.StringFlag{Name: "pprof-host", Usage: "IP address of the pprof endpoint (anyone reaching it can profile the node: keep it on loopback)", Value: "127.0.0.1", Category: categoryAPI},
	}
}

// pprofAddrFlag returns the node config's PprofAddr from the flags: empty
// without --pprof-port.
func pprofAddrFlag(c *cli.Context) (string, error) {
	p := c.Int("pprof-port")
	if p < 0 || p > 65535 {
		return "", fmt.Errorf("--pprof-port %d out of range", p)
	}
	if p == 0 {
		return "", nil
	}
	host := c.String("pprof-host")
	if net.ParseIP(host) == nil {
		return "", fmt.Errorf("--pprof-host %q: not an IP address", host)
	}
	return net.JoinHostPort(host, strconv.Itoa(p)), nil
}
