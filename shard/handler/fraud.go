package handler

import (
	"crypto/sha256"
	"errors"
	"slices"
	"sync"

	bchain "github.com/shardlab/shardlab/beacon/chain"
	bcore "github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/bls"
	"github.com/shardlab/shardlab/p2p"
	"github.com/shardlab/shardlab/shard/chain"
	shardcore "github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// fisherman proves fraudulent shard blocks (docs/protocol.md §6.1): a first
// proof as soon as the block is found invalid; then, when beacon blocks
// include attestations whose crosslink lists the block, a second proof with
// them as evidence and, when that crosslink is on the shard's current
// crosslink chain, the rollback. A proof is handed to the beacon chain's pool
// and gossiped once the beacon head is past the block's beacon reference
// (before that the verifier, which runs against the head state, refuses
// it).
type fisherman struct {
	h *Handler

	mu     sync.Mutex
	jobs   []*proofJob
	proven map[bt.Root]*provenBlock
	order  []bt.Root
	seen   map[[32]byte]bool
	warned map[bt.Root]bool
}

// proofJob is a built proof waiting for submission.
type proofJob struct {
	data       []byte
	beaconSlot bt.Slot
	shard      bt.Shard
	kind       string
	attempts   int
}

// provenBlock is a block the node proved, with the crosslink evidence
// collected since.
type provenBlock struct {
	root      bt.Root
	ferr      *chain.FraudError
	crosslink *bt.Crosslink // the first crosslink seen listing the block
	headers   []bt.Root
	index     int
	evidence  []*st.CrosslinkEvidence
	lastEpoch bt.Epoch // epoch of the last beacon block adding evidence
	second    bool
	attSeen   map[bt.Root]bool
}

// maxProven bounds the proven blocks followed for evidence; maxAttempts
// the submissions of one proof.
const (
	maxProven   = 32
	maxAttempts = 4
)

func newFisherman(h *Handler) *fisherman {
	return &fisherman{h: h, proven: make(map[bt.Root]*provenBlock), seen: make(map[[32]byte]bool), warned: make(map[bt.Root]bool)}
}

// seenCount returns the number of distinct proofs seen (built here or
// included in beacon blocks).
func (f *fisherman) seenCount() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return uint64(len(f.seen))
}

// whistleblower returns a hosted validator that may sign a proof: in the
// beacon head state, not slashed and not one of exclude.
func (f *fisherman) whistleblower(exclude map[bt.ValidatorIndex]bool) (bt.ValidatorIndex, *bls.SecretKey, bool) {
	keys := f.h.keys
	if keys == nil {
		return 0, nil, false
	}
	state := f.h.bchain.HeadState()
	for i := range state.Validators {
		v := &state.Validators[i]
		if v.Slashed || exclude[bt.ValidatorIndex(i)] {
			continue
		}
		if sk, ok := keys.SecretKeyOf(v.Pubkey); ok {
			return bt.ValidatorIndex(i), sk, true
		}
	}
	return 0, nil, false
}

// prove builds the first proof of a fraudulent block and queues it.
func (f *fisherman) prove(ferr *chain.FraudError) {
	h := f.h
	if h.fishermanOff() {
		return
	}
	root, err := ferr.Block.SigningRoot()
	if err != nil || ferr.Pre == nil {
		return
	}
	f.mu.Lock()
	_, done := f.proven[root]
	f.mu.Unlock()
	if done {
		return
	}
	wb, sk, ok := f.whistleblower(map[bt.ValidatorIndex]bool{ferr.Block.ProposerIndex: true})
	if !ok {
		f.mu.Lock()
		warn := !f.warned[root]
		f.warned[root] = true
		f.mu.Unlock()
		if warn {
			h.log.Warn("fraud found but no hosted validator key to sign a proof", "shard", uint64(ferr.Block.Shard), "slot", ferr.Block.Slot, "root", root)
		}
		return
	}
	proof, err := h.verifier.BuildFraudProof(h.tr, ferr.Pre, &ferr.Parent, ferr.Block, &ferr.BeaconHeader, ferr.Beacon, shardcore.FraudEvidence{}, wb, sk)
	if err != nil {
		h.log.Warn("build fraud proof failed", "shard", uint64(ferr.Block.Shard), "slot", ferr.Block.Slot, "root", root, "err", err)
		return
	}
	data, err := proof.MarshalSSZ()
	if err != nil {
		return
	}
	f.mu.Lock()
	if _, done := f.proven[root]; done {
		f.mu.Unlock()
		return
	}
	f.proven[root] = &provenBlock{root: root, ferr: ferr, attSeen: make(map[bt.Root]bool)}
	f.order = append(f.order, root)
	if len(f.order) > maxProven {
		delete(f.proven, f.order[0])
		f.order = f.order[1:]
	}
	f.jobs = append(f.jobs, &proofJob{data: data, beaconSlot: ferr.BeaconHeader.Slot, shard: ferr.Block.Shard, kind: "proposer"})
	f.seen[sha256.Sum256(data)] = true
	f.mu.Unlock()
	h.cfg.Hooks.fraudBuilt()
	h.log.Info("built fraud proof", "shard", uint64(ferr.Block.Shard), "slot", ferr.Block.Slot, "root", root,
		"validator", uint64(ferr.Block.ProposerIndex), "whistleblower", uint64(wb), "bytes", len(data))
	f.flush()
}

// flush submits the queued proofs whose beacon reference the beacon head
// has passed: to the beacon chain's pool, then to the fraud proof topic.
func (f *fisherman) flush() {
	h := f.h
	_, headSlot := h.bchain.Head()
	f.mu.Lock()
	var ready, keep []*proofJob
	for _, j := range f.jobs {
		if headSlot > j.beaconSlot {
			ready = append(ready, j)
		} else {
			keep = append(keep, j)
		}
	}
	f.jobs = keep
	f.mu.Unlock()
	for _, j := range ready {
		err := h.bchain.AddFraudProof(j.data)
		if err != nil && !errors.Is(err, bchain.ErrDuplicate) {
			// Already applied, or the head's history lacks the referenced
			// beacon block (a reorg): try a few more times.
			j.attempts++
			if j.attempts < maxAttempts {
				f.mu.Lock()
				f.jobs = append(f.jobs, j)
				f.mu.Unlock()
			}
			h.log.Info("fraud proof not accepted by the beacon chain", "shard", uint64(j.shard), "kind", j.kind,
				"attempt", j.attempts, "err", err)
			continue
		}
		h.env.Publish(p2p.ShardFraudProofTopic, j.data)
		h.log.Info("submitted fraud proof", "shard", uint64(j.shard), "kind", j.kind)
	}
}

// onBeaconBlock looks at a new beacon block: the fraud proofs it includes
// (their blocks leave the shard chains) and the attestations whose
// crosslink lists a proven block (evidence for the second proof).
func (f *fisherman) onBeaconBlock(root bt.Root) {
	h := f.h
	b, ok := h.bchain.Block(root)
	if !ok {
		return
	}
	sb, ok := b.(*bt.ShardBeaconBlock)
	if !ok {
		return
	}
	for _, data := range sb.Body.ShardFraudProofs {
		id := sha256.Sum256(data)
		f.mu.Lock()
		fresh := !f.seen[id]
		f.seen[id] = true
		f.mu.Unlock()
		if !fresh {
			continue
		}
		var p st.ShardFraudProof
		if err := bt.Decode(&p, data); err != nil {
			continue
		}
		h.log.Info("fraud proof included in a beacon block", "slot", sb.Slot, "shard", uint64(p.Block.Shard),
			"validator", uint64(p.Block.ProposerIndex), "whistleblower", uint64(p.Whistleblower))
		if c, ok := h.chains[p.Block.Shard]; ok {
			if broot, err := p.Block.SigningRoot(); err == nil {
				c.MarkInvalid(broot)
			}
		}
	}
	f.mu.Lock()
	var open []*provenBlock
	for _, r := range f.order { // proof order, not map order
		if p := f.proven[r]; !p.second {
			open = append(open, p)
		}
	}
	f.mu.Unlock()
	if len(open) == 0 {
		return
	}
	var post *bt.BeaconState
	for _, a := range sb.Body.Attestations {
		cl := a.Data.Crosslink
		for _, p := range open {
			if p.ferr.Block.Shard != cl.Shard || (p.crosslink != nil && *p.crosslink != cl) || len(p.evidence) >= params.MaxFraudEvidence {
				continue
			}
			headers, idx, ok := h.chains[cl.Shard].InvalidInCrosslink(cl, p.root)
			if !ok {
				continue
			}
			if post == nil {
				if post, ok = h.bchain.StateAt(root); !ok {
					return
				}
			}
			ia, err := h.tr.IndexedAttestation(post, a)
			if err != nil {
				continue
			}
			key := sha256.Sum256(ia.Signature[:])
			if p.attSeen[key] {
				continue
			}
			branch, err := shardcore.HeaderProof(h.pcfg, headers, idx)
			if err != nil {
				continue
			}
			f.mu.Lock()
			p.attSeen[key] = true
			c := cl
			p.crosslink, p.headers, p.index = &c, headers, idx
			p.evidence = append(p.evidence, &st.CrosslinkEvidence{Attestation: *ia, HeaderIndex: uint64(idx), HeaderBranch: branch})
			p.lastEpoch = bcore.ComputeEpochOfSlot(h.pcfg, sb.Slot)
			f.mu.Unlock()
			h.log.Info("crosslink vote for a fraudulent block included", "slot", sb.Slot, "shard", uint64(cl.Shard),
				"attesters", len(ia.CustodyBit0Indices)+len(ia.CustodyBit1Indices))
		}
	}
}

// secondProofs builds, once the epoch that included the last evidence is
// over, the proof with the crosslink evidence and, if the crosslink is on
// the shard's current crosslink chain, the rollback.
func (f *fisherman) secondProofs(epoch bt.Epoch) {
	h := f.h
	// The epoch is over for the beacon state only once the head state is
	// past its transition (which writes the crosslink the evidence votes):
	// at the next epoch's first slot start the head is usually still the
	// last block of the epoch, and the rollback would not be found.
	epoch = min(epoch, bcore.ComputeEpochOfSlot(h.pcfg, h.bchain.HeadState().Slot))
	f.mu.Lock()
	var due []provenBlock       // snapshots: the event loop appends evidence under f.mu
	for _, r := range f.order { // proof order, not map order
		if p := f.proven[r]; !p.second && len(p.evidence) > 0 && epoch > p.lastEpoch {
			p.second = true
			snap := *p
			snap.evidence = slices.Clone(p.evidence)
			c := *p.crosslink
			snap.crosslink = &c
			due = append(due, snap)
		}
	}
	f.mu.Unlock()
	for _, p := range due {
		shard := p.ferr.Block.Shard
		ev := shardcore.FraudEvidence{Attestations: p.evidence}
		exclude := map[bt.ValidatorIndex]bool{p.ferr.Block.ProposerIndex: true}
		for _, e := range p.evidence {
			for _, l := range [][]uint64{e.Attestation.CustodyBit0Indices, e.Attestation.CustodyBit1Indices} {
				for _, v := range l {
					exclude[bt.ValidatorIndex(v)] = true
				}
			}
		}
		head := h.bchain.HeadState()
		links := h.chains[shard].CrosslinkChain(head.CurrentCrosslinks[shard], params.MaxCrosslinkChain)
		for k, l := range links {
			if l.Crosslink != *p.crosslink {
				continue
			}
			parent, ok := h.chains[shard].CrosslinkByRoot(p.crosslink.ParentRoot)
			if !ok && p.crosslink.ParentRoot == (&bt.Crosslink{}).TreeRoot() {
				parent, ok = bt.Crosslink{}, true
			}
			if !ok {
				break
			}
			rb := &st.CrosslinkRollback{Parent: parent, HeaderIndex: uint64(p.index), HeaderBranch: p.evidence[0].HeaderBranch}
			for i := k; i >= 0; i-- {
				c := links[i].Crosslink
				rb.Chain = append(rb.Chain, &c)
			}
			ev.Rollback = rb
			break
		}
		wb, sk, ok := f.whistleblower(exclude)
		if !ok {
			continue
		}
		proof, err := h.verifier.BuildFraudProof(h.tr, p.ferr.Pre, &p.ferr.Parent, p.ferr.Block, &p.ferr.BeaconHeader, p.ferr.Beacon, ev, wb, sk)
		if err != nil {
			h.log.Warn("build crosslink fraud proof failed", "shard", uint64(shard), "err", err)
			continue
		}
		data, err := proof.MarshalSSZ()
		if err != nil {
			continue
		}
		f.mu.Lock()
		f.jobs = append(f.jobs, &proofJob{data: data, beaconSlot: p.ferr.BeaconHeader.Slot, shard: shard, kind: "crosslinkers"})
		f.seen[sha256.Sum256(data)] = true
		f.mu.Unlock()
		h.cfg.Hooks.fraudBuilt()
		h.log.Info("built crosslink fraud proof", "shard", uint64(shard), "root", p.root, "evidence", len(p.evidence),
			"rollback", ev.Rollback != nil)
	}
}
