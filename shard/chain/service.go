package chain

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	bcore "github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/store/kv"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/bls"
	"github.com/shardlab/shardlab/crypto/sigcache"
	shardcore "github.com/shardlab/shardlab/shard/core"
	"github.com/shardlab/shardlab/shard/store"
	st "github.com/shardlab/shardlab/shard/types"
)

// blockRec is a valid block of the tree (or the genesis header).
type blockRec struct {
	root       bt.Root
	header     st.ShardBlockHeader
	block      *st.ShardBlock // nil for the genesis header
	receipts   []st.Receipt
	rtree      *st.ReceiptsTree // receipts' tree, built by the first ReceiptProof
	post       *st.ShardState   // never modified or hashed; nil once older than the anchor
	beaconSlot bt.Slot          // slot of the beacon reference
}

func (r *blockRec) slot() bt.Slot { return r.header.Slot }

// invalidRec is a block found invalid (Block nil when only the root is
// known, after a restart).
type invalidRec struct {
	root   bt.Root
	header st.ShardBlockHeader
	block  *st.ShardBlock
}

// Service is one shard's chain: see the package documentation.
type Service struct {
	cfg       Config
	tr        *bcore.Transition
	sigs      bcore.Sigs // verify, through cfg.VerifyCache
	pcfg      *params.Config
	shard     bt.Shard
	log       *slog.Logger
	store     *store.Store
	beacon    Beacon
	genesis   *blockRec // never removed
	emptyRoot bt.Root   // the data root of an empty header list

	mu           sync.Mutex
	blocks       map[bt.Root]*blockRec
	byStateRoot  map[bt.Root]bt.Root // post-state root -> block root, for blocks with a state
	invalid      map[bt.Root]*invalidRec
	invalidOrder []bt.Root
	fc           *shardcore.ForkChoice
	anchor       bt.Root
	head         bt.Root
	canon        map[bt.Slot]bt.Root // canonical chain over the blocks in memory
	links        map[bt.Root]*linkRec
	current      bt.Crosslink // the shard's current crosslink in the beacon head state
	haveCurrent  bool
	unmatched    map[bt.Root]bool // crosslinks already reported as unmatched
	served       map[bt.Root][]bt.Root
	servedOrder  []bt.Root
	txs          *txPool
	claims       *claimPool
	sent         map[bt.Shard]*sentLog
	dstInbox     map[bt.Shard]uint64 // destination inbox nonces for this shard, as known
}

// New opens the shard chain: a fresh store starts at the genesis header;
// a store with data is restored (see the package documentation).
func New(cfg Config) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RetainEpochs == 0 {
		cfg.RetainEpochs = DefaultConfig().RetainEpochs
	}
	if cfg.TxCache == nil {
		cfg.TxCache = sigcache.New(sigcache.DefaultEntries)
	}
	if cfg.VerifyCache == nil {
		cfg.VerifyCache = bls.NewVerifyCache(sigcache.DefaultEntries)
	}
	gstate := cfg.Genesis.Copy()
	gh, err := shardcore.GenesisHeader(gstate)
	if err != nil {
		return nil, fmt.Errorf("open shard %d: %w", cfg.Shard, err)
	}
	pcfg := cfg.Transition.Config()
	empty, err := shardcore.CrosslinkDataRoot(pcfg, nil)
	if err != nil {
		return nil, fmt.Errorf("open shard %d: %w", cfg.Shard, err)
	}
	s := &Service{
		cfg:         cfg,
		tr:          cfg.Transition,
		sigs:        bcore.VerifySigs.WithCache(cfg.VerifyCache),
		pcfg:        pcfg,
		shard:       cfg.Shard,
		log:         cfg.Logger.With("component", "shard_chain", "shard", uint64(cfg.Shard)),
		beacon:      cfg.Beacon,
		genesis:     &blockRec{root: gh.SigningRoot(), header: gh, post: gstate},
		emptyRoot:   empty,
		blocks:      make(map[bt.Root]*blockRec),
		byStateRoot: make(map[bt.Root]bt.Root),
		invalid:     make(map[bt.Root]*invalidRec),
		canon:       make(map[bt.Slot]bt.Root),
		links:       make(map[bt.Root]*linkRec),
		unmatched:   make(map[bt.Root]bool),
		served:      make(map[bt.Root][]bt.Root),
		txs:         newTxPool(cfg.MaxPoolTxs, cfg.MaxTxsPerAccount),
		claims:      newClaimPool(cfg.MaxPoolClaims),
		sent:        make(map[bt.Shard]*sentLog),
		dstInbox:    make(map[bt.Shard]uint64),
	}
	s.blocks[s.genesis.root] = s.genesis
	s.byStateRoot[gh.StateRoot] = s.genesis.root
	var fresh bool
	if s.store, fresh, err = store.Open(cfg.DB, cfg.Shard, gh); err != nil {
		return nil, err
	}
	s.addLinkLocked(bt.Crosslink{}) // the genesis crosslink, parent of the first
	if fresh {
		s.anchor = s.genesis.root
		s.fc = shardcore.NewForkChoice(gh)
		s.head = s.genesis.root
		s.canon[gh.Slot] = s.genesis.root
		b := s.store.NewBatch()
		b.SetAnchor(s.anchor)
		b.SetHead(s.head)
		b.SetCanonical(gh.Slot, s.genesis.root)
		if err := b.Commit(); err != nil {
			return nil, fmt.Errorf("open shard %d: %w", cfg.Shard, err)
		}
		return s, nil
	}
	if err := s.restore(); err != nil {
		return nil, fmt.Errorf("restore shard %d: %w", cfg.Shard, err)
	}
	return s, nil
}

// restore rebuilds the tree from the store: the anchor and the blocks
// after it with their states, the anchor's ancestors of the retained
// window, the crosslink records and the invalid roots.
func (s *Service) restore() error {
	anchor, err := s.store.Anchor()
	if err != nil {
		return err
	}
	load := func(root bt.Root, withState bool) (*blockRec, error) {
		if root == s.genesis.root {
			return s.genesis, nil
		}
		blk, receipts, err := s.store.Block(root)
		if err != nil {
			return nil, err
		}
		h, err := blk.Header()
		if err != nil {
			return nil, err
		}
		rec := &blockRec{root: root, header: h, block: blk, receipts: receipts}
		if b, ok := s.beacon.Block(blk.BeaconBlockRoot); ok {
			rec.beaconSlot = b.GetSlot()
		}
		if withState {
			if rec.post, err = s.store.State(root); err != nil {
				return nil, err
			}
		}
		return rec, nil
	}
	roots, err := s.store.StateRoots()
	if err != nil {
		return err
	}
	if !slices.Contains(roots, anchor) {
		roots = append(roots, anchor)
	}
	for _, root := range roots {
		rec, err := load(root, true)
		if err != nil {
			return err
		}
		s.putLocked(rec)
	}
	ar, ok := s.blocks[anchor]
	if !ok {
		return fmt.Errorf("anchor %s not stored", anchor)
	}
	horizon := s.horizon(ar.slot())
	for p := ar.header.ParentRoot; ar != s.genesis; {
		if _, ok := s.blocks[p]; ok {
			break // the genesis header at the latest
		}
		rec, err := load(p, false)
		if err != nil {
			s.log.Warn("restore: ancestor of the anchor missing", "root", p, "err", err)
			break
		}
		if rec.slot() < horizon {
			break
		}
		s.putLocked(rec)
		p = rec.header.ParentRoot
	}
	recs, err := s.store.Crosslinks()
	if err != nil {
		return err
	}
	for _, r := range recs {
		l := s.addLinkLocked(r.Crosslink)
		l.resolved, l.headers = r.Resolved, r.Headers
	}
	inv, err := s.store.Invalid()
	if err != nil {
		return err
	}
	for _, root := range inv {
		s.noteInvalidLocked(&invalidRec{root: root})
	}
	s.anchor = anchor
	s.rebuildLocked(anchor)
	b := s.store.NewBatch()
	s.updateHeadLocked(b, true)
	if err := b.Commit(); err != nil {
		return err
	}
	h := s.blocks[s.head]
	s.log.Info("restored shard chain", "slot", h.slot(), "root", s.head, "anchor", anchor, "blocks", len(s.blocks))
	return nil
}

// horizon is the oldest slot of the blocks kept in memory before an anchor
// at anchorSlot.
func (s *Service) horizon(anchorSlot bt.Slot) bt.Slot {
	back := bt.Slot(s.cfg.RetainEpochs * s.pcfg.SlotsPerEpoch)
	if anchorSlot < back {
		return 0
	}
	return anchorSlot - back
}

func (s *Service) putLocked(rec *blockRec) {
	s.blocks[rec.root] = rec
	if rec.post != nil {
		s.byStateRoot[rec.header.StateRoot] = rec.root
	}
}

// Shard returns the shard the service follows.
func (s *Service) Shard() bt.Shard { return s.shard }

// Config returns the chain config.
func (s *Service) Config() *params.Config { return s.pcfg }

// GenesisHeader returns the shard's genesis header.
func (s *Service) GenesisHeader() st.ShardBlockHeader { return s.genesis.header }

// Head is a shard chain's head.
type Head struct {
	Root   bt.Root
	Header st.ShardBlockHeader
	// BeaconSlot is the slot of the head block's beacon reference.
	BeaconSlot bt.Slot
}

// Head returns the head of the fork choice.
func (s *Service) Head() Head {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.blocks[s.head]
	return Head{Root: h.root, Header: h.header, BeaconSlot: h.beaconSlot}
}

// HeadState returns a copy of the head's post-state.
func (s *Service) HeadState() *st.ShardState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.headStateLocked().Copy()
}

// headStateLocked returns the head's post-state (shared: not to be
// modified or hashed).
func (s *Service) headStateLocked() *st.ShardState {
	if h := s.blocks[s.head]; h.post != nil {
		return h.post
	}
	return s.genesis.post // unreachable: the head always has a state
}

// Anchor returns the root the fork choice is rooted at.
func (s *Service) Anchor() bt.Root {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.anchor
}

// Header returns the header of a block in memory.
func (s *Service) Header(root bt.Root) (st.ShardBlockHeader, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.blocks[root]; ok {
		return r.header, true
	}
	return st.ShardBlockHeader{}, false
}

// Block returns a valid block (from memory or the store) with its
// receipts. The genesis header has no block.
func (s *Service) Block(root bt.Root) (*st.ShardBlock, []st.Receipt, bool) {
	s.mu.Lock()
	r, ok := s.blocks[root]
	s.mu.Unlock()
	if ok {
		if r.block == nil {
			return nil, nil, false
		}
		return r.block, r.receipts, true
	}
	b, receipts, err := s.store.Block(root)
	if err != nil {
		if !errors.Is(err, kv.ErrNotFound) {
			s.log.Warn("read block failed", "root", root, "err", err)
		}
		return nil, nil, false
	}
	return b, receipts, true
}

// HasBlock reports whether a valid block is in memory.
func (s *Service) HasBlock(root bt.Root) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.blocks[root]
	return ok
}

// IsInvalid reports whether a block was found invalid.
func (s *Service) IsInvalid(root bt.Root) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.invalid[root]
	return ok
}

// PostState returns a copy of a block's post-state, if still held.
func (s *Service) PostState(root bt.Root) (*st.ShardState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.blocks[root]
	if !ok || r.post == nil {
		return nil, false
	}
	return r.post.Copy(), true
}

// StateByRoot returns a copy of the held post-state with the given state
// root.
func (s *Service) StateByRoot(stateRoot bt.Root) (*st.ShardState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	root, ok := s.byStateRoot[stateRoot]
	if !ok {
		return nil, false
	}
	r := s.blocks[root]
	if r == nil || r.post == nil {
		return nil, false
	}
	return r.post.Copy(), true
}

// Account returns account j of the head state, or of the held state with
// the given root.
func (s *Service) Account(j uint64, stateRoot *bt.Root) (st.Account, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	state := s.headStateLocked()
	if stateRoot != nil {
		root, ok := s.byStateRoot[*stateRoot]
		if !ok || s.blocks[root] == nil || s.blocks[root].post == nil {
			return st.Account{}, false
		}
		state = s.blocks[root].post
	}
	if j >= uint64(len(state.Accounts)) {
		return st.Account{}, false
	}
	return state.Accounts[j], true
}

// CanonicalRoot returns the root of the canonical block at exactly slot
// (the genesis header at GENESIS_SLOT).
func (s *Service) CanonicalRoot(slot bt.Slot) (bt.Root, bool) {
	s.mu.Lock()
	head := s.blocks[s.head]
	if slot > head.slot() {
		s.mu.Unlock()
		return bt.Root{}, false
	}
	if r, ok := s.canon[slot]; ok {
		s.mu.Unlock()
		return r, true
	}
	oldest := head.slot()
	for sl := range s.canon {
		oldest = min(oldest, sl)
	}
	s.mu.Unlock()
	if slot >= oldest {
		return bt.Root{}, false // an empty slot of the window
	}
	r, err := s.store.Canonical(slot)
	if err != nil {
		return bt.Root{}, false
	}
	return r, true
}

// CanonicalRange returns the canonical blocks with slots in [start,
// start+count), in slot order.
func (s *Service) CanonicalRange(start bt.Slot, count uint64) []*st.ShardBlock {
	var out []*st.ShardBlock
	for i := range count {
		root, ok := s.CanonicalRoot(start + bt.Slot(i))
		if !ok {
			continue
		}
		if b, _, ok := s.Block(root); ok {
			out = append(out, b)
		}
	}
	return out
}

// Stats are a shard's totals.
type Stats struct {
	HeadSlot     bt.Slot
	Blocks       int // valid blocks in memory
	Transactions uint64
	// ReceiptsSent counts the receipts of the canonical chain, and
	// ReceiptsClaimed those a destination is known to have claimed.
	ReceiptsSent, ReceiptsClaimed uint64
	// ReceiptsReceived counts the receipts other shards sent that the
	// canonical chain has claimed (the head state's inbox nonces).
	ReceiptsReceived    uint64
	PoolTxs, PoolClaims int
	Invalid             int
}

// Stats returns the shard's totals: transactions and receipts from the head
// state's nonces (each transaction bumps its sender's nonce; each receipt
// its destination's outbox nonce).
func (s *Service) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	state := s.headStateLocked()
	out := Stats{HeadSlot: s.blocks[s.head].slot(), Blocks: len(s.blocks), PoolTxs: s.txs.len(), PoolClaims: s.claims.len(), Invalid: len(s.invalid)}
	for i := range state.Accounts {
		out.Transactions += state.Accounts[i].Nonce
	}
	for dst, n := range state.OutboxNonces {
		out.ReceiptsSent += n
		out.ReceiptsClaimed += min(n, s.dstInbox[bt.Shard(dst)])
	}
	for _, n := range state.InboxNonces {
		out.ReceiptsReceived += n
	}
	return out
}
