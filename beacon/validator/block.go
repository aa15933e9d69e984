package validator

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/bls"
)

// ProduceBlock is the validator guide's block proposal: the block of slot on
// top of pre (the head's post-state, at or before slot; not modified), and
// its post-state.
//
// It processes slots on a copy of pre, checks that keys hold the proposer's
// key (get_beacon_proposer_index, matched by public key), and builds the body:
//
//   - randao_reveal = bls_sign(privkey, hash_tree_root(epoch), get_domain(state, DOMAIN_RANDAO, epoch))
//   - eth1_data = state.eth1_data (a vote for no change; no eth1 chain is followed;
//     ProduceAnyBlock with a Proposal.Eth1 source votes and includes deposits)
//   - graffiti as given
//   - attestations: those of pool that process_attestation accepts at slot
//     (inclusion window, source, crosslink parent, signature), with
//     attestations of equal data and disjoint bits aggregated, best first (most
//     attesters, then oldest), at most MAX_ATTESTATIONS. Invalid ones are left
//     out, not reported.
//
// It then runs process_block to fill state_root and signs signing_root(block)
// with DOMAIN_BEACON_PROPOSER. A state that expects deposits
// (eth1_deposit_index < eth1_data.deposit_count) is ErrUnsupported, as there
// is no deposit source.
func ProduceBlock(tr *core.Transition, pre *types.BeaconState, slot types.Slot, keys *Keys, pool []*types.Attestation, graffiti types.Root) (*types.BeaconBlock, *types.BeaconState, error) {
	return produceBlock(tr, pre, slot, keys, Proposal{Attestations: pool, Graffiti: graffiti})
}

// Operations are the pooled slashings and exits a proposer includes as
// given (the caller selected them against the block's pre-state; an
// invalid one makes production fail).
type Operations struct {
	ProposerSlashings []*types.ProposerSlashing
	AttesterSlashings []*types.AttesterSlashing
	VoluntaryExits    []*types.VoluntaryExit
}

// Proposal is everything a proposer puts into a block besides what it
// derives itself: the attestation pool (selected as ProduceBlock does), the
// pooled operations, the graffiti and, in the shard fork, the verified
// fraud proofs.
type Proposal struct {
	Attestations []*types.Attestation
	Operations   Operations
	Graffiti     types.Root
	FraudProofs  [][]byte
	// Eth1, when set, gives the eth1 vote and the deposits (Eth1Inputs);
	// nil votes for no change and cannot include deposits.
	Eth1 Eth1Source
}

// ProduceAnyBlock produces the block of slot in the fork of slot
// (ProduceBlock before the shard fork, ProduceShardBeaconBlock from it) with
// every input of in, in one pass: the body is built, processed and signed
// once.
func ProduceAnyBlock(tr *core.Transition, pre *types.BeaconState, slot types.Slot, keys *Keys, in Proposal) (types.AnyBlock, *types.BeaconState, error) {
	if types.ShardForkAtSlot(tr.Config(), slot) {
		return produceShardBlock(tr, pre, slot, keys, in)
	}
	return produceBlock(tr, pre, slot, keys, in)
}

func produceBlock(tr *core.Transition, pre *types.BeaconState, slot types.Slot, keys *Keys, in Proposal) (*types.BeaconBlock, *types.BeaconState, error) {
	p, err := produceBody(tr, pre, slot, keys, in)
	if err != nil {
		return nil, nil, err
	}
	b := &types.BeaconBlock{Slot: slot, ParentRoot: p.st.LatestBlockHeader.SigningRoot(), Body: *p.body}
	// Signatures are ours or were checked while selecting.
	if err := tr.ProcessBlock(p.st, b, core.SkipSigs); err != nil {
		return nil, nil, fmt.Errorf("produce block at slot %d: process block: %w", slot, err)
	}
	if b.StateRoot, err = p.st.HashTreeRoot(); err != nil {
		return nil, nil, fmt.Errorf("produce block at slot %d: hash post-state: %w", slot, err)
	}
	signing, err := b.SigningRoot()
	if err != nil {
		return nil, nil, fmt.Errorf("produce block at slot %d: %w", slot, err)
	}
	b.Signature = p.sign(signing)
	return b, p.st, nil
}

// ProduceShardBeaconBlock is ProduceBlock in the shard fork: the same body,
// plus the given encoded shard fraud proofs (at most MAX_SHARD_FRAUD_PROOFS).
// Its post-state is computed with tr's shard-fork verifier, which checks that
// every proof establishes something; their signatures are not checked here:
// pass proofs that were verified (built by a fisherman or checked on arrival).
func ProduceShardBeaconBlock(tr *core.Transition, pre *types.BeaconState, slot types.Slot, keys *Keys, pool []*types.Attestation, graffiti types.Root, fraudProofs [][]byte) (*types.ShardBeaconBlock, *types.BeaconState, error) {
	return produceShardBlock(tr, pre, slot, keys, Proposal{Attestations: pool, Graffiti: graffiti, FraudProofs: fraudProofs})
}

func produceShardBlock(tr *core.Transition, pre *types.BeaconState, slot types.Slot, keys *Keys, in Proposal) (*types.ShardBeaconBlock, *types.BeaconState, error) {
	fraudProofs := in.FraudProofs
	p, err := produceBody(tr, pre, slot, keys, in)
	if err != nil {
		return nil, nil, err
	}
	body := p.body
	b := &types.ShardBeaconBlock{
		Slot:       slot,
		ParentRoot: p.st.LatestBlockHeader.SigningRoot(),
		Body: types.ShardBeaconBlockBody{
			RandaoReveal: body.RandaoReveal, Eth1Data: body.Eth1Data, Graffiti: body.Graffiti,
			ProposerSlashings: body.ProposerSlashings, AttesterSlashings: body.AttesterSlashings,
			Attestations: body.Attestations, Deposits: body.Deposits, VoluntaryExits: body.VoluntaryExits,
			Transfers: body.Transfers, ShardFraudProofs: fraudProofs,
		},
	}
	if err := tr.ProcessShardBeaconBlock(p.st, b, core.SkipSigs); err != nil {
		return nil, nil, fmt.Errorf("produce block at slot %d: process block: %w", slot, err)
	}
	if b.StateRoot, err = p.st.HashTreeRoot(); err != nil {
		return nil, nil, fmt.Errorf("produce block at slot %d: hash post-state: %w", slot, err)
	}
	signing, err := b.SigningRoot()
	if err != nil {
		return nil, nil, fmt.Errorf("produce block at slot %d: %w", slot, err)
	}
	b.Signature = p.sign(signing)
	return b, p.st, nil
}

// produced is a block body under construction and the state it applies to.
type produced struct {
	st   *types.BeaconState // pre processed to the block's slot
	body *types.BeaconBlockBody
	sign func(root types.Root) types.BLSSignature
}

// produceBody processes slots on a copy of pre, finds the proposer's key and
// assembles the phase 0 body with in's inputs.
func produceBody(tr *core.Transition, pre *types.BeaconState, slot types.Slot, keys *Keys, in Proposal) (*produced, error) {
	ops, pool, graffiti := in.Operations, in.Attestations, in.Graffiti
	if slot <= pre.LatestBlockHeader.Slot {
		return nil, fmt.Errorf("produce block at slot %d: the parent block is at slot %d", slot, pre.LatestBlockHeader.Slot)
	}
	if pre.Slot > slot {
		return nil, fmt.Errorf("produce block at slot %d: pre-state is at slot %d", slot, pre.Slot)
	}
	st := pre.Copy()
	if err := tr.ProcessSlots(st, slot); err != nil {
		return nil, fmt.Errorf("produce block at slot %d: process slots: %w", slot, err)
	}
	proposer, err := tr.BeaconProposerIndex(st)
	if err != nil {
		return nil, fmt.Errorf("produce block at slot %d: proposer: %w", slot, err)
	}
	sk, _, err := keys.forValidator(st, proposer)
	if err != nil {
		return nil, fmt.Errorf("produce block at slot %d: proposer: %w", slot, err)
	}
	vote, deposits := st.Eth1Data, []*types.Deposit(nil)
	if in.Eth1 != nil {
		if vote, deposits, err = Eth1Inputs(tr.Config(), st, slot, in.Eth1); err != nil {
			return nil, fmt.Errorf("produce block at slot %d: %w", slot, err)
		}
	} else if st.Eth1DepositIndex < st.Eth1Data.DepositCount {
		return nil, fmt.Errorf("produce block at slot %d: %w: the state expects deposits %d to %d",
			slot, ErrUnsupported, st.Eth1DepositIndex, st.Eth1Data.DepositCount)
	}
	cfg := tr.Config()
	epoch := tr.CurrentEpoch(st)
	atts, err := selectAttestations(tr, st, pool)
	if err != nil {
		return nil, fmt.Errorf("produce block at slot %d: %w", slot, err)
	}
	domain := tr.Domain(st, cfg.DomainBeaconProposer, epoch)
	return &produced{
		st: st,
		body: &types.BeaconBlockBody{
			RandaoReveal: randaoReveal(tr, st, sk, epoch),
			Eth1Data:     vote,
			Graffiti:     graffiti,
			Attestations: atts,
			Deposits:     deposits,

			ProposerSlashings: ops.ProposerSlashings,
			AttesterSlashings: ops.AttesterSlashings,
			VoluntaryExits:    ops.VoluntaryExits,
		},
		sign: func(root types.Root) types.BLSSignature { return types.BLSSignature(sk.Sign(root, domain).Bytes()) },
	}, nil
}

// randaoReveal is the guide's get_epoch_signature: the signature of
// hash_tree_root(epoch) (the epoch as 8 little-endian bytes padded to 32).
func randaoReveal(tr *core.Transition, st *types.BeaconState, sk *bls.SecretKey, epoch types.Epoch) types.BLSSignature {
	var msg [32]byte
	binary.LittleEndian.PutUint64(msg[:8], uint64(epoch))
	return types.BLSSignature(sk.Sign(msg, tr.Domain(st, tr.Config().DomainRandao, epoch)).Bytes())
}

// candidate is an attestation considered for inclusion.
type candidate struct {
	att   *types.Attestation
	slot  types.Slot // get_attestation_data_slot
	order int        // position of its first part in the pool
	bits  int
	sig   *bls.Signature // decoded signature, set while aggregating
}

// selectAttestations returns the attestations of pool to include in a block
// at st.Slot, where st is the pre-state processed to that slot. It aggregates
// and checks the signatures in one batch. If the batch fails (some pool entry
// is badly signed), it drops the entries whose own signature does not verify
// and starts over, checking each aggregate on its own.
func selectAttestations(tr *core.Transition, st *types.BeaconState, pool []*types.Attestation) ([]*types.Attestation, error) {
	cands := includable(tr, st, pool)
	if len(cands) == 0 {
		return nil, nil
	}
	batch := bls.NewBatch()
	picked, err := pickValid(tr, st, aggregate(cands), core.BatchSigs(batch))
	if err != nil {
		return nil, err
	}
	if batch.Verify() == nil {
		return picked, nil
	}
	var good []*candidate
	for _, c := range cands {
		ia, err := tr.IndexedAttestation(st, c.att)
		if err == nil && tr.IsValidIndexedAttestation(st, ia, core.VerifySigs) == nil {
			good = append(good, c)
		}
	}
	return pickValid(tr, st, aggregate(good), core.VerifySigs)
}

// includable returns the pool attestations whose slot allows inclusion at
// st.Slot, with well-formed bits and at least one attester, without exact
// duplicates, in pool order.
func includable(tr *core.Transition, st *types.BeaconState, pool []*types.Attestation) []*candidate {
	cfg := tr.Config()
	cur, prev := tr.CurrentEpoch(st), tr.PreviousEpoch(st)
	var out []*candidate
	seen := make(map[types.Root]bool)
	for i, a := range pool {
		if a == nil || (a.Data.Target.Epoch != cur && a.Data.Target.Epoch != prev) {
			continue
		}
		n := bitlistLen(a.AggregationBits)
		if n <= 0 || bitlistLen(a.CustodyBits) != n || countBits(a.AggregationBits) == 0 {
			continue
		}
		slot, err := tr.AttestationDataSlot(st, &a.Data)
		if err != nil {
			continue
		}
		if !(uint64(slot)+cfg.MinAttestationInclusionDelay <= uint64(st.Slot) && uint64(st.Slot) <= uint64(slot)+cfg.SlotsPerEpoch) {
			continue
		}
		root, err := a.HashTreeRoot()
		if err != nil || seen[root] {
			continue
		}
		seen[root] = true
		out = append(out, &candidate{att: a, slot: slot, order: i, bits: countBits(a.AggregationBits)})
	}
	return out
}

// rank sorts candidates best first: most attesters, then oldest (their
// inclusion window closes first and attesters are rewarded by
// 1/inclusion_delay), then pool order.
func rank(cs []*candidate) []*candidate {
	slices.SortStableFunc(cs, func(a, b *candidate) int {
		if c := cmp.Compare(b.bits, a.bits); c != 0 {
			return c
		}
		if c := cmp.Compare(a.slot, b.slot); c != 0 {
			return c
		}
		return cmp.Compare(a.order, b.order)
	})
	return cs
}

// aggregate merges candidates of equal data and disjoint aggregation bits
// (custody bits all zero) by OR-ing their bits and adding their signatures,
// and drops candidates whose attesters are a subset of another's. It returns
// the result ranked. Candidates are not modified; merged ones are new.
func aggregate(cs []*candidate) []*candidate {
	groups := make(map[types.AttestationData][]*candidate)
	var keys []types.AttestationData
	for _, c := range rank(slices.Clone(cs)) {
		d := c.att.Data
		if _, ok := groups[d]; !ok {
			keys = append(keys, d)
		}
		groups[d] = append(groups[d], c)
	}
	var out []*candidate
	for _, d := range keys {
		var aggs []*candidate
		for _, c := range groups[d] {
			if countBits(c.att.CustodyBits) != 0 {
				out = append(out, c) // left alone; process_attestation rejects it in phase 0
				continue
			}
			merged := false
			for k, g := range aggs {
				if bitlistLen(g.att.AggregationBits) != bitlistLen(c.att.AggregationBits) {
					continue
				}
				if subset(c.att.AggregationBits, g.att.AggregationBits) {
					merged = true
					break
				}
				if !disjoint(c.att.AggregationBits, g.att.AggregationBits) {
					continue
				}
				m, ok := merge(g, c)
				if !ok {
					break // c's signature does not decode: drop it
				}
				aggs[k] = m
				merged = true
				break
			}
			if !merged {
				aggs = append(aggs, c)
			}
		}
		out = append(out, aggs...)
	}
	return rank(out)
}

// merge returns the aggregate of g and c, or false if a signature does not
// decode.
func merge(g, c *candidate) (*candidate, bool) {
	gs, ok := decodeSig(g)
	if !ok {
		return nil, false
	}
	cs, ok := decodeSig(c)
	if !ok {
		return nil, false
	}
	sig := bls.AggregateSignatures([]*bls.Signature{gs, cs})
	bitsOr := slices.Clone(g.att.AggregationBits)
	for i := range bitsOr {
		bitsOr[i] |= c.att.AggregationBits[i]
	}
	a := &types.Attestation{
		AggregationBits: bitsOr,
		Data:            g.att.Data,
		CustodyBits:     slices.Clone(g.att.CustodyBits),
		Signature:       types.BLSSignature(sig.Bytes()),
	}
	return &candidate{att: a, slot: g.slot, order: min(g.order, c.order), bits: countBits(bitsOr), sig: sig}, true
}

func decodeSig(c *candidate) (*bls.Signature, bool) {
	if c.sig != nil {
		return c.sig, true
	}
	s, err := bls.SignatureFromBytes(c.att.Signature[:])
	if err != nil {
		return nil, false
	}
	c.sig = s
	return s, true
}

// subset reports whether every attester of a (same-length bitlists) is in b.
func subset(a, b []byte) bool {
	for i := range a {
		if a[i]&^b[i] != 0 {
			return false
		}
	}
	return true
}

// disjoint reports whether two bitlists of the same length share no
// attester (their delimiter, the top bit of the last byte, is shared).
func disjoint(a, b []byte) bool {
	last := len(a) - 1
	for i := range last {
		if a[i]&b[i] != 0 {
			return false
		}
	}
	delim := byte(1) << (bits.Len8(a[last]) - 1)
	return a[last]&b[last]&^delim == 0
}

// pickValid applies candidates in order to a scratch copy of st with
// process_attestation under sigs and returns those accepted, at most
// MAX_ATTESTATIONS. A rejected attestation leaves the scratch state to be
// discarded, so it is rebuilt from st and the accepted ones.
func pickValid(tr *core.Transition, st *types.BeaconState, cs []*candidate, sigs core.Sigs) ([]*types.Attestation, error) {
	maxAtts := int(tr.Config().MaxAttestations)
	scratch := st.Copy()
	var picked []*types.Attestation
	for _, c := range cs {
		if len(picked) == maxAtts {
			break
		}
		err := tr.ProcessAttestation(scratch, c.att, sigs)
		if err == nil {
			picked = append(picked, c.att)
			continue
		}
		if !errors.Is(err, core.ErrInvalid) {
			return nil, fmt.Errorf("check attestation: %w", err)
		}
		scratch = st.Copy()
		for _, a := range picked {
			if err := tr.ProcessAttestation(scratch, a, core.SkipSigs); err != nil {
				return nil, fmt.Errorf("re-apply attestation: %w", err)
			}
		}
	}
	return picked, nil
}
