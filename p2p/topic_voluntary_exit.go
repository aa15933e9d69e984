package p2p

// VoluntaryExitTopic is the gossip topic of signed voluntary exits (SSZ VoluntaryExit).
const VoluntaryExitTopic = "voluntary_exit"
