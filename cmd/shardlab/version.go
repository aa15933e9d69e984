package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/urfave/cli/v2"
)

// version is set at build time: go build -ldflags "-X main.version=...".
var version = "dev"

// specVersion is the eth2 spec the beacon chain implements.
const specVersion = "v0.8.3 (phase 0)"

func init() { register(versionCommand) }

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:   "version",
		Usage:  "print the shardlab version, the spec version and build information",
		Action: runVersion,
	}
}

func runVersion(c *cli.Context) error {
	w := c.App.Writer
	fmt.Fprintf(w, "shardlab %s\n", version)
	fmt.Fprintf(w, "spec     %s\n", specVersion)
	fmt.Fprintf(w, "go       %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision", "vcs.time", "vcs.modified":
				fmt.Fprintf(w, "%-8s %s\n", s.Key[len("vcs."):], s.Value)
			}
		}
	}
	return nil
}

// nodeVersion is the version string nodes report over HTTP
// (/eth/v1/node/version): shardlab/<version>/<os>-<arch>.
func nodeVersion() string {
	return "shardlab/" + version + "/" + runtime.GOOS + "-" + runtime.GOARCH
}
