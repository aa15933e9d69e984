package chain

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/forkchoice"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/store"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/bls"
)

// Service is the beacon chain of a node: the fork choice store, the
// persistent store and the operation pools, behind one lock. It is safe for
// concurrent use. See the package documentation for what is persisted when.
type Service struct {
	cfg   Config
	tr    *core.Transition
	pcfg  *params.Config
	store *store.Store
	log   *slog.Logger
	m     *metrics

	genesis     *types.BeaconState // never modified; copies are handed out
	genesisRoot types.Root
	genesisTime uint64

	mu        sync.Mutex
	fc        *forkchoice.Store
	head      types.Root
	headSlot  types.Slot
	justified types.Checkpoint
	finalized types.Checkpoint
	dirty     bool // votes arrived since the last head computation

	cpStates   map[types.Checkpoint]*types.BeaconState // attestation validation; never modified
	cpOrder    []types.Checkpoint
	pending    []*types.Attestation // valid, waiting for their slot to end
	pool       *attPool
	ops        *opPools
	fraudProof *fraudPool

	emitMu  sync.Mutex
	subsMu  sync.Mutex
	subs    map[int]func(Event)
	nextSub int
}

// New opens the chain on cfg.Store: an empty store is initialised with
// cfg.Genesis; a store with data is restored (see the package doc): its
// genesis must equal cfg.Genesis when that is given, and its canonical
// blocks are replayed through a fresh fork choice, so the head and
// finalized checkpoint are those persisted last.
func New(cfg Config) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	m, err := newMetrics(cfg.Registerer, cfg.VerifyCache)
	if err != nil {
		return nil, err
	}
	s := &Service{
		cfg:        cfg,
		tr:         cfg.Transition,
		pcfg:       cfg.Transition.Config(),
		store:      cfg.Store,
		log:        cfg.Logger.With("component", "chain"),
		m:          m,
		cpStates:   make(map[types.Checkpoint]*types.BeaconState),
		pool:       newAttPool(cfg.MaxPoolAttestations),
		ops:        newOpPools(cfg.MaxPoolOperations),
		fraudProof: newFraudPool(cfg.MaxPoolOperations),
		subs:       make(map[int]func(Event)),
	}
	if err := s.open(cfg.Genesis); err != nil {
		return nil, err
	}
	return s, nil
}

// VerifyCache returns the chain's cache of verified BLS signatures (the
// shard chains of a node share it).
func (s *Service) VerifyCache() *bls.VerifyCache { return s.cfg.VerifyCache }

// verifySigs is the policy for signatures from the network: verify them,
// through the chain's cache.
func (s *Service) verifySigs() core.Sigs {
	if s.cfg.SkipSignatures {
		return core.SkipSigs
	}
	return core.VerifySigs.WithCache(s.cfg.VerifyCache)
}

// open initialises or restores the chain.
func (s *Service) open(genesis *types.BeaconState) error {
	stored, err := s.store.GenesisRoot()
	switch {
	case errors.Is(err, store.ErrNotFound):
		if genesis == nil {
			return fmt.Errorf("open chain: %w: empty store and no genesis state", ErrInvalidConfig)
		}
		g := genesis.Copy()
		root, err := s.store.SaveGenesis(g)
		if err != nil {
			return fmt.Errorf("open chain: %w", err)
		}
		return s.init(g, root, false)
	case err != nil:
		return fmt.Errorf("open chain: %w", err)
	}
	if genesis != nil {
		_, root, err := store.GenesisBlock(genesis.Copy())
		if err != nil {
			return fmt.Errorf("open chain: %w", err)
		}
		if root != stored {
			return fmt.Errorf("open chain: %w: store has genesis %s, config has %s", ErrGenesisMismatch, stored, root)
		}
	}
	g, err := s.store.GenesisState()
	if err != nil {
		return fmt.Errorf("open chain: load genesis state: %w", err)
	}
	return s.init(g, stored, true)
}

// init builds the fork choice from genesis and, when restoring, replays
// the canonical chain.
func (s *Service) init(genesis *types.BeaconState, root types.Root, restore bool) error {
	fc, err := forkchoice.New(s.tr, genesis)
	if err != nil {
		return fmt.Errorf("open chain: %w", err)
	}
	if fc.GenesisRoot() != root {
		return fmt.Errorf("open chain: %w: fork choice genesis %s, store genesis %s", ErrGenesisMismatch, fc.GenesisRoot(), root)
	}
	s.genesis = genesis
	s.genesisRoot = root
	s.genesisTime = genesis.GenesisTime
	fc.UseStateCache(s.cfg.StateCache)
	s.fc = fc
	s.head, s.headSlot = root, types.Slot(s.pcfg.GenesisSlot)
	s.justified, s.finalized = fc.JustifiedCheckpoint(), fc.FinalizedCheckpoint()
	if restore {
		if err := s.replay(); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.updateMetricsLocked()
	s.mu.Unlock()
	return nil
}

// replay feeds the stored canonical chain, genesis excluded, to the fork
// choice, with signatures skipped (they were checked on import) and state
// roots checked. A block the store cannot read is an error (the store is
// damaged); a block the rules reject stops the replay there, with an error
// log that says which slots are gone: the chain then continues from the
// last good block and the node syncs the rest.
func (s *Service) replay() error {
	headRoot, err := s.store.Head()
	if err != nil {
		return fmt.Errorf("restore chain: %w", err)
	}
	headBlock, err := s.store.Block(headRoot)
	if err != nil {
		return fmt.Errorf("restore chain: head block: %w", err)
	}
	genesisSlot := types.Slot(s.pcfg.GenesisSlot)
	n := uint64(headBlock.GetSlot() - genesisSlot)
	var roots []types.Root
	if n > 0 {
		if roots, err = s.store.CanonicalRange(genesisSlot+1, n); err != nil {
			return fmt.Errorf("restore chain: %w", err)
		}
	}
	replayed := 0
	finalized := s.finalized
	lastGood := genesisSlot
	for i, r := range roots {
		b, err := s.store.Block(r)
		if err != nil {
			// A canonical block the store cannot read means damage that
			// may reach further (states, slashing protection): refuse.
			return fmt.Errorf("restore chain: read canonical block %s (stored head at slot %d): %w", r, headBlock.GetSlot(), err)
		}
		s.fc.OnTick(s.slotTime(b.GetSlot()))
		if err := s.fc.OnBlock(b, core.SkipSigs); err != nil {
			// The block reads but the rules reject it (the consensus
			// config is bound to the store, so this is not an edited
			// config): drop it and its descendants and sync them again.
			s.log.Error(fmt.Sprintf("store recovered to slot %d; slots %d..%d of the stored chain are gone (replay rejected block %s), syncing from peers",
				lastGood, lastGood+1, headBlock.GetSlot(), r), "root", r, "slot", b.GetSlot(), "err", err, "dropped_blocks", len(roots)-i)
			break
		}
		s.voteBlockAttestations(b)
		lastGood = b.GetSlot()
		if fin := s.fc.FinalizedCheckpoint(); fin != finalized {
			finalized = fin
			s.fc.Prune() // keep memory bounded while replaying a long chain
		}
		replayed++
	}
	// Start from what the store says and let updateHeadLocked reconcile it
	// with what was replayed (normally identical: nothing is written).
	s.head, s.headSlot = headRoot, headBlock.GetSlot()
	if s.justified, err = s.store.Justified(); err != nil {
		return fmt.Errorf("restore chain: %w", err)
	}
	if s.finalized, err = s.store.Finalized(); err != nil {
		return fmt.Errorf("restore chain: %w", err)
	}
	s.mu.Lock()
	_, err = s.updateHeadLocked(nil)
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("restore chain: %w", err)
	}
	if s.head != headRoot {
		s.log.Warn("restored head differs from the stored head", "root", s.head, "stored", headRoot)
	}
	s.log.Info("restored chain", "blocks", replayed, "slot", s.headSlot, "root", s.head,
		"finalized_epoch", s.finalized.Epoch, "justified_epoch", s.justified.Epoch)
	return nil
}

// slotTime is the Unix time at which slot starts.
func (s *Service) slotTime(slot types.Slot) uint64 {
	return s.genesisTime + uint64(slot)*s.pcfg.SecondsPerSlot
}

// voteBlockAttestations counts the attestations of an imported block in the
// fork choice (on_attestation for each; the state transition checked their
// signatures). Rejections (a target already pruned, a slot not yet over)
// are ignored: they only mean the vote does not count.
func (s *Service) voteBlockAttestations(b types.AnyBlock) {
	body, _ := types.BlockBody(b)
	for _, a := range body.Attestations {
		if err := s.fc.OnAttestation(a, core.SkipSigs); err == nil {
			s.dirty = true
		}
	}
}

// Config returns the chain config.
func (s *Service) Config() *params.Config { return s.pcfg }

// Transition returns the state transition.
func (s *Service) Transition() *core.Transition { return s.tr }

// Store returns the persistent store (for slashing protection and reads).
func (s *Service) Store() *store.Store { return s.store }

// GenesisTime returns the genesis time (Unix seconds).
func (s *Service) GenesisTime() uint64 { return s.genesisTime }

// GenesisRoot returns the genesis block root.
func (s *Service) GenesisRoot() types.Root { return s.genesisRoot }

// Genesis returns a copy of the genesis state.
func (s *Service) Genesis() *types.BeaconState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.genesis.Copy()
}

// Head returns the head block's root and slot.
func (s *Service) Head() (types.Root, types.Slot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.head, s.headSlot
}

// HeadState returns a copy of the head block's post-state, which the caller
// owns (it may modify and hash it).
func (s *Service) HeadState() *types.BeaconState {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, _ := s.fc.State(s.head)
	return st.Copy()
}

// HeadStateAt returns the head's root and its state advanced to slot (as
// it is when the head is at or past slot), for reading only: callers must
// not modify the state. Chains sharing a state cache (simulated nodes)
// share it, so that their duties advance the head once between them, not
// once per node; other chains get a private copy, as HeadState gives.
func (s *Service) HeadStateAt(slot types.Slot) (types.Root, *types.BeaconState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.StateCache != nil {
		st, err := s.fc.AdvancedState(s.head, slot)
		return s.head, st, err
	}
	st := s.headCopyLocked()
	if st.Slot < slot {
		if err := s.tr.ProcessSlots(st, slot); err != nil {
			return s.head, nil, fmt.Errorf("advance head state to slot %d: %w", slot, err)
		}
	}
	return s.head, st, nil
}

// Finalized returns the fork choice's finalized checkpoint.
func (s *Service) Finalized() types.Checkpoint {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.finalized
}

// Justified returns the fork choice's justified checkpoint.
func (s *Service) Justified() types.Checkpoint {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.justified
}

// Time returns the fork choice's time (Unix seconds, the last OnTick).
func (s *Service) Time() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fc.Time()
}

// Block returns the block with the given root: from the fork choice, or
// from the store for finalized history. The block must not be modified.
func (s *Service) Block(root types.Root) (types.AnyBlock, bool) {
	s.mu.Lock()
	b, ok := s.fc.Block(root)
	s.mu.Unlock()
	if ok {
		return b, true
	}
	b, err := s.store.Block(root)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.log.Warn("read block failed", "root", root, "err", err)
		}
		return nil, false
	}
	return b, true
}

// HasBlock reports whether the fork choice knows the block (it can be a
// parent of new blocks).
func (s *Service) HasBlock(root types.Root) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.fc.Block(root)
	return ok
}

// CanonicalBlock returns the canonical block at slot (none for an empty
// slot) with its root.
func (s *Service) CanonicalBlock(slot types.Slot) (types.AnyBlock, types.Root, bool) {
	root, err := s.store.CanonicalRoot(slot)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.log.Warn("read canonical index failed", "slot", slot, "err", err)
		}
		return nil, types.Root{}, false
	}
	b, ok := s.Block(root)
	if !ok {
		return nil, types.Root{}, false
	}
	return b, root, true
}

// CanonicalRange returns the roots of the canonical blocks at slots
// [start, start+count), empty slots skipped, in slot order.
func (s *Service) CanonicalRange(start types.Slot, count uint64) ([]types.Root, error) {
	roots, err := s.store.CanonicalRange(start, count)
	if err != nil {
		return nil, fmt.Errorf("read canonical range: %w", err)
	}
	return roots, nil
}

// StateAt returns a copy of the post-state of the block root, which the
// caller owns: from the fork choice (blocks since the finalized one), or
// from the store (the genesis and finalized states).
func (s *Service) StateAt(blockRoot types.Root) (*types.BeaconState, bool) {
	s.mu.Lock()
	st, ok := s.fc.State(blockRoot)
	if ok {
		st = st.Copy()
	}
	s.mu.Unlock()
	if ok {
		return st, true
	}
	st, err := s.store.State(blockRoot)
	if err != nil {
		return nil, false
	}
	return st, true
}

// updateMetricsLocked refreshes the head gauges. s.mu must be held.
func (s *Service) updateMetricsLocked() {
	st, ok := s.fc.State(s.head)
	if !ok {
		return
	}
	s.m.headSlot.Set(float64(s.headSlot))
	s.m.finalizedEpoch.Set(float64(st.FinalizedCheckpoint.Epoch))
	s.m.currentJustified.Set(float64(st.CurrentJustifiedCheckpoint.Epoch))
	s.m.previousJustified.Set(float64(st.PreviousJustifiedCheckpoint.Epoch))
	s.m.activeValidators.Set(float64(len(core.ActiveValidatorIndices(st, s.tr.CurrentEpoch(st)))))
	s.m.poolAttestations.Set(float64(s.pool.len()))
}
