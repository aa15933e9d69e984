package types

import (
	"github.com/shardlab/shardlab/beacon/params"
)

// BeaconState is the v0.8.3 phase 0 beacon state. Its vector lengths and list
// limits come from the config it was built with (NewBeaconState or
// UnmarshalBeaconState), so one binary handles every preset.
//
// Slices of values are owned by the state: Copy duplicates them. The bitlists
// inside PendingAttestation are treated as immutable and shared between copies.
//
// A state caches the Merkle trees of its large fields (see HashTreeRoot); it is
// not safe for concurrent use.
type BeaconState struct {
	GenesisTime uint64
	Slot        Slot
	Fork        Fork

	LatestBlockHeader BeaconBlockHeader
	BlockRoots        []Root // Vector[Root, SLOTS_PER_HISTORICAL_ROOT]
	StateRoots        []Root // Vector[Root, SLOTS_PER_HISTORICAL_ROOT]
	HistoricalRoots   []Root // List[Root, HISTORICAL_ROOTS_LIMIT]

	Eth1Data         Eth1Data
	Eth1DataVotes    []Eth1Data // List[Eth1Data, SLOTS_PER_ETH1_VOTING_PERIOD]
	Eth1DepositIndex uint64

	Validators []Validator // List[Validator, VALIDATOR_REGISTRY_LIMIT]
	Balances   []Gwei      // List[Gwei, VALIDATOR_REGISTRY_LIMIT]

	StartShard             Shard
	RandaoMixes            []Root // Vector[Root, EPOCHS_PER_HISTORICAL_VECTOR]
	ActiveIndexRoots       []Root // Vector[Root, EPOCHS_PER_HISTORICAL_VECTOR]
	CompactCommitteesRoots []Root // Vector[Root, EPOCHS_PER_HISTORICAL_VECTOR]

	Slashings []Gwei // Vector[Gwei, EPOCHS_PER_SLASHINGS_VECTOR]

	PreviousEpochAttestations []PendingAttestation // List[PendingAttestation, MAX_ATTESTATIONS * SLOTS_PER_EPOCH]
	CurrentEpochAttestations  []PendingAttestation

	PreviousCrosslinks []Crosslink // Vector[Crosslink, SHARD_COUNT]
	CurrentCrosslinks  []Crosslink // Vector[Crosslink, SHARD_COUNT]

	JustificationBits           JustificationBits
	PreviousJustifiedCheckpoint Checkpoint
	CurrentJustifiedCheckpoint  Checkpoint
	FinalizedCheckpoint         Checkpoint

	cfg   *params.Config
	cache *stateCache
}

// JustificationBits is the Bitvector[JUSTIFICATION_BITS_LENGTH] of the state:
// bit i (of the low four) is set when epoch current-i was justified.
type JustificationBits byte

// Bit reports bit i.
func (b JustificationBits) Bit(i int) bool { return b>>uint(i)&1 == 1 }

// NewBeaconState returns an empty state shaped for cfg: every vector has its
// full length and every list is empty.
func NewBeaconState(cfg *params.Config) *BeaconState {
	return &BeaconState{
		BlockRoots:             make([]Root, cfg.SlotsPerHistoricalRoot),
		StateRoots:             make([]Root, cfg.SlotsPerHistoricalRoot),
		RandaoMixes:            make([]Root, cfg.EpochsPerHistoricalVector),
		ActiveIndexRoots:       make([]Root, cfg.EpochsPerHistoricalVector),
		CompactCommitteesRoots: make([]Root, cfg.EpochsPerHistoricalVector),
		Slashings:              make([]Gwei, cfg.EpochsPerSlashingsVector),
		PreviousCrosslinks:     make([]Crosslink, cfg.ShardCount),
		CurrentCrosslinks:      make([]Crosslink, cfg.ShardCount),
		cfg:                    cfg,
	}
}

// Config returns the config the state is shaped for.
func (s *BeaconState) Config() *params.Config { return s.cfg }

// Copy returns a deep copy of s, hash cache included, so both can be hashed
// incrementally from here on.
func (s *BeaconState) Copy() *BeaconState {
	c := *s
	c.BlockRoots = append([]Root(nil), s.BlockRoots...)
	c.StateRoots = append([]Root(nil), s.StateRoots...)
	c.HistoricalRoots = append([]Root(nil), s.HistoricalRoots...)
	c.Eth1DataVotes = append([]Eth1Data(nil), s.Eth1DataVotes...)
	c.Validators = append([]Validator(nil), s.Validators...)
	c.Balances = append([]Gwei(nil), s.Balances...)
	c.RandaoMixes = append([]Root(nil), s.RandaoMixes...)
	c.ActiveIndexRoots = append([]Root(nil), s.ActiveIndexRoots...)
	c.CompactCommitteesRoots = append([]Root(nil), s.CompactCommitteesRoots...)
	c.Slashings = append([]Gwei(nil), s.Slashings...)
	c.PreviousEpochAttestations = append([]PendingAttestation(nil), s.PreviousEpochAttestations...)
	c.CurrentEpochAttestations = append([]PendingAttestation(nil), s.CurrentEpochAttestations...)
	c.PreviousCrosslinks = append([]Crosslink(nil), s.PreviousCrosslinks...)
	c.CurrentCrosslinks = append([]Crosslink(nil), s.CurrentCrosslinks...)
	if s.cache != nil {
		c.cache = s.cache.copy()
	}
	return &c
}

// DropCache forgets the cached Merkle trees; the next HashTreeRoot rebuilds them.
func (s *BeaconState) DropCache() { s.cache = nil }

// HistoricalBatch is the container whose root is appended to historical_roots.
type HistoricalBatch struct {
	BlockRoots []Root // Vector[Root, SLOTS_PER_HISTORICAL_ROOT]
	StateRoots []Root // Vector[Root, SLOTS_PER_HISTORICAL_ROOT]
}
