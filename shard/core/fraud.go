package core

import (
	"errors"
	"fmt"

	bcore "github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/bls"
	"github.com/shardlab/shardlab/crypto/hash"
	st "github.com/shardlab/shardlab/shard/types"
)

// Fraud proofs (docs/protocol.md §6). A fisherman who finds a block whose
// re-execution fails, or gives another state or receipts root than the block
// commits to, builds a ShardFraudProof; a beacon block carries it, and the
// beacon state transition verifies it statelessly with FraudVerifier.

// FraudEvidence is what a fisherman adds to a proof beyond the block itself.
type FraudEvidence struct {
	// Attestations crosslinked a data root containing the block: their
	// attesters are slashed. Each comes with the header's index and branch
	// in its data root.
	Attestations []*st.CrosslinkEvidence
	// Rollback, when the block is in a crosslink on the current crosslink
	// chain, proves it, so the shard is rolled back to the crosslink before.
	Rollback *st.CrosslinkRollback
}

// BuildFraudProof builds a proof, that fv accepts, against b, a block of
// parent with post-state pre as its pre-state, referencing the beacon block
// beaconHeader whose post-state is beacon. It re-executes the block (with
// fv's chain's transaction domain) to learn what it touches and fails if the
// block is in fact valid. whistleblower signs the proof with sk.
func (fv FraudVerifier) BuildFraudProof(tr *bcore.Transition, pre *st.ShardState, parent *st.ShardBlockHeader, b *st.ShardBlock,
	beaconHeader *bt.BeaconBlockHeader, beacon *bt.BeaconState, ev FraudEvidence,
	whistleblower bt.ValidatorIndex, sk *bls.SecretKey) (*st.ShardFraudProof, error) {
	cfg := tr.Config()
	opts, err := fv.execOptions(cfg)
	if err != nil {
		return nil, fmt.Errorf("build fraud proof: %w", err)
	}
	rec := NewRecordingView(pre.Copy())
	brec := NewRecordingBeaconView(beacon)
	receipts, err := ExecuteBlock(cfg, rec, brec, b, opts)
	fraud := err != nil
	if err != nil && !errors.Is(err, ErrInvalidShardBlock) {
		return nil, fmt.Errorf("build fraud proof: execute: %w", err)
	}
	if !fraud {
		root, err := rec.Root()
		if err != nil {
			return nil, err
		}
		rr, err := st.ReceiptsRoot(receipts)
		if err != nil {
			return nil, err
		}
		if root == b.StateRoot && rr == b.ReceiptsRoot {
			return nil, fmt.Errorf("build fraud proof: %w: the block is valid", ErrInvalidFraudProof)
		}
	}
	// The verifier reads the shard, slot and beacon slot first: reveal them
	// even if execution failed before reading everything.
	rec.note(st.GIndexShard, st.GIndexSlot, st.GIndexBeaconSlot)
	nodes, err := pre.NodeFunc()
	if err != nil {
		return nil, err
	}
	sw, err := multiproof(nodes, rec.Indices())
	if err != nil {
		return nil, fmt.Errorf("build fraud proof: state witness: %w", err)
	}
	var bw st.Multiproof
	if idx := brec.Indices(); len(idx) > 0 {
		bnodes, err := beacon.NodeFunc()
		if err != nil {
			return nil, err
		}
		if bw, err = multiproof(bnodes, idx); err != nil {
			return nil, fmt.Errorf("build fraud proof: beacon witness: %w", err)
		}
	}
	p := &st.ShardFraudProof{
		Block:         *b,
		ParentHeader:  *parent,
		StateWitness:  sw,
		BeaconHeader:  *beaconHeader,
		BeaconWitness: bw,
		Evidence:      ev.Attestations,
		Whistleblower: whistleblower,
	}
	if ev.Rollback != nil {
		p.Rollbacks = []*st.CrosslinkRollback{ev.Rollback}
	}
	if sk != nil {
		if err := SignFraudProof(tr, p, sk); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// SignFraudProof sets the whistleblower's signature of p.
func SignFraudProof(tr *bcore.Transition, p *st.ShardFraudProof, sk *bls.SecretKey) error {
	root, err := p.SigningRoot()
	if err != nil {
		return err
	}
	p.Signature = bt.BLSSignature(sk.Sign(root, ShardDomain(tr.Config(), tr.Config().Shard.DomainFraudProof)).Bytes())
	return nil
}

func multiproof(nodes func(uint64) ([32]byte, error), indices []uint64) (st.Multiproof, error) {
	sorted, leaves, helpers, err := hash.BuildMultiproof(nodes, indices)
	if err != nil {
		return st.Multiproof{}, err
	}
	m := st.Multiproof{Indices: sorted, Leaves: make([]bt.Root, len(leaves)), Helpers: make([]bt.Root, len(helpers))}
	for i := range leaves {
		m.Leaves[i] = leaves[i]
	}
	for i := range helpers {
		m.Helpers[i] = helpers[i]
	}
	if len(m.Indices) > params.MaxMultiproofNodes || len(m.Helpers) > params.MaxMultiproofNodes {
		return st.Multiproof{}, fmt.Errorf("witness of %d leaves and %d helpers is over the limit", len(m.Indices), len(m.Helpers))
	}
	return m, nil
}

// FraudVerifier verifies shard fraud proofs for the beacon state transition:
// it implements beacon/core.ShardFork. Re-executing a block checks its
// transactions' signatures, which are bound to the chain's genesis: the
// zero FraudVerifier rejects every proof (ErrNoTxDomain), so that a
// misconfigured verifier can never take a valid block for a fraudulent one.
type FraudVerifier struct {
	// GenesisRoot is the chain's beacon genesis state root, the genesis_root
	// of compute_transaction_domain (§2.5).
	GenesisRoot bt.Root
}

// TxDomain returns the transaction domain of fv's chain.
func (fv FraudVerifier) TxDomain(cfg *params.Config) TxDomain {
	return ComputeTxDomain(cfg, fv.GenesisRoot)
}

// execOptions are the options of a full re-execution on fv's chain.
func (fv FraudVerifier) execOptions(cfg *params.Config) (ExecOptions, error) {
	if fv.GenesisRoot == (bt.Root{}) {
		return ExecOptions{}, fmt.Errorf("fraud verifier: no genesis root: %w", ErrNoTxDomain)
	}
	return ExecOptions{TxDomain: fv.TxDomain(cfg)}, nil
}

var _ bcore.ShardFork = FraudVerifier{}

// VerifyFraudProof is verify_shard_fraud_proof (docs/protocol.md §6.2):
//
//	proof = decode(ShardFraudProof, data); block = proof.block
//	assert block.shard < SHARD_COUNT and compute_epoch_of_slot(block.slot) >= SHARD_FORK_EPOCH
//	assert bls_verify(validators[proof.whistleblower].pubkey, signing_root(proof), proof.signature,
//	                  compute_shard_domain(DOMAIN_SHARD_FRAUD_PROOF))
//	assert bls_verify(validators[block.proposer_index].pubkey, signing_root(block), block.signature,
//	                  compute_shard_domain(DOMAIN_SHARD_PROPOSER))
//	assert signing_root(proof.parent_header) == block.parent_root
//	b = proof.beacon_header
//	assert signing_root(b) == block.beacon_block_root
//	assert b.slot < state.slot <= b.slot + SLOTS_PER_HISTORICAL_ROOT
//	assert state.block_roots[b.slot % SLOTS_PER_HISTORICAL_ROOT] == block.beacon_block_root
//	pre = witness(proof.state_witness, root=proof.parent_header.state_root)
//	beacon_state = witness(proof.beacon_witness, root=b.state_root), slot b.slot
//	try: receipts = process_shard_block(pre, beacon_state, block)
//	except InvalidBlock: fraud = True            # a missing witness rejects the proof instead
//	else: fraud = (hash_tree_root(pre) != block.state_root
//	               or receipts_root(receipts) != block.receipts_root)
//	assert fraud
//	offenders = [block.proposer_index]
//	for e in proof.evidence:                      # the crosslinkers
//	    c = e.attestation.data.crosslink
//	    assert c.shard == block.shard and header_in_crosslink(block, e.header_index, e.header_branch, c)
//	    assert is_valid_indexed_attestation(state, e.attestation)
//	    offenders += e.attestation.custody_bit_0_indices + e.attestation.custody_bit_1_indices
//	rollback = None
//	for r in proof.rollbacks:                     # at most one
//	    assert header_in_crosslink(block, r.header_index, r.header_branch, r.chain[0])
//	    assert hash_tree_root(r.parent) == r.chain[0].parent_root
//	    assert chain links and r.chain[-1] == state.current_crosslinks[block.shard]
//	    rollback = r.parent
//	return FraudVerdict(block.shard, offenders, proof.whistleblower, rollback)
func (fv FraudVerifier) VerifyFraudProof(tr *bcore.Transition, state *bt.BeaconState, data []byte, sigs bcore.Sigs) (*bcore.FraudVerdict, error) {
	cfg := tr.Config()
	opts, err := fv.execOptions(cfg)
	if err != nil {
		return nil, fmt.Errorf("verify fraud proof: %w", err)
	}
	var p st.ShardFraudProof
	if err := bt.Decode(&p, data); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidFraudProof, err)
	}
	b := &p.Block
	if uint64(b.Shard) >= cfg.ShardCount || uint64(bcore.ComputeEpochOfSlot(cfg, b.Slot)) < cfg.Shard.ForkEpoch {
		return nil, fmt.Errorf("%w: block of shard %d slot %d", ErrInvalidFraudProof, b.Shard, b.Slot)
	}
	n := uint64(len(state.Validators))
	if uint64(p.Whistleblower) >= n || uint64(b.ProposerIndex) >= n {
		return nil, fmt.Errorf("%w: validator index out of range", ErrInvalidFraudProof)
	}
	if err := verifyFraudSignatures(tr, state, &p, sigs); err != nil {
		return nil, err
	}
	if p.ParentHeader.SigningRoot() != b.ParentRoot {
		return nil, fmt.Errorf("%w: parent header does not match the block's parent root", ErrInvalidFraudProof)
	}
	bh := &p.BeaconHeader
	if bh.SigningRoot() != b.BeaconBlockRoot {
		return nil, fmt.Errorf("%w: beacon header does not match the block's beacon block root", ErrInvalidFraudProof)
	}
	if !(bh.Slot < state.Slot && uint64(state.Slot) <= uint64(bh.Slot)+cfg.SlotsPerHistoricalRoot) ||
		state.BlockRoots[uint64(bh.Slot)%cfg.SlotsPerHistoricalRoot] != b.BeaconBlockRoot {
		return nil, fmt.Errorf("%w: the block's beacon block is not in this chain's recent history", ErrInvalidFraudProof)
	}
	pre, err := NewWitnessView(&p.StateWitness, p.ParentHeader.StateRoot)
	if err != nil {
		return nil, fmt.Errorf("state witness: %w", err)
	}
	beacon, err := NewWitnessBeaconView(&p.BeaconWitness, bh.StateRoot, bh.Slot, cfg.ShardCount, cfg.SlotsPerHistoricalRoot)
	if err != nil {
		return nil, err
	}
	receipts, err := ExecuteBlock(cfg, pre, beacon, b, opts)
	switch {
	case err != nil && isMissing(err):
		return nil, fmt.Errorf("%w: incomplete witness: %v", ErrInvalidFraudProof, err)
	case err != nil && !errors.Is(err, ErrInvalidShardBlock):
		return nil, fmt.Errorf("%w: %v", ErrInvalidFraudProof, err)
	case err == nil:
		root, err := pre.Root()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidFraudProof, err)
		}
		rr, err := st.ReceiptsRoot(receipts)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidFraudProof, err)
		}
		if root == b.StateRoot && rr == b.ReceiptsRoot {
			return nil, fmt.Errorf("%w: the block is valid: it re-executes to the roots it commits to", ErrInvalidFraudProof)
		}
	}
	header, err := b.Header()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidFraudProof, err)
	}
	v := &bcore.FraudVerdict{Shard: b.Shard, Whistleblower: p.Whistleblower, Offenders: []bt.ValidatorIndex{b.ProposerIndex}}
	for i, e := range p.Evidence {
		if e == nil {
			return nil, fmt.Errorf("%w: evidence %d is empty", ErrInvalidFraudProof, i)
		}
		c := &e.Attestation.Data.Crosslink
		if c.Shard != b.Shard {
			return nil, fmt.Errorf("%w: evidence %d crosslinks shard %d", ErrInvalidFraudProof, i, c.Shard)
		}
		if err := verifyHeaderInCrosslink(cfg, &header, e.HeaderIndex, e.HeaderBranch, c); err != nil {
			return nil, fmt.Errorf("%w: evidence %d: %v", ErrInvalidFraudProof, i, err)
		}
		if err := tr.IsValidIndexedAttestation(state, &e.Attestation, sigs); err != nil {
			return nil, fmt.Errorf("%w: evidence %d: %v", ErrInvalidFraudProof, i, err)
		}
		for _, l := range [][]uint64{e.Attestation.CustodyBit0Indices, e.Attestation.CustodyBit1Indices} {
			for _, idx := range l {
				v.Offenders = append(v.Offenders, bt.ValidatorIndex(idx))
			}
		}
	}
	for _, r := range p.Rollbacks {
		if r == nil || len(r.Chain) == 0 || r.Chain[0] == nil {
			return nil, fmt.Errorf("%w: empty rollback", ErrInvalidFraudProof)
		}
		if err := verifyHeaderInCrosslink(cfg, &header, r.HeaderIndex, r.HeaderBranch, r.Chain[0]); err != nil {
			return nil, fmt.Errorf("%w: rollback: %v", ErrInvalidFraudProof, err)
		}
		// The parent's own shard field is not checked: a shard's first
		// crosslink has the genesis Crosslink() (shard 0) as parent.
		if r.Parent.TreeRoot() != r.Chain[0].ParentRoot {
			return nil, fmt.Errorf("%w: rollback parent is not the parent of the crosslink", ErrInvalidFraudProof)
		}
		if err := verifyCrosslinkChain(r.Chain, b.Shard, state.CurrentCrosslinks[b.Shard]); err != nil {
			return nil, fmt.Errorf("%w: rollback: %v", ErrInvalidFraudProof, err)
		}
		parent, voided := r.Parent, *r.Chain[0]
		v.Rollback, v.Voided = &parent, &voided
	}
	for _, o := range v.Offenders {
		if o == p.Whistleblower {
			return nil, fmt.Errorf("%w: the whistleblower %d is one of the offenders", ErrInvalidFraudProof, o)
		}
	}
	if state.Validators[p.Whistleblower].Slashed {
		return nil, fmt.Errorf("%w: the whistleblower %d is slashed", ErrInvalidFraudProof, p.Whistleblower)
	}
	return v, nil
}

func verifyFraudSignatures(tr *bcore.Transition, state *bt.BeaconState, p *st.ShardFraudProof, sigs bcore.Sigs) error {
	if sigs.Skipping() {
		return nil
	}
	cfg := tr.Config()
	check := func(who bt.ValidatorIndex, msg bt.Root, sig bt.BLSSignature, domain bt.Domain, what string) error {
		if err := tr.VerifySignature(sigs, state.Validators[who].Pubkey, msg, sig, domain, what); err != nil {
			return fmt.Errorf("%w: bad %s: %v", ErrInvalidFraudProof, what, err)
		}
		return nil
	}
	root, err := p.SigningRoot()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidFraudProof, err)
	}
	if err := check(p.Whistleblower, root, p.Signature, ShardDomain(cfg, cfg.Shard.DomainFraudProof), "whistleblower signature"); err != nil {
		return err
	}
	broot, err := p.Block.SigningRoot()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidFraudProof, err)
	}
	return check(p.Block.ProposerIndex, broot, p.Block.Signature, ShardDomain(cfg, cfg.DomainShardProposer), "shard proposer signature")
}

// NewFraudVerifier returns the verifier of the chain that starts from the
// beacon genesis state genesis (hashing it updates its Merkle cache).
func NewFraudVerifier(genesis *bt.BeaconState) (FraudVerifier, error) {
	root, err := genesis.HashTreeRoot()
	if err != nil {
		return FraudVerifier{}, fmt.Errorf("hash beacon genesis state: %w", err)
	}
	return FraudVerifier{GenesisRoot: root}, nil
}
