package netsim

import (
	"fmt"

	"github.com/shardlab/shardlab/beacon/chain"
	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/slasher"
	"github.com/shardlab/shardlab/beacon/store/kv"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p"
)

// The simulated slasher: as beacon/node runs it, but on the event loop.
// Each node with Config.Slasher watches the blocks its chain imports and the
// gossip attestations its chain verified; a double proposal, double vote or
// surround vote becomes a ProposerSlashing or AttesterSlashing that the node
// adds to its pools (to include when it proposes) and gossips. Its records
// live in the node's database, so a restarted node keeps them.

// slasherPrefix is the key prefix of the slasher's records.
var slasherPrefix = []byte("slasher/")

// openSlasher starts node n's slasher on its chain (at creation and after
// a restart).
func (n *node) openSlasher() error {
	s := n.s
	if !s.cfg.Slasher {
		return nil
	}
	sl, err := slasher.New(kv.Prefix(n.db, slasherPrefix), s.pcfg, slasher.DefaultConfig())
	if err != nil {
		return fmt.Errorf("open node %d slasher: %w", n.index, err)
	}
	n.slasher = sl
	gen := n.gen
	n.chain.Subscribe(func(ev chain.Event) {
		if ev.Kind == chain.EventNewBlock {
			// Never inside the chain's import: on the loop, next.
			s.loop.schedule(s.loop.now, func() {
				if !n.down && n.gen == gen {
					n.slashBlock(ev.Root)
				}
			})
		}
	})
	return nil
}

// slashAttestation feeds a verified gossip attestation to the slasher.
func (n *node) slashAttestation(ia *types.IndexedAttestation) {
	if n.slasher == nil {
		return
	}
	gen := n.gen
	n.s.loop.schedule(n.s.loop.now, func() {
		if !n.down && n.gen == gen {
			n.slashAttestations([]*types.IndexedAttestation{ia}, 0)
		}
	})
}

// epoch is the node's current epoch by its clock.
func (n *node) epoch() types.Epoch {
	cur, _ := n.h.Slots().SlotAt(n.s.loop.now)
	return core.ComputeEpochOfSlot(n.s.pcfg, cur)
}

// slashBlock checks an imported block's proposal and its attestations.
func (n *node) slashBlock(root types.Root) {
	b, ok := n.chain.Block(root)
	st, ok2 := n.chain.StateAt(root)
	if !ok || !ok2 {
		return
	}
	if err := n.slasher.Advance(n.epoch(), uint64(len(st.Validators))); err != nil {
		n.log.Debug("slasher skipped block", "root", root, "err", err)
		return
	}
	hb, ok := b.(interface {
		Header() (types.BeaconBlockHeader, error)
	})
	if !ok {
		return
	}
	h, err := hb.Header()
	if err != nil {
		return
	}
	proposer, err := n.s.tr.BeaconProposerIndex(st) // the post-state is at the block's slot
	if err != nil {
		return
	}
	if ps, err := n.slasher.OnProposal(proposer, &h); err == nil && ps != nil {
		n.log.Info("slasher found double proposal", "slot", h.Slot, "validator", proposer)
		n.submitSlashing(p2p.ProposerSlashingTopic, ps, n.chain.AddProposerSlashing(ps))
	}
	body, _ := types.BlockBody(b)
	var atts []*types.IndexedAttestation
	for _, a := range body.Attestations {
		if ia, err := n.s.tr.IndexedAttestation(st, a); err == nil {
			atts = append(atts, ia)
		}
	}
	n.slashAttestations(atts, uint64(len(st.Validators)))
}

// slashAttestations runs the slasher on attestations.
func (n *node) slashAttestations(atts []*types.IndexedAttestation, validators uint64) {
	if len(atts) == 0 {
		return
	}
	if err := n.slasher.Advance(n.epoch(), validators); err != nil {
		n.log.Debug("slasher skipped attestations", "err", err)
		return
	}
	found, err := n.slasher.OnAttestations(atts)
	if err != nil {
		n.log.Debug("slasher skipped attestations", "err", err)
	}
	for _, as := range found {
		n.log.Info("slasher found attester offence", "validators", fmt.Sprint(slasher.SlashedIndices(as)))
		n.submitSlashing(p2p.AttesterSlashingTopic, as, n.chain.AddAttesterSlashing(as))
	}
}

// submitSlashing gossips a slashing the node's pool accepted.
func (n *node) submitSlashing(topic string, v interface{ MarshalSSZ() ([]byte, error) }, added error) {
	if added != nil {
		n.log.Debug("slashing not pooled", "topic", topic, "err", added)
		return
	}
	data, err := v.MarshalSSZ()
	if err != nil {
		return
	}
	n.s.stats.Slashings++
	n.s.publish(n.index, topic, data)
}
