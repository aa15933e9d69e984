package types

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
)

// stateCache holds the Merkle trees of the BeaconState's large fields and a
// snapshot of the values they were built from. HashTreeRoot compares the
// current values with the snapshot and rehashes only what changed, so the core
// needs no dirty tracking: a slot that touches a few fields of a state with
// 100,000 validators costs a linear scan plus O(changes · log n) hashes.
type stateCache struct {
	blockRoots, stateRoots, historicalRoots          *merkleTree
	randaoMixes, activeIndexRoots, compactCommittees *merkleTree
	eth1Votes                                        *merkleTree
	eth1Snap                                         []Eth1Data
	validators                                       *merkleTree
	validatorSnap                                    []Validator
	balances, slashings                              *merkleTree
	prevAtts, currAtts                               *merkleTree
	prevAttSnap, currAttSnap                         []PendingAttestation
	prevCrosslinks, currCrosslinks                   *merkleTree
	prevCrossSnap, currCrossSnap                     []Crosslink
}

func newStateCache(s *BeaconState) *stateCache {
	cfg := s.cfg
	histDepth := depthFor(uint64(cfg.SlotsPerHistoricalRoot))
	vecDepth := depthFor(cfg.EpochsPerHistoricalVector)
	return &stateCache{
		blockRoots:        newMerkleTree(histDepth),
		stateRoots:        newMerkleTree(histDepth),
		historicalRoots:   newMerkleTree(depthFor(cfg.HistoricalRootsLimit)),
		randaoMixes:       newMerkleTree(vecDepth),
		activeIndexRoots:  newMerkleTree(vecDepth),
		compactCommittees: newMerkleTree(vecDepth),
		eth1Votes:         newMerkleTree(depthFor(cfg.SlotsPerEth1VotingPeriod)),
		validators:        newMerkleTree(depthFor(cfg.ValidatorRegistryLimit)),
		balances:          newMerkleTree(depthFor((cfg.ValidatorRegistryLimit*8 + 31) / 32)),
		slashings:         newMerkleTree(depthFor((cfg.EpochsPerSlashingsVector*8 + 31) / 32)),
		prevAtts:          newMerkleTree(depthFor(cfg.MaxPendingAttestations())),
		currAtts:          newMerkleTree(depthFor(cfg.MaxPendingAttestations())),
		prevCrosslinks:    newMerkleTree(depthFor(cfg.ShardCount)),
		currCrosslinks:    newMerkleTree(depthFor(cfg.ShardCount)),
	}
}

func (c *stateCache) copy() *stateCache {
	return &stateCache{
		blockRoots:        c.blockRoots.copy(),
		stateRoots:        c.stateRoots.copy(),
		historicalRoots:   c.historicalRoots.copy(),
		randaoMixes:       c.randaoMixes.copy(),
		activeIndexRoots:  c.activeIndexRoots.copy(),
		compactCommittees: c.compactCommittees.copy(),
		eth1Votes:         c.eth1Votes.copy(),
		eth1Snap:          slices.Clone(c.eth1Snap),
		validators:        c.validators.copy(),
		validatorSnap:     slices.Clone(c.validatorSnap),
		balances:          c.balances.copy(),
		slashings:         c.slashings.copy(),
		prevAtts:          c.prevAtts.copy(),
		currAtts:          c.currAtts.copy(),
		prevAttSnap:       slices.Clone(c.prevAttSnap),
		currAttSnap:       slices.Clone(c.currAttSnap),
		prevCrosslinks:    c.prevCrosslinks.copy(),
		currCrosslinks:    c.currCrosslinks.copy(),
		prevCrossSnap:     slices.Clone(c.prevCrossSnap),
		currCrossSnap:     slices.Clone(c.currCrossSnap),
	}
}

// rootsRoot updates a tree whose leaves are the roots themselves.
func rootsRoot(t *merkleTree, roots []Root) Root {
	t.resize(len(roots))
	for i := range roots {
		t.set(i, roots[i])
	}
	return t.root()
}

// packedRoot updates a tree over uint64 values packed four to a chunk.
func packedRoot(t *merkleTree, vals []Gwei) Root {
	chunks := (len(vals) + 3) / 4
	t.resize(chunks)
	for c := 0; c < chunks; c++ {
		var leaf Root
		for j := 0; j < 4 && 4*c+j < len(vals); j++ {
			binary.LittleEndian.PutUint64(leaf[8*j:], uint64(vals[4*c+j]))
		}
		t.set(c, leaf)
	}
	return t.root()
}

// elemRoot updates a tree whose leaf i is the root of vals[i], rehashing only
// the elements that differ from the snapshot, which it then updates.
func elemRoot[T any](t *merkleTree, snap *[]T, vals []T, equal func(a, b *T) bool, root func(*T) (Root, error)) (Root, error) {
	old := len(*snap)
	t.resize(len(vals))
	for i := range vals {
		if i < old && equal(&(*snap)[i], &vals[i]) {
			continue
		}
		r, err := root(&vals[i])
		if err != nil {
			return Root{}, err
		}
		t.set(i, r)
	}
	*snap = append((*snap)[:0], vals...)
	return t.root(), nil
}

func eqComparable[T comparable](a, b *T) bool { return *a == *b }

func eqPending(a, b *PendingAttestation) bool {
	return a.Data == b.Data && a.InclusionDelay == b.InclusionDelay &&
		a.ProposerIndex == b.ProposerIndex && bytes.Equal(a.AggregationBits, b.AggregationBits)
}

func htrOf[T interface{ HashTreeRoot() ([32]byte, error) }](v T) (Root, error) {
	r, err := v.HashTreeRoot()
	return Root(r), err
}

func uint64Leaf(v uint64) Root {
	var r Root
	binary.LittleEndian.PutUint64(r[:], v)
	return r
}

// HashTreeRoot returns the SSZ hash tree root of the state. The first call
// builds the Merkle trees of the large fields; later calls rehash only what
// changed since (see stateCache).
func (s *BeaconState) HashTreeRoot() (Root, error) {
	if err := s.checkShape(); err != nil {
		return Root{}, err
	}
	if s.cache == nil {
		s.cache = newStateCache(s)
	}
	c := s.cache
	var f [25]Root
	var err error
	f[0] = uint64Leaf(s.GenesisTime)
	f[1] = uint64Leaf(uint64(s.Slot))
	if f[2], err = htrOf(&s.Fork); err != nil {
		return Root{}, err
	}
	if f[3], err = htrOf(&s.LatestBlockHeader); err != nil {
		return Root{}, err
	}
	f[4] = rootsRoot(c.blockRoots, s.BlockRoots)
	f[5] = rootsRoot(c.stateRoots, s.StateRoots)
	f[6] = mixInLength(rootsRoot(c.historicalRoots, s.HistoricalRoots), uint64(len(s.HistoricalRoots)))
	if f[7], err = htrOf(&s.Eth1Data); err != nil {
		return Root{}, err
	}
	r, err := elemRoot(c.eth1Votes, &c.eth1Snap, s.Eth1DataVotes, eqComparable[Eth1Data], htrOf[*Eth1Data])
	if err != nil {
		return Root{}, err
	}
	f[8] = mixInLength(r, uint64(len(s.Eth1DataVotes)))
	f[9] = uint64Leaf(s.Eth1DepositIndex)
	r, err = elemRoot(c.validators, &c.validatorSnap, s.Validators, eqComparable[Validator], validatorRoot)
	if err != nil {
		return Root{}, err
	}
	f[10] = mixInLength(r, uint64(len(s.Validators)))
	f[11] = mixInLength(packedRoot(c.balances, s.Balances), uint64(len(s.Balances)))
	f[12] = uint64Leaf(uint64(s.StartShard))
	f[13] = rootsRoot(c.randaoMixes, s.RandaoMixes)
	f[14] = rootsRoot(c.activeIndexRoots, s.ActiveIndexRoots)
	f[15] = rootsRoot(c.compactCommittees, s.CompactCommitteesRoots)
	f[16] = packedRoot(c.slashings, s.Slashings)
	if r, err = elemRoot(c.prevAtts, &c.prevAttSnap, s.PreviousEpochAttestations, eqPending, htrOf[*PendingAttestation]); err != nil {
		return Root{}, fmt.Errorf("hash previous_epoch_attestations: %w", err)
	}
	f[17] = mixInLength(r, uint64(len(s.PreviousEpochAttestations)))
	if r, err = elemRoot(c.currAtts, &c.currAttSnap, s.CurrentEpochAttestations, eqPending, htrOf[*PendingAttestation]); err != nil {
		return Root{}, fmt.Errorf("hash current_epoch_attestations: %w", err)
	}
	f[18] = mixInLength(r, uint64(len(s.CurrentEpochAttestations)))
	if f[19], err = elemRoot(c.prevCrosslinks, &c.prevCrossSnap, s.PreviousCrosslinks, eqComparable[Crosslink], htrOf[*Crosslink]); err != nil {
		return Root{}, err
	}
	if f[20], err = elemRoot(c.currCrosslinks, &c.currCrossSnap, s.CurrentCrosslinks, eqComparable[Crosslink], htrOf[*Crosslink]); err != nil {
		return Root{}, err
	}
	f[21] = Root{byte(s.JustificationBits)}
	for i, cp := range []*Checkpoint{&s.PreviousJustifiedCheckpoint, &s.CurrentJustifiedCheckpoint, &s.FinalizedCheckpoint} {
		f[22+i] = cp.TreeRoot()
	}
	return merkleizeRoots(f[:], 32), nil
}

// validatorRoot hashes a validator without going through the generic hasher
// (it is the hot path of a registry rebuild).
func validatorRoot(v *Validator) (Root, error) {
	var pk [64]byte
	copy(pk[:], v.Pubkey[:])
	leaves := [8]Root{
		Root(hashPair(Root(pk[:32]), Root(pk[32:]))),
		v.WithdrawalCredentials,
		uint64Leaf(uint64(v.EffectiveBalance)),
		{},
		uint64Leaf(uint64(v.ActivationEligibilityEpoch)),
		uint64Leaf(uint64(v.ActivationEpoch)),
		uint64Leaf(uint64(v.ExitEpoch)),
		uint64Leaf(uint64(v.WithdrawableEpoch)),
	}
	if v.Slashed {
		leaves[3][0] = 1
	}
	a := hashPair(leaves[0], leaves[1])
	b := hashPair(leaves[2], leaves[3])
	c := hashPair(leaves[4], leaves[5])
	d := hashPair(leaves[6], leaves[7])
	return hashPair(hashPair(a, b), hashPair(c, d)), nil
}

// HashTreeRoot returns the root of the batch.
func (h *HistoricalBatch) HashTreeRoot() (Root, error) {
	if len(h.BlockRoots) != len(h.StateRoots) {
		return Root{}, fmt.Errorf("%w: historical batch vectors differ in length", ErrInvalidSSZ)
	}
	n := uint64(len(h.BlockRoots))
	return hashPair(merkleizeRoots(h.BlockRoots, n), merkleizeRoots(h.StateRoots, n)), nil
}
