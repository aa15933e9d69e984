// Package deploy renders the local testnet of sim/testnet for container
// engines: a Docker Compose project (`shardlab testnet render --target
// docker`), Kubernetes manifests (`--target k8s`, kustomize-friendly) and,
// from a fault timeline, Chaos Mesh experiments that replay the timeline's
// infrastructure faults on a cluster.
//
// The network comes from the same testnet.Config as `shardlab testnet up`:
// the nodes, their validator ranges and shards (testnet.Config.NodeSpecs),
// the genesis command (testnet.Config.GenesisArgs) and the node command
// lines (testnet.NodeSpec.Args). Node p2p keys are derived from the seed and
// the node name (p2p.DeriveKey, the nodes' --p2p-key-seed), so that the
// bootnode multiaddrs can name peer IDs before anything runs. The genesis
// itself is written when the network starts, by a one-shot genesis service
// or Job, into a volume the nodes wait for (--genesis-wait).
//
// The package writes files only; it runs nothing. It must not import the
// node packages: it knows command lines, not the chain.
package deploy
