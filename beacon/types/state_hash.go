package types

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"

	"github.com/shardlab/shardlab/crypto/hash"
)

// stateCache holds the Merkle trees of the BeaconState's large fields and a
// snapshot of the values they were built from. HashTreeRoot compares the
// current values with the snapshot and rehashes only what changed, so the core
// needs no dirty tracking: a slot that touches a few fields of a state with
// 100,000 validators costs a linear scan plus O(changes · log n) hashes.
type stateCache struct {
	blockRoots, stateRoots, historicalRoots          *hash.Tree
	randaoMixes, activeIndexRoots, compactCommittees *hash.Tree
	eth1Votes                                        *hash.Tree
	eth1Snap                                         []Eth1Data
	validators                                       *hash.Tree
	validatorSnap                                    []Validator
	balances, slashings                              *hash.Tree
	prevAtts, currAtts                               *hash.Tree
	prevAttSnap, currAttSnap                         []PendingAttestation
	prevCrosslinks, currCrosslinks                   *hash.Tree
	prevCrossSnap, currCrossSnap                     []Crosslink
}

func newStateCache(s *BeaconState) *stateCache {
	cfg := s.cfg
	histDepth := depthFor(uint64(cfg.SlotsPerHistoricalRoot))
	vecDepth := depthFor(cfg.EpochsPerHistoricalVector)
	return &stateCache{
		blockRoots:        newTree(histDepth),
		stateRoots:        newTree(histDepth),
		historicalRoots:   newTree(depthFor(cfg.HistoricalRootsLimit)),
		randaoMixes:       newTree(vecDepth),
		activeIndexRoots:  newTree(vecDepth),
		compactCommittees: newTree(vecDepth),
		eth1Votes:         newTree(depthFor(cfg.SlotsPerEth1VotingPeriod)),
		validators:        newTree(depthFor(cfg.ValidatorRegistryLimit)),
		balances:          newTree(depthFor((cfg.ValidatorRegistryLimit*8 + 31) / 32)),
		slashings:         newTree(depthFor((cfg.EpochsPerSlashingsVector*8 + 31) / 32)),
		prevAtts:          newTree(depthFor(cfg.MaxPendingAttestations())),
		currAtts:          newTree(depthFor(cfg.MaxPendingAttestations())),
		prevCrosslinks:    newTree(depthFor(cfg.ShardCount)),
		currCrosslinks:    newTree(depthFor(cfg.ShardCount)),
	}
}

func (c *stateCache) copy() *stateCache {
	return &stateCache{
		blockRoots:        c.blockRoots.Copy(),
		stateRoots:        c.stateRoots.Copy(),
		historicalRoots:   c.historicalRoots.Copy(),
		randaoMixes:       c.randaoMixes.Copy(),
		activeIndexRoots:  c.activeIndexRoots.Copy(),
		compactCommittees: c.compactCommittees.Copy(),
		eth1Votes:         c.eth1Votes.Copy(),
		eth1Snap:          slices.Clone(c.eth1Snap),
		validators:        c.validators.Copy(),
		validatorSnap:     slices.Clone(c.validatorSnap),
		balances:          c.balances.Copy(),
		slashings:         c.slashings.Copy(),
		prevAtts:          c.prevAtts.Copy(),
		currAtts:          c.currAtts.Copy(),
		prevAttSnap:       slices.Clone(c.prevAttSnap),
		currAttSnap:       slices.Clone(c.currAttSnap),
		prevCrosslinks:    c.prevCrosslinks.Copy(),
		currCrosslinks:    c.currCrosslinks.Copy(),
		prevCrossSnap:     slices.Clone(c.prevCrossSnap),
		currCrossSnap:     slices.Clone(c.currCrossSnap),
	}
}

// newTree returns an empty tree padded to 2^depth leaves.
func newTree(depth int) *hash.Tree {
	t, err := hash.NewTree(nil, depth)
	if err != nil {
		panic(fmt.Sprintf("types: tree of depth %d: %v", depth, err))
	}
	return t
}

// resize sets the number of leaves of t; new leaves are zero until set.
func resize(t *hash.Tree, n int) {
	if err := t.Resize(n); err != nil {
		panic(fmt.Sprintf("types: %v (list lengths are checked against their limits first)", err))
	}
}

// rootsRoot updates a tree whose leaves are the roots themselves.
func rootsRoot(t *hash.Tree, roots []Root) Root {
	resize(t, len(roots))
	for i := range roots {
		_ = t.Set(i, roots[i])
	}
	return t.Root()
}

// packedRoot updates a tree over uint64 values packed four to a chunk.
func packedRoot(t *hash.Tree, vals []Gwei) Root {
	chunks := (len(vals) + 3) / 4
	resize(t, chunks)
	for c := 0; c < chunks; c++ {
		var leaf Root
		for j := 0; j < 4 && 4*c+j < len(vals); j++ {
			binary.LittleEndian.PutUint64(leaf[8*j:], uint64(vals[4*c+j]))
		}
		_ = t.Set(c, leaf)
	}
	return t.Root()
}

// elemRoot updates a tree whose leaf i is the root of vals[i], rehashing only
// the elements that differ from the snapshot, which it then updates.
func elemRoot[T any](t *hash.Tree, snap *[]T, vals []T, equal func(a, b *T) bool, root func(*T) (Root, error)) (Root, error) {
	old := len(*snap)
	resize(t, len(vals))
	for i := range vals {
		if i < old && equal(&(*snap)[i], &vals[i]) {
			continue
		}
		r, err := root(&vals[i])
		if err != nil {
			return Root{}, err
		}
		_ = t.Set(i, r)
	}
	*snap = append((*snap)[:0], vals...)
	return t.Root(), nil
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
	f, err := s.fieldRoots()
	if err != nil {
		return Root{}, err
	}
	return merkleizeRoots(toRoots(f), 32), nil
}

func toRoots(f [][32]byte) []Root {
	out := make([]Root, len(f))
	for i := range f {
		out[i] = f[i]
	}
	return out
}

// fieldRoots returns the roots of the 25 fields, bringing the cache up to date.
func (s *BeaconState) fieldRoots() ([][32]byte, error) {
	if err := s.checkShape(); err != nil {
		return nil, err
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
		return nil, err
	}
	if f[3], err = htrOf(&s.LatestBlockHeader); err != nil {
		return nil, err
	}
	f[4] = rootsRoot(c.blockRoots, s.BlockRoots)
	f[5] = rootsRoot(c.stateRoots, s.StateRoots)
	f[6] = mixInLength(rootsRoot(c.historicalRoots, s.HistoricalRoots), uint64(len(s.HistoricalRoots)))
	if f[7], err = htrOf(&s.Eth1Data); err != nil {
		return nil, err
	}
	r, err := elemRoot(c.eth1Votes, &c.eth1Snap, s.Eth1DataVotes, eqComparable[Eth1Data], htrOf[*Eth1Data])
	if err != nil {
		return nil, err
	}
	f[8] = mixInLength(r, uint64(len(s.Eth1DataVotes)))
	f[9] = uint64Leaf(s.Eth1DepositIndex)
	r, err = elemRoot(c.validators, &c.validatorSnap, s.Validators, eqComparable[Validator], validatorRoot)
	if err != nil {
		return nil, err
	}
	f[10] = mixInLength(r, uint64(len(s.Validators)))
	f[11] = mixInLength(packedRoot(c.balances, s.Balances), uint64(len(s.Balances)))
	f[12] = uint64Leaf(uint64(s.StartShard))
	f[13] = rootsRoot(c.randaoMixes, s.RandaoMixes)
	f[14] = rootsRoot(c.activeIndexRoots, s.ActiveIndexRoots)
	f[15] = rootsRoot(c.compactCommittees, s.CompactCommitteesRoots)
	f[16] = packedRoot(c.slashings, s.Slashings)
	if r, err = elemRoot(c.prevAtts, &c.prevAttSnap, s.PreviousEpochAttestations, eqPending, htrOf[*PendingAttestation]); err != nil {
		return nil, fmt.Errorf("hash previous_epoch_attestations: %w", err)
	}
	f[17] = mixInLength(r, uint64(len(s.PreviousEpochAttestations)))
	if r, err = elemRoot(c.currAtts, &c.currAttSnap, s.CurrentEpochAttestations, eqPending, htrOf[*PendingAttestation]); err != nil {
		return nil, fmt.Errorf("hash current_epoch_attestations: %w", err)
	}
	f[18] = mixInLength(r, uint64(len(s.CurrentEpochAttestations)))
	if f[19], err = elemRoot(c.prevCrosslinks, &c.prevCrossSnap, s.PreviousCrosslinks, eqComparable[Crosslink], htrOf[*Crosslink]); err != nil {
		return nil, err
	}
	if f[20], err = elemRoot(c.currCrosslinks, &c.currCrossSnap, s.CurrentCrosslinks, eqComparable[Crosslink], htrOf[*Crosslink]); err != nil {
		return nil, err
	}
	f[21] = Root{byte(s.JustificationBits)}
	for i, cp := range []*Checkpoint{&s.PreviousJustifiedCheckpoint, &s.CurrentJustifiedCheckpoint, &s.FinalizedCheckpoint} {
		f[22+i] = cp.TreeRoot()
	}
	out := make([][32]byte, len(f))
	for i := range f {
		out[i] = f[i]
	}
	return out, nil
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

// BeaconState field positions used by witnesses (generalized indices of the
// container's 32-leaf tree are 32 + field).
const (
	stateFieldDepth          = 5
	StateFieldSlot           = 1
	StateFieldCurrentCrossln = 20
	stateFieldStateRoots     = 5
	crosslinkFieldDepth      = 3
)

// GIndexCurrentCrosslink is the generalized index of current_crosslinks[shard]
// (the crosslink's root) in a state shaped for shardCount shards.
func GIndexCurrentCrosslink(shardCount uint64, shard uint64) uint64 {
	vec := uint64(1<<stateFieldDepth | StateFieldCurrentCrossln)
	return vec<<depthFor(shardCount) | shard
}

// GIndexCurrentCrosslinkField is the generalized index of field f (0 shard,
// 1 parent_root, 2 start_epoch, 3 end_epoch, 4 data_root) of
// current_crosslinks[shard] in a state shaped for shardCount shards.
func GIndexCurrentCrosslinkField(shardCount uint64, shard uint64, f int) uint64 {
	return GIndexCurrentCrosslink(shardCount, shard)<<crosslinkFieldDepth | uint64(f)
}

// GIndexStateRoot is the generalized index of state_roots[slot %
// SLOTS_PER_HISTORICAL_ROOT] in a state shaped for cfg.
func GIndexStateRoot(sphr uint64, slot Slot) uint64 {
	vec := uint64(1<<stateFieldDepth | stateFieldStateRoots)
	return vec<<depthFor(sphr) | uint64(slot)%sphr
}

// Branch returns the Merkle branch of the node at generalized index g: its
// siblings from g up to the state root's children, bottom first, as
// is_valid_merkle_branch takes them (depth = bits.Len64(g) - 1, index = g -
// 2^depth). The nodes NodeFunc serves can be proved.
func (s *BeaconState) Branch(g uint64) ([]Root, error) {
	nodes, err := s.NodeFunc()
	if err != nil {
		return nil, err
	}
	var out []Root
	for x := g; x > 1; x >>= 1 {
		n, err := nodes(x ^ 1)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// GIndexSlot is the generalized index of the state's slot.
const GIndexSlot = 1<<stateFieldDepth | StateFieldSlot

// NodeFunc returns an accessor of the state's tree by generalized index, for
// building multiproofs: the container's nodes and everything within
// state_roots and current_crosslinks (what shard-layer witnesses need). The state is hashed
// once; the accessor is valid until the state changes.
func (s *BeaconState) NodeFunc() (func(g uint64) ([32]byte, error), error) {
	if _, err := s.HashTreeRoot(); err != nil {
		return nil, err
	}
	fields, err := s.fieldRoots()
	if err != nil {
		return nil, err
	}
	top, err := hash.NewTree(fields, stateFieldDepth)
	if err != nil {
		return nil, err
	}
	cl := s.cache.currCrosslinks
	vecDepth := depthFor(s.cfg.ShardCount)
	roots := s.cache.stateRoots
	return func(g uint64) ([32]byte, error) {
		if g == 0 {
			return [32]byte{}, fmt.Errorf("state node 0: %w", hash.ErrIndex)
		}
		d := bits.Len64(g) - 1
		if d <= stateFieldDepth {
			return top.TreeNode(g)
		}
		k := d - stateFieldDepth
		rel := uint64(1)<<k | g&(1<<k-1)
		switch g >> (d - stateFieldDepth) {
		case 1<<stateFieldDepth | stateFieldStateRoots:
			return roots.TreeNode(rel)
		case 1<<stateFieldDepth | StateFieldCurrentCrossln:
		default:
			return [32]byte{}, fmt.Errorf("state node %d: only state_roots and current_crosslinks are served below the fields: %w", g, hash.ErrIndex)
		}
		if k <= vecDepth {
			return cl.TreeNode(rel)
		}
		kk := k - vecDepth
		elem := rel >> kk & (1<<vecDepth - 1)
		if elem >= uint64(len(s.CurrentCrosslinks)) || kk > crosslinkFieldDepth {
			return [32]byte{}, fmt.Errorf("state node %d: %w", g, hash.ErrIndex)
		}
		c := &s.CurrentCrosslinks[elem]
		leaves := [][32]byte{uint64Leaf(uint64(c.Shard)), c.ParentRoot, uint64Leaf(uint64(c.StartEpoch)), uint64Leaf(uint64(c.EndEpoch)), c.DataRoot}
		t, err := hash.NewTree(leaves, crosslinkFieldDepth)
		if err != nil {
			return [32]byte{}, err
		}
		return t.TreeNode(uint64(1)<<kk | rel&(1<<kk-1))
	}, nil
}
