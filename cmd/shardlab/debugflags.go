package main

import "github.com/urfave/cli/v2"

// debugAPIFlag mounts the node's debug API (docs/api.md, "Debug API"): the
// routes `shardlab scenario run --engine testnet` stages faults and
// byzantine behaviour with.
func debugAPIFlag() cli.Flag {
	return &cli.BoolFlag{Name: "debug-api", Usage: "serve the debug routes under /shardlab/v1/debug/ on the HTTP API: cut links to chosen peers, take the validators offline, " +
		"make them double or surround vote or equivocate, publish an invalid shard block (testnets only: anyone reaching the API can make the validators slashable)", Category: categoryAPI}
}
