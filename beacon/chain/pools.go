package chain

import (
	"crypto/sha256"
	"fmt"
	"slices"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
)

// attPool holds valid attestations for inclusion, deduplicated by root and
// indexed by data, bounded by dropping the oldest slots first. It is guarded
// by the Service's lock.
type attPool struct {
	max    int
	byRoot map[types.Root]*pooledAtt
	byData map[types.AttestationData][]*pooledAtt
}

type pooledAtt struct {
	root types.Root
	att  *types.Attestation
	slot types.Slot // get_attestation_data_slot
}

func newAttPool(max int) *attPool {
	return &attPool{max: max, byRoot: make(map[types.Root]*pooledAtt), byData: make(map[types.AttestationData][]*pooledAtt)}
}

func (p *attPool) len() int { return len(p.byRoot) }

func (p *attPool) seen(root types.Root) bool { _, ok := p.byRoot[root]; return ok }

func (p *attPool) add(root types.Root, a *types.Attestation, slot types.Slot) {
	if _, ok := p.byRoot[root]; ok {
		return
	}
	e := &pooledAtt{root: root, att: a, slot: slot}
	p.byRoot[root] = e
	p.byData[a.Data] = append(p.byData[a.Data], e)
	for len(p.byRoot) > p.max {
		p.dropOldest()
	}
}

func (p *attPool) remove(e *pooledAtt) {
	delete(p.byRoot, e.root)
	list := p.byData[e.att.Data]
	if i := slices.Index(list, e); i >= 0 {
		list = slices.Delete(list, i, i+1)
	}
	if len(list) == 0 {
		delete(p.byData, e.att.Data)
	} else {
		p.byData[e.att.Data] = list
	}
}

func (p *attPool) dropOldest() {
	var oldest *pooledAtt
	for _, e := range p.byRoot {
		if oldest == nil || e.slot < oldest.slot {
			oldest = e
		}
	}
	if oldest != nil {
		p.remove(oldest)
	}
}

// prune drops attestations no block at or after slot can include.
func (p *attPool) prune(slot types.Slot, cfg *params.Config) {
	for _, e := range p.byRoot {
		if uint64(e.slot)+cfg.SlotsPerEpoch < uint64(slot) {
			p.remove(e)
		}
	}
}

// removeIncluded drops pooled attestations whose attesters are all covered
// by an included attestation of the same data.
func (p *attPool) removeIncluded(included []*types.Attestation) {
	for _, in := range included {
		if in == nil {
			continue
		}
		for _, e := range slices.Clone(p.byData[in.Data]) {
			if bitsSubset(e.att.AggregationBits, in.AggregationBits) {
				p.remove(e)
			}
		}
	}
}

func (p *attPool) forBlock(slot types.Slot, cfg *params.Config) []*types.Attestation {
	var es []*pooledAtt
	for _, e := range p.byRoot {
		if uint64(e.slot)+cfg.MinAttestationInclusionDelay <= uint64(slot) && uint64(slot) <= uint64(e.slot)+cfg.SlotsPerEpoch {
			es = append(es, e)
		}
	}
	slices.SortFunc(es, func(a, b *pooledAtt) int {
		if a.slot != b.slot {
			return int(b.slot) - int(a.slot)
		}
		return slices.Compare(a.root[:], b.root[:])
	})
	out := make([]*types.Attestation, len(es))
	for i, e := range es {
		out[i] = e.att
	}
	return out
}

// bitsSubset reports whether bitlist a (same length as b) sets only bits b sets.
func bitsSubset(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i]&^b[i] != 0 {
			return false
		}
	}
	return true
}

// opPools hold voluntary exits and slashings, each validated against the
// head state on arrival. Guarded by the Service's lock.
type opPools struct {
	max               int
	exits             map[types.ValidatorIndex]*types.VoluntaryExit
	proposerSlashings map[types.ValidatorIndex]*types.ProposerSlashing
	attesterSlashings map[types.Root]*types.AttesterSlashing
}

func newOpPools(max int) *opPools {
	return &opPools{
		max:               max,
		exits:             make(map[types.ValidatorIndex]*types.VoluntaryExit),
		proposerSlashings: make(map[types.ValidatorIndex]*types.ProposerSlashing),
		attesterSlashings: make(map[types.Root]*types.AttesterSlashing),
	}
}

func (p *opPools) removeIncluded(body *types.BeaconBlockBody) {
	for _, e := range body.VoluntaryExits {
		if e != nil {
			delete(p.exits, e.ValidatorIndex)
		}
	}
	for _, ps := range body.ProposerSlashings {
		if ps != nil {
			delete(p.proposerSlashings, ps.ProposerIndex)
		}
	}
	for _, as := range body.AttesterSlashings {
		if as == nil {
			continue
		}
		if r, err := as.HashTreeRoot(); err == nil {
			delete(p.attesterSlashings, r)
		}
	}
}

// fraudPool holds encoded shard fraud proofs, keyed by their SHA-256, in
// arrival order. Guarded by the Service's lock.
type fraudPool struct {
	max    int
	proofs map[[32]byte][]byte
	order  [][32]byte
}

func newFraudPool(max int) *fraudPool {
	return &fraudPool{max: max, proofs: make(map[[32]byte][]byte)}
}

func (p *fraudPool) add(id [32]byte, proof []byte) {
	p.proofs[id] = proof
	p.order = append(p.order, id)
	for len(p.order) > p.max {
		p.remove(p.order[0])
	}
}

func (p *fraudPool) remove(id [32]byte) {
	delete(p.proofs, id)
	if i := slices.Index(p.order, id); i >= 0 {
		p.order = slices.Delete(p.order, i, i+1)
	}
}

func (p *fraudPool) removeIncluded(proofs [][]byte) {
	for _, pr := range proofs {
		p.remove(sha256.Sum256(pr))
	}
}

// headCopyLocked returns a copy of the head state. s.mu must be held.
func (s *Service) headCopyLocked() *types.BeaconState {
	st, _ := s.fc.State(s.head)
	return st.Copy()
}

// AddVoluntaryExit validates e against a copy of the head state
// (process_voluntary_exit, signature checked) and pools it. Errors:
// ErrDuplicate, or rejections wrapping core.ErrInvalid.
func (s *Service) AddVoluntaryExit(e *types.VoluntaryExit) error {
	if e == nil {
		return fmt.Errorf("add voluntary exit: %w: nil", core.ErrInvalidOperation)
	}
	s.mu.Lock()
	if _, ok := s.ops.exits[e.ValidatorIndex]; ok {
		s.mu.Unlock()
		return fmt.Errorf("add voluntary exit of validator %d: %w", e.ValidatorIndex, ErrDuplicate)
	}
	st := s.headCopyLocked()
	s.mu.Unlock()
	// process_voluntary_exit compares the exit's epoch with the state's:
	// advance the head state towards the clock (at most two epochs, so a
	// node far behind does not pay for a long walk).
	target := min(max(st.Slot, s.CurrentSlot()), st.Slot+types.Slot(2*s.pcfg.SlotsPerEpoch))
	if err := s.tr.ProcessSlots(st, target); err != nil {
		return fmt.Errorf("add voluntary exit: %w", err)
	}
	if err := s.tr.ProcessVoluntaryExit(st, e, s.verifySigs()); err != nil {
		return fmt.Errorf("add voluntary exit: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.ops.exits) >= s.ops.max {
		return fmt.Errorf("add voluntary exit: %w: pool full", ErrTooOld)
	}
	s.ops.exits[e.ValidatorIndex] = e
	return nil
}

// AddProposerSlashing validates ps against a copy of the head state
// (process_proposer_slashing, signatures checked) and pools it.
func (s *Service) AddProposerSlashing(ps *types.ProposerSlashing) error {
	if ps == nil {
		return fmt.Errorf("add proposer slashing: %w: nil", core.ErrInvalidOperation)
	}
	s.mu.Lock()
	if _, ok := s.ops.proposerSlashings[ps.ProposerIndex]; ok {
		s.mu.Unlock()
		return fmt.Errorf("add proposer slashing of validator %d: %w", ps.ProposerIndex, ErrDuplicate)
	}
	st := s.headCopyLocked()
	s.mu.Unlock()
	if err := s.tr.ProcessProposerSlashing(st, ps, s.verifySigs()); err != nil {
		return fmt.Errorf("add proposer slashing: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.ops.proposerSlashings) >= s.ops.max {
		return fmt.Errorf("add proposer slashing: %w: pool full", ErrTooOld)
	}
	s.ops.proposerSlashings[ps.ProposerIndex] = ps
	return nil
}

// AddAttesterSlashing validates as against a copy of the head state
// (process_attester_slashing, signatures checked) and pools it.
func (s *Service) AddAttesterSlashing(as *types.AttesterSlashing) error {
	if as == nil {
		return fmt.Errorf("add attester slashing: %w: nil", core.ErrInvalidOperation)
	}
	root, err := as.HashTreeRoot()
	if err != nil {
		return fmt.Errorf("add attester slashing: %w: %v", core.ErrInvalidOperation, err)
	}
	s.mu.Lock()
	if _, ok := s.ops.attesterSlashings[root]; ok {
		s.mu.Unlock()
		return fmt.Errorf("add attester slashing: %w", ErrDuplicate)
	}
	st := s.headCopyLocked()
	s.mu.Unlock()
	if err := s.tr.ProcessAttesterSlashing(st, as, s.verifySigs()); err != nil {
		return fmt.Errorf("add attester slashing: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.ops.attesterSlashings) >= s.ops.max {
		return fmt.Errorf("add attester slashing: %w: pool full", ErrTooOld)
	}
	s.ops.attesterSlashings[root] = as
	return nil
}

// Operations are the pooled operations a block may include.
type Operations struct {
	ProposerSlashings []*types.ProposerSlashing
	AttesterSlashings []*types.AttesterSlashing
	VoluntaryExits    []*types.VoluntaryExit
}

// Empty reports whether ops holds nothing.
func (o Operations) Empty() bool {
	return len(o.ProposerSlashings) == 0 && len(o.AttesterSlashings) == 0 && len(o.VoluntaryExits) == 0
}

// OperationsForBlock returns the pooled slashings and exits that still apply
// to st, the pre-state of a block processed to the block's slot (not
// modified), in process_operations order and within the block limits:
// each is applied, signatures skipped (checked on arrival), to a scratch copy
// after the ones before it, and kept if it succeeds. Operations that no
// longer apply are dropped from the pools.
func (s *Service) OperationsForBlock(st *types.BeaconState) Operations {
	s.mu.Lock()
	ps := sortedValues(s.ops.proposerSlashings)
	as := make([]*types.AttesterSlashing, 0, len(s.ops.attesterSlashings))
	for _, v := range s.ops.attesterSlashings {
		as = append(as, v)
	}
	ex := sortedValues(s.ops.exits)
	s.mu.Unlock()
	var out Operations
	if len(ps)+len(as)+len(ex) == 0 {
		return out
	}
	scratch := st.Copy()
	var stale []any
	apply := func(op any, fn func(*types.BeaconState) error) bool {
		trial := scratch.Copy()
		if err := fn(trial); err != nil {
			stale = append(stale, op)
			return false
		}
		scratch = trial
		return true
	}
	for _, p := range ps {
		if uint64(len(out.ProposerSlashings)) < s.pcfg.MaxProposerSlashings &&
			apply(p, func(t *types.BeaconState) error { return s.tr.ProcessProposerSlashing(t, p, core.SkipSigs) }) {
			out.ProposerSlashings = append(out.ProposerSlashings, p)
		}
	}
	for _, a := range as {
		if uint64(len(out.AttesterSlashings)) < s.pcfg.MaxAttesterSlashings &&
			apply(a, func(t *types.BeaconState) error { return s.tr.ProcessAttesterSlashing(t, a, core.SkipSigs) }) {
			out.AttesterSlashings = append(out.AttesterSlashings, a)
		}
	}
	for _, e := range ex {
		if uint64(len(out.VoluntaryExits)) < s.pcfg.MaxVoluntaryExits &&
			apply(e, func(t *types.BeaconState) error { return s.tr.ProcessVoluntaryExit(t, e, core.SkipSigs) }) {
			out.VoluntaryExits = append(out.VoluntaryExits, e)
		}
	}
	if len(stale) > 0 {
		s.mu.Lock()
		for _, op := range stale {
			switch v := op.(type) {
			case *types.ProposerSlashing:
				delete(s.ops.proposerSlashings, v.ProposerIndex)
			case *types.VoluntaryExit:
				delete(s.ops.exits, v.ValidatorIndex)
			case *types.AttesterSlashing:
				if r, err := v.HashTreeRoot(); err == nil {
					delete(s.ops.attesterSlashings, r)
				}
			}
		}
		s.mu.Unlock()
	}
	return out
}

func sortedValues[V any](m map[types.ValidatorIndex]V) []V {
	keys := make([]types.ValidatorIndex, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]V, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out
}

// AddFraudProof validates an encoded shard fraud proof against a copy of the
// head state advanced one slot (process_shard_fraud_proof as the next block
// would run it, signatures checked) and pools it.
// The proof is copied. Errors: ErrDuplicate, or rejections wrapping
// core.ErrInvalid.
func (s *Service) AddFraudProof(proof []byte) error {
	if len(proof) > params.MaxShardFraudProofBytes {
		return fmt.Errorf("add fraud proof: %w: %d bytes > %d", core.ErrInvalidOperation, len(proof), params.MaxShardFraudProofBytes)
	}
	id := sha256.Sum256(proof)
	s.mu.Lock()
	if _, ok := s.fraudProof.proofs[id]; ok {
		s.mu.Unlock()
		return fmt.Errorf("add fraud proof: %w", ErrDuplicate)
	}
	st := s.headCopyLocked()
	s.mu.Unlock()
	// Check it as the next block would process it: one slot after the head,
	// so that a proof may reference the head block (verify_shard_fraud_proof
	// needs its beacon reference before the state's slot).
	if err := s.tr.ProcessSlots(st, st.Slot+1); err != nil {
		return fmt.Errorf("add fraud proof: %w", err)
	}
	if err := s.tr.ProcessShardFraudProof(st, proof, s.verifySigs()); err != nil {
		return fmt.Errorf("add fraud proof: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fraudProof.add(id, slices.Clone(proof))
	return nil
}

// FraudProofsForBlock returns at most MAX_SHARD_FRAUD_PROOFS pooled fraud
// proofs that still apply, one after the other, to st (the pre-state of a
// block processed to its slot; not modified). Proofs that no longer apply
// (already processed, or invalid against this state) are dropped from the
// pool; included proofs are dropped when their block is imported.
func (s *Service) FraudProofsForBlock(st *types.BeaconState) [][]byte {
	s.mu.Lock()
	ids := slices.Clone(s.fraudProof.order)
	proofs := make([][]byte, len(ids))
	for i, id := range ids {
		proofs[i] = s.fraudProof.proofs[id]
	}
	s.mu.Unlock()
	if len(ids) == 0 {
		return nil
	}
	var out [][]byte
	var stale [][32]byte
	scratch := st.Copy()
	for i, p := range proofs {
		if len(out) == params.MaxShardFraudProofs {
			break
		}
		trial := scratch.Copy()
		if err := s.tr.ProcessShardFraudProof(trial, p, core.SkipSigs); err != nil {
			stale = append(stale, ids[i])
			continue
		}
		scratch = trial
		out = append(out, p)
	}
	if len(stale) > 0 {
		s.mu.Lock()
		for _, id := range stale {
			s.fraudProof.remove(id)
		}
		s.mu.Unlock()
	}
	return out
}
