package types

//go:generate go tool sszgen --path shard_fork.go --include primitives.go,containers.go --objs ShardBeaconBlockBody,ShardBeaconBlock --output shard_fork_encoding.go

// The beacon block of shardlab's shard fork (docs/protocol.md): the phase 0
// body plus the shard fraud proofs fishermen submit. Fraud proofs travel as
// opaque SSZ bytes, decoded by the shard layer, so that beacon/types depends
// on nothing of shard/.

// ShardBeaconBlockBody is BeaconBlockBody with shard_fraud_proofs appended.
type ShardBeaconBlockBody struct {
	RandaoReveal      BLSSignature `ssz-size:"96"`
	Eth1Data          Eth1Data
	Graffiti          Root                `ssz-size:"32"`
	ProposerSlashings []*ProposerSlashing `ssz-max:"16"`
	AttesterSlashings []*AttesterSlashing `ssz-max:"1"`
	Attestations      []*Attestation      `ssz-max:"128"`
	Deposits          []*Deposit          `ssz-max:"16"`
	VoluntaryExits    []*VoluntaryExit    `ssz-max:"16"`
	Transfers         []*Transfer         `ssz-max:"0"`
	// ShardFraudProofs is List[ByteList[MAX_SHARD_FRAUD_PROOF_BYTES], MAX_SHARD_FRAUD_PROOFS],
	// each an SSZ-encoded shard/types.ShardFraudProof.
	ShardFraudProofs [][]byte `ssz-max:"2,8388608" ssz-size:"?,?"`
}

// ShardBeaconBlock is a beacon block of the shard fork.
type ShardBeaconBlock struct {
	Slot       Slot
	ParentRoot Root `ssz-size:"32"`
	StateRoot  Root `ssz-size:"32"`
	Body       ShardBeaconBlockBody
	Signature  BLSSignature `ssz-size:"96"`
}

// Phase0 returns the body's phase 0 part, sharing its operations.
func (b *ShardBeaconBlockBody) Phase0() *BeaconBlockBody {
	return &BeaconBlockBody{
		RandaoReveal:      b.RandaoReveal,
		Eth1Data:          b.Eth1Data,
		Graffiti:          b.Graffiti,
		ProposerSlashings: b.ProposerSlashings,
		AttesterSlashings: b.AttesterSlashings,
		Attestations:      b.Attestations,
		Deposits:          b.Deposits,
		VoluntaryExits:    b.VoluntaryExits,
		Transfers:         b.Transfers,
	}
}

// Header returns the block's header (body replaced by its root).
func (b *ShardBeaconBlock) Header() (BeaconBlockHeader, error) {
	body, err := b.Body.HashTreeRoot()
	if err != nil {
		return BeaconBlockHeader{}, err
	}
	return BeaconBlockHeader{Slot: b.Slot, ParentRoot: b.ParentRoot, StateRoot: b.StateRoot, BodyRoot: body, Signature: b.Signature}, nil
}

// SigningRoot returns signing_root(b), the block's root.
func (b *ShardBeaconBlock) SigningRoot() (Root, error) {
	h, err := b.Header()
	if err != nil {
		return Root{}, err
	}
	return h.SigningRoot(), nil
}
