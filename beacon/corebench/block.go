package corebench

import (
	"fmt"
	"runtime"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
	"github.com/shardlab/shardlab/crypto/bls"
)

// BlockFixture is a signed block full of attestations and the state it
// applies to, with every key a node would have decompressed already.
type BlockFixture struct {
	Cfg   *params.Config
	Tr    *core.Transition
	Pre   *types.BeaconState // at the block's slot, before process_block
	Block *types.BeaconBlock
}

// NewBlockFixture builds an interop genesis of n validators for cfg, moves to
// the slot that can include attestations from the most committees, and signs a
// block carrying up to attestations fully-aggregated attestations (one per
// committee, every member participating).
func NewBlockFixture(cfg *params.Config, n uint64, attestations int) (*BlockFixture, error) {
	tr := core.New(cfg)
	workers := runtime.GOMAXPROCS(0)
	keys, err := validator.NewInteropKeysParallel(n, workers)
	if err != nil {
		return nil, err
	}
	st, err := validator.InteropGenesis(tr, n, cfg.MinGenesisTime, validator.WithKeys(keys), validator.SkipDepositSignatures())
	if err != nil {
		return nil, err
	}
	if err := validator.WarmPubkeys(tr, st, workers); err != nil {
		return nil, err
	}
	// Committees of slots [0, k) are includable at slot k; pick the smallest
	// k that yields enough attestations, within the genesis epoch.
	perSlot := tr.CommitteeCount(st, 0) / cfg.SlotsPerEpoch
	k := types.Slot(min(uint64(attestations+int(perSlot)-1)/perSlot, cfg.SlotsPerEpoch-1))
	if k < types.Slot(cfg.MinAttestationInclusionDelay) {
		k = types.Slot(cfg.MinAttestationInclusionDelay)
	}
	head, err := validator.LatestBlockRoot(st)
	if err != nil {
		return nil, err
	}
	var pool []*types.Attestation
	for slot := types.Slot(0); slot < k && len(pool) < attestations; slot++ {
		// The head stays the genesis block; its state is advanced to each
		// attestation slot, as an attester's head state would be.
		if err := tr.ProcessSlots(st, slot); err != nil {
			return nil, err
		}
		coms, err := validator.SlotCommittees(tr, st, slot)
		if err != nil {
			return nil, err
		}
		for _, sc := range coms {
			if len(pool) == attestations {
				break
			}
			data, err := validator.ProduceAttestationData(tr, st, head, slot, sc.Shard)
			if err != nil {
				return nil, err
			}
			a, err := validator.AggregateCommittee(tr, st, data, sc.Committee, sc.Committee, keys)
			if err != nil {
				return nil, err
			}
			pool = append(pool, a)
		}
	}
	if len(pool) < attestations {
		return nil, fmt.Errorf("only %d committees can be included by slot %d", len(pool), k)
	}
	if err := tr.ProcessSlots(st, k); err != nil {
		return nil, err
	}
	pre := st.Copy()
	blk, _, err := validator.ProduceBlock(tr, st, k, keys, pool, types.Root{})
	if err != nil {
		return nil, err
	}
	if len(blk.Body.Attestations) != attestations {
		return nil, fmt.Errorf("block holds %d attestations, want %d", len(blk.Body.Attestations), attestations)
	}
	return &BlockFixture{Cfg: cfg, Tr: tr, Pre: pre, Block: blk}, nil
}

// Process runs process_block on a copy of the pre-state with the given
// signature policy; the copy is made by the caller-visible setup function so
// benchmarks can exclude it.
func (f *BlockFixture) Process(st *types.BeaconState, sigs core.Sigs) error {
	return f.Tr.ProcessBlock(st, f.Block, sigs)
}

// SignatureWork is the BLS part of process_block alone: the same checks the
// transition makes (proposer signature, RANDAO reveal, and per attestation
// the aggregation of its attesters' keys and bls_verify_multiple), without
// any of the state transition around them. It is the baseline of the
// block-processing overhead.
type SignatureWork struct {
	keys   []*bls.PublicKey
	msgs   [][32]byte
	sigs   []types.BLSSignature
	doms   []types.Domain
	groups [][]*bls.PublicKey // per attestation: the attesters' keys, aggregated on every run
	amsgs  [][][32]byte
	asigs  []types.BLSSignature
	adoms  []types.Domain
}

// NewSignatureWork collects the fixture's signature checks.
func (f *BlockFixture) NewSignatureWork() (*SignatureWork, error) {
	tr, cfg, st := f.Tr, f.Cfg, f.Pre
	w := &SignatureWork{}
	proposer, err := tr.BeaconProposerIndex(st)
	if err != nil {
		return nil, err
	}
	pk, err := tr.Pubkeys().Get(st.Validators[proposer].Pubkey)
	if err != nil {
		return nil, err
	}
	header, err := f.Block.Header()
	if err != nil {
		return nil, err
	}
	epoch := tr.CurrentEpoch(st)
	var epochRoot types.Root
	epochRoot[0] = byte(epoch) // hash_tree_root(epoch) for the small epochs used here
	for i := 1; i < 8; i++ {
		epochRoot[i] = byte(uint64(epoch) >> (8 * i))
	}
	w.keys = []*bls.PublicKey{pk, pk}
	w.msgs = [][32]byte{header.SigningRoot(), epochRoot}
	w.sigs = []types.BLSSignature{f.Block.Signature, f.Block.Body.RandaoReveal}
	w.doms = []types.Domain{tr.Domain(st, cfg.DomainBeaconProposer, epoch), tr.Domain(st, cfg.DomainRandao, epoch)}
	for _, a := range f.Block.Body.Attestations {
		ia, err := tr.IndexedAttestation(st, a)
		if err != nil {
			return nil, err
		}
		keys := make([]*bls.PublicKey, len(ia.CustodyBit0Indices))
		for j, v := range ia.CustodyBit0Indices {
			if keys[j], err = tr.Pubkeys().Get(st.Validators[v].Pubkey); err != nil {
				return nil, err
			}
		}
		m0 := types.AttestationDataAndCustodyBit{Data: a.Data}
		m1 := types.AttestationDataAndCustodyBit{Data: a.Data, CustodyBit: true}
		w.groups = append(w.groups, keys)
		w.amsgs = append(w.amsgs, [][32]byte{m0.TreeRoot(), m1.TreeRoot()})
		w.asigs = append(w.asigs, a.Signature)
		w.adoms = append(w.adoms, tr.Domain(st, cfg.DomainAttestation, a.Data.Target.Epoch))
	}
	return w, nil
}

// Run performs every check; it fails if one does not verify.
func (w *SignatureWork) Run() error {
	for i := range w.keys {
		sig, err := bls.SignatureFromBytes(w.sigs[i][:])
		if err != nil {
			return err
		}
		if !bls.Verify(w.keys[i], w.msgs[i], sig, w.doms[i]) {
			return fmt.Errorf("signature %d does not verify", i)
		}
	}
	empty := bls.AggregatePublicKeys(nil)
	for i, g := range w.groups {
		sig, err := bls.SignatureFromBytes(w.asigs[i][:])
		if err != nil {
			return err
		}
		agg := bls.AggregatePublicKeys(g)
		if !bls.VerifyMultiple([]*bls.PublicKey{agg, empty}, w.amsgs[i], sig, w.adoms[i]) {
			return fmt.Errorf("attestation %d does not verify", i)
		}
	}
	return nil
}
