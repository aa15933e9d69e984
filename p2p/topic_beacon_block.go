package p2p

// BeaconBlockTopic is the gossip topic of signed beacon blocks (SSZ BeaconBlock).
// Validators: proposer signature, slot window, known parent (unknown parent
// = Ignore, then request it).
const BeaconBlockTopic = "beacon_block"
