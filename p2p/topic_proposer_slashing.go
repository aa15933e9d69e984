package p2p

// ProposerSlashingTopic is the gossip topic of proposer slashings (SSZ ProposerSlashing).
const ProposerSlashingTopic = "proposer_slashing"
