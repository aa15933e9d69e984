package node

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shardlab/shardlab/beacon/chain"
	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/slasher"
	"github.com/shardlab/shardlab/beacon/store/kv"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p"
)

// SlasherConfig configures the node's slasher (see beacon/slasher and
// docs/slasher.md).
type SlasherConfig struct {
	// Enabled runs the slasher; DefaultConfig turns it on.
	Enabled bool
	// Config sizes the slasher's history window and chunk cache.
	slasher.Config
}

// slasherPrefix is the key prefix of the slasher's records in the node's
// database.
var slasherPrefix = []byte("slasher/")

// slasherQueue bounds the work waiting for the slasher; beyond it messages
// are dropped (and counted), never blocking gossip or imports.
const slasherQueue = 4096

// slasherJob is an imported block (by root) or a verified attestation.
type slasherJob struct {
	block types.Root
	att   *types.IndexedAttestation
}

// slasherService runs the slasher on the blocks the chain imports (gossip,
// sync, own proposals) and the gossip attestations it verified, and hands
// the slashings it finds to the chain's pools and the network.
type slasherService struct {
	s           *slasher.Slasher
	db          kv.DB
	jobs        chan slasherJob
	unsubscribe func()
	slashings   *prometheus.CounterVec
}

// openSlasher opens the slasher on its prefix of the node's database,
// subscribes it to imported blocks and starts its worker. A disabled slasher
// leaves n.slash nil.
func (n *Node) openSlasher() error {
	if !n.cfg.Slasher.Enabled {
		return nil
	}
	db := kv.Prefix(n.db, slasherPrefix)
	s, err := slasher.New(db, n.pcfg, n.cfg.Slasher.Config)
	if err != nil {
		return fmt.Errorf("open slasher: %w", err)
	}
	ss := &slasherService{s: s, db: db, jobs: make(chan slasherJob, slasherQueue),
		slashings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "beacon_slasher_slashings_total",
			Help: "Slashings built by the slasher, by kind (proposer, attester) and result (published, rejected by the head state, duplicate), and messages dropped on a full queue (kind dropped).",
		}, []string{"kind", "result"}),
	}
	if r := n.cfg.Registerer; r != nil {
		if err := r.Register(ss.slashings); err != nil {
			return fmt.Errorf("register slasher metrics: %w", err)
		}
	}
	// Attestations may arrive before the first block: start from the head's
	// validators.
	cur, _ := n.slots.CurrentSlot()
	if err := s.Advance(core.ComputeEpochOfSlot(n.pcfg, cur), uint64(len(n.chain.HeadState().Validators))); err != nil {
		return fmt.Errorf("open slasher: %w", err)
	}
	n.slash = ss
	ss.unsubscribe = n.chain.Subscribe(func(ev chain.Event) {
		if ev.Kind == chain.EventNewBlock {
			n.slasherEnqueue(slasherJob{block: ev.Root})
		}
	})
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		n.slasherLoop()
	}()
	return nil
}

// closeSlasher stops feeding the slasher (the worker ends with n.ctx) and
// closes its view of the database.
func (n *Node) closeSlasher() {
	if n.slash != nil {
		n.slash.unsubscribe()
		_ = n.slash.db.Close()
	}
}

// slasherEnqueue queues a job without blocking.
func (n *Node) slasherEnqueue(j slasherJob) {
	if n.slash == nil {
		return
	}
	select {
	case n.slash.jobs <- j:
	default:
		n.slash.slashings.WithLabelValues("dropped", "dropped").Inc()
	}
}

// slasherLoop processes the queued jobs, the attestations of a burst in
// one call, until the node closes.
func (n *Node) slasherLoop() {
	for {
		var batch []slasherJob
		select {
		case <-n.ctx.Done():
			return
		case j := <-n.slash.jobs:
			batch = append(batch, j)
		}
	drain:
		for len(batch) < slasherQueue {
			select {
			case j := <-n.slash.jobs:
				batch = append(batch, j)
			default:
				break drain
			}
		}
		n.slasherRun(batch)
	}
}

// slasherRun feeds a batch to the slasher: each block's signed header with
// its proposer and its attestations (indexed against its post-state, their
// signatures checked by the import), and the gossip attestations.
func (n *Node) slasherRun(batch []slasherJob) {
	cur, _ := n.slots.CurrentSlot()
	epoch := core.ComputeEpochOfSlot(n.pcfg, cur)
	var atts []*types.IndexedAttestation
	for _, j := range batch {
		if j.att != nil {
			atts = append(atts, j.att)
			continue
		}
		blkAtts, err := n.slasherBlock(epoch, j.block)
		if err != nil {
			n.log.Debug("slasher skipped block", "root", j.block, "err", err)
		}
		atts = append(atts, blkAtts...)
	}
	if len(atts) == 0 {
		return
	}
	if err := n.slash.s.Advance(epoch, 0); err != nil {
		n.log.Warn("slasher failed", "err", err)
		return
	}
	found, err := n.slash.s.OnAttestations(atts)
	if err != nil {
		n.log.Debug("slasher skipped attestations", "err", err)
	}
	for _, as := range found {
		n.log.Info("slasher found attester offence", "epoch", as.Attestation2.Data.Target.Epoch,
			"validators", fmt.Sprint(slasher.SlashedIndices(as)))
		n.slasherSubmit("attester", p2p.AttesterSlashingTopic, as, n.chain.AddAttesterSlashing(as))
	}
}

// slasherBlock checks a block's proposal and returns its attestations,
// indexed.
func (n *Node) slasherBlock(epoch types.Epoch, root types.Root) ([]*types.IndexedAttestation, error) {
	b, ok := n.chain.Block(root)
	st, ok2 := n.chain.StateAt(root)
	if !ok || !ok2 {
		return nil, errors.New("block or post-state gone")
	}
	if err := n.slash.s.Advance(epoch, uint64(len(st.Validators))); err != nil {
		return nil, err
	}
	hb, ok := b.(interface {
		Header() (types.BeaconBlockHeader, error)
	})
	if !ok {
		return nil, fmt.Errorf("block of type %T has no header", b)
	}
	h, err := hb.Header()
	if err != nil {
		return nil, err
	}
	// The post-state is at the block's slot: its proposer is the block's.
	proposer, err := n.tr.BeaconProposerIndex(st)
	if err != nil {
		return nil, err
	}
	ps, err := n.slash.s.OnProposal(proposer, &h)
	if err != nil {
		return nil, err
	}
	if ps != nil {
		n.log.Info("slasher found double proposal", "slot", h.Slot, "validators", fmt.Sprint(proposer))
		n.slasherSubmit("proposer", p2p.ProposerSlashingTopic, ps, n.chain.AddProposerSlashing(ps))
	}
	body, _ := types.BlockBody(b)
	out := make([]*types.IndexedAttestation, 0, len(body.Attestations))
	for _, a := range body.Attestations {
		ia, err := n.tr.IndexedAttestation(st, a)
		if err != nil {
			return out, err
		}
		out = append(out, ia)
	}
	return out, nil
}

// slasherSubmit publishes a slashing the chain accepted into its pool
// (process_*_slashing on a copy of the head state: added is its verdict).
func (n *Node) slasherSubmit(kind, topic string, v interface{ MarshalSSZ() ([]byte, error) }, added error) {
	switch {
	case errors.Is(added, chain.ErrDuplicate):
		n.slash.slashings.WithLabelValues(kind, "duplicate").Inc()
		return
	case added != nil:
		n.slash.slashings.WithLabelValues(kind, "rejected").Inc()
		n.log.Warn("slashing rejected by the head state", "topic", topic, "err", added)
		return
	}
	if err := n.publish(n.ctx, topic, v); err != nil {
		n.log.Warn("publish slashing failed", "topic", topic, "err", err)
	}
	n.slash.slashings.WithLabelValues(kind, "published").Inc()
}
