// Command shardlab is the single binary of shardlab: the eth2 v0.8.3 phase 0
// beacon chain with shardlab's own phase 1 shard layer, its simulators and its
// tools.
//
// Each subcommand lives in its own file and adds itself to the app with
// register in an init function; main.go only assembles the app and its
// global flags. Flags are defined here, in cmd/shardlab, and nowhere else:
// every flag has a Usage and a Category (usage_test.go checks both, and that
// --help lists every flag).
//
//	shardlab spectest --dir DIR [--preset minimal|mainnet|all] [--run REGEXP] [--workers N] [--json]
//	shardlab version
package main
