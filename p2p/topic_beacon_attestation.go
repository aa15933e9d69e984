package p2p

// BeaconAttestationTopic is the gossip topic of attestations (SSZ Attestation).
// Validators: aggregate signature, committee membership, slot window.
const BeaconAttestationTopic = "beacon_attestation"
