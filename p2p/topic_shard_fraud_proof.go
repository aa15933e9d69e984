package p2p

// ShardFraudProofTopic is the gossip topic of shard fraud proofs (SSZ, defined by
// the shard packages).
const ShardFraudProofTopic = "shard_fraud_proof"
