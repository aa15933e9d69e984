package types

//go:generate go tool sszgen --path containers.go --include primitives.go --objs Fork,Checkpoint,Validator,Crosslink,AttestationData,AttestationDataAndCustodyBit,IndexedAttestation,PendingAttestation,Eth1Data,DepositData,CompactCommittee,BeaconBlockHeader,ProposerSlashing,AttesterSlashing,Attestation,Deposit,VoluntaryExit,Transfer,BeaconBlockBody,BeaconBlock --output containers_encoding.go

// The v0.8.3 phase 0 containers whose SSZ shape does not depend on the preset.
// Field order is the spec's; it defines the encoding. BeaconState and
// HistoricalBatch, whose vector lengths come from the config, are in state.go.

// Fork is the spec's Fork container.
type Fork struct {
	PreviousVersion Version `ssz-size:"4"`
	CurrentVersion  Version `ssz-size:"4"`
	Epoch           Epoch
}

// Checkpoint is an FFG checkpoint: an epoch and the root of its boundary block.
type Checkpoint struct {
	Epoch Epoch
	Root  Root `ssz-size:"32"`
}

// Validator is one entry of the validator registry.
type Validator struct {
	Pubkey                     BLSPubkey `ssz-size:"48"`
	WithdrawalCredentials      Root      `ssz-size:"32"`
	EffectiveBalance           Gwei
	Slashed                    bool
	ActivationEligibilityEpoch Epoch
	ActivationEpoch            Epoch
	ExitEpoch                  Epoch
	WithdrawableEpoch          Epoch
}

// Crosslink commits a range [StartEpoch, EndEpoch) of one shard's history.
type Crosslink struct {
	Shard      Shard
	ParentRoot Root `ssz-size:"32"`
	StartEpoch Epoch
	EndEpoch   Epoch
	DataRoot   Root `ssz-size:"32"`
}

// AttestationData is what an attester votes for: LMD GHOST head, FFG source and
// target, and a crosslink.
type AttestationData struct {
	BeaconBlockRoot Root `ssz-size:"32"`
	Source          Checkpoint
	Target          Checkpoint
	Crosslink       Crosslink
}

// AttestationDataAndCustodyBit is the message attesters sign.
type AttestationDataAndCustodyBit struct {
	Data       AttestationData
	CustodyBit bool
}

// IndexedAttestation is an attestation with its attesters listed by index.
type IndexedAttestation struct {
	// The index lists are []uint64 rather than []ValidatorIndex because sszgen
	// v0.1.4 cannot generate lists of named integer types.
	CustodyBit0Indices []uint64 `ssz-max:"4096"`
	CustodyBit1Indices []uint64 `ssz-max:"4096"`
	Data               AttestationData
	Signature          BLSSignature `ssz-size:"96"`
}

// PendingAttestation is an attestation kept in the state until epoch processing.
// AggregationBits is immutable once the value is in a state.
type PendingAttestation struct {
	AggregationBits []byte `ssz:"bitlist" ssz-max:"4096"`
	Data            AttestationData
	InclusionDelay  Slot
	ProposerIndex   ValidatorIndex
}

// Eth1Data is a vote on the deposit contract's state.
type Eth1Data struct {
	DepositRoot  Root `ssz-size:"32"`
	DepositCount uint64
	BlockHash    Root `ssz-size:"32"`
}

// DepositData is the payload of a deposit.
type DepositData struct {
	Pubkey                BLSPubkey `ssz-size:"48"`
	WithdrawalCredentials Root      `ssz-size:"32"`
	Amount                Gwei
	Signature             BLSSignature `ssz-size:"96"`
}

// CompactCommittee is the light-client form of a committee.
type CompactCommittee struct {
	Pubkeys           []BLSPubkey `ssz-size:"?,48" ssz-max:"4096"`
	CompactValidators []uint64    `ssz-max:"4096"`
}

// BeaconBlockHeader is a block with its body replaced by the body's root.
type BeaconBlockHeader struct {
	Slot       Slot
	ParentRoot Root         `ssz-size:"32"`
	StateRoot  Root         `ssz-size:"32"`
	BodyRoot   Root         `ssz-size:"32"`
	Signature  BLSSignature `ssz-size:"96"`
}

// ProposerSlashing proves that a proposer signed two headers in one epoch.
type ProposerSlashing struct {
	ProposerIndex ValidatorIndex
	Header1       BeaconBlockHeader
	Header2       BeaconBlockHeader
}

// AttesterSlashing proves a double or surround vote.
type AttesterSlashing struct {
	Attestation1 IndexedAttestation
	Attestation2 IndexedAttestation
}

// Attestation is an aggregate of committee votes on the same data.
type Attestation struct {
	AggregationBits []byte `ssz:"bitlist" ssz-max:"4096"`
	Data            AttestationData
	CustodyBits     []byte       `ssz:"bitlist" ssz-max:"4096"`
	Signature       BLSSignature `ssz-size:"96"`
}

// Deposit is a DepositData with its Merkle branch in the deposit contract tree.
type Deposit struct {
	Proof [DepositProofLength]Root `ssz-size:"33,32"`
	Data  DepositData
}

// VoluntaryExit is a validator's signed request to exit.
type VoluntaryExit struct {
	Epoch          Epoch
	ValidatorIndex ValidatorIndex
	Signature      BLSSignature `ssz-size:"96"`
}

// Transfer moves balance between validators (disabled in both presets: MAX_TRANSFERS = 0).
type Transfer struct {
	Sender    ValidatorIndex
	Recipient ValidatorIndex
	Amount    Gwei
	Fee       Gwei
	Slot      Slot
	Pubkey    BLSPubkey    `ssz-size:"48"`
	Signature BLSSignature `ssz-size:"96"`
}

// BeaconBlockBody holds a block's RANDAO reveal, eth1 vote and operations.
type BeaconBlockBody struct {
	RandaoReveal      BLSSignature `ssz-size:"96"`
	Eth1Data          Eth1Data
	Graffiti          Root                `ssz-size:"32"`
	ProposerSlashings []*ProposerSlashing `ssz-max:"16"`
	AttesterSlashings []*AttesterSlashing `ssz-max:"1"`
	Attestations      []*Attestation      `ssz-max:"128"`
	Deposits          []*Deposit          `ssz-max:"16"`
	VoluntaryExits    []*VoluntaryExit    `ssz-max:"16"`
	Transfers         []*Transfer         `ssz-max:"0"`
}

// BeaconBlock is a phase 0 beacon block.
type BeaconBlock struct {
	Slot       Slot
	ParentRoot Root `ssz-size:"32"`
	StateRoot  Root `ssz-size:"32"`
	Body       BeaconBlockBody
	Signature  BLSSignature `ssz-size:"96"`
}
