package p2p

// AttesterSlashingTopic is the gossip topic of attester slashings (SSZ AttesterSlashing).
const AttesterSlashingTopic = "attester_slashing"
