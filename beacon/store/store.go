package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/store/kv"
	"github.com/shardlab/shardlab/beacon/types"
)

// Store is the beacon node's typed store on a kv.DB. See the package
// documentation for the key schema.
type Store struct {
	db    kv.DB
	cfg   *params.Config
	shape []uint64

	genesisMu sync.Mutex // serialises SaveGenesis's check-and-write
	spMu      sync.Mutex // serialises slashing protection's check-and-write
}

// shapeFields names the config values that determine how a stored state
// decodes, plus SLOTS_PER_EPOCH (slashing protection's epochs), GENESIS_SLOT
// (the slot index) and SHARD_FORK_EPOCH, which with the other two decides
// whether a stored block decodes as a BeaconBlock or a ShardBeaconBlock
// (types.ShardForkAtSlot).
var shapeFields = []string{
	"SLOTS_PER_HISTORICAL_ROOT", "EPOCHS_PER_HISTORICAL_VECTOR", "EPOCHS_PER_SLASHINGS_VECTOR",
	"SHARD_COUNT", "HISTORICAL_ROOTS_LIMIT", "VALIDATOR_REGISTRY_LIMIT", "MAX_ATTESTATIONS",
	"SLOTS_PER_ETH1_VOTING_PERIOD", "SLOTS_PER_EPOCH", "GENESIS_SLOT", "SHARD_FORK_EPOCH",
}

// shapeOf returns c's values of shapeFields. SHARD_FORK_EPOCH is
// FAR_FUTURE_EPOCH when the shard fork is disabled (params.ShardConfig.Enabled).
func shapeOf(c *params.Config) []uint64 {
	return []uint64{
		c.SlotsPerHistoricalRoot, c.EpochsPerHistoricalVector, c.EpochsPerSlashingsVector,
		c.ShardCount, c.HistoricalRootsLimit, c.ValidatorRegistryLimit, c.MaxAttestations,
		c.SlotsPerEth1VotingPeriod, c.SlotsPerEpoch, c.GenesisSlot, c.Shard.ForkEpoch,
	}
}

// shapeValue formats a shape value for an error message.
func shapeValue(v uint64) string {
	if v == params.FarFutureEpoch {
		return "FAR_FUTURE_EPOCH"
	}
	return strconv.FormatUint(v, 10)
}

func encodeU64s(v []uint64) []byte {
	out := make([]byte, 0, 8*len(v))
	for _, x := range v {
		out = binary.BigEndian.AppendUint64(out, x)
	}
	return out
}

// New opens the store on db with the chain config cfg (needed to decode
// states and blocks). An empty db is initialised with the current schema
// version; a db written by another schema version is ErrSchemaVersion, one
// written under a config with another shape (shapeFields) is
// ErrConfigMismatch.
func New(db kv.DB, cfg *params.Config) (*Store, error) {
	if db == nil || cfg == nil {
		return nil, fmt.Errorf("open store: %w: nil database or config", ErrInvalidArgument)
	}
	if cfg.SlotsPerEpoch == 0 {
		return nil, fmt.Errorf("open store: %w: SLOTS_PER_EPOCH is 0", ErrInvalidArgument)
	}
	s := &Store{db: db, cfg: cfg, shape: shapeOf(cfg)}
	if err := s.checkSchema(); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return s, nil
}

func (s *Store) checkSchema() error {
	v, err := s.db.Get(keySchema)
	if errors.Is(err, kv.ErrNotFound) {
		return s.initSchema()
	}
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if len(v) != 8 {
		return fmt.Errorf("read schema version: %w: %d bytes, want 8", ErrCorrupt, len(v))
	}
	if got := binary.BigEndian.Uint64(v); got != SchemaVersion {
		return fmt.Errorf("%w: database has schema version %d, this build reads version %d", ErrSchemaVersion, got, SchemaVersion)
	}
	shape, err := s.db.Get(keyShape)
	if err != nil {
		return fmt.Errorf("read config shape: %w", err)
	}
	if len(shape) != 8*len(s.shape) {
		return fmt.Errorf("read config shape: %w: %d bytes, want %d", ErrCorrupt, len(shape), 8*len(s.shape))
	}
	for i, want := range s.shape {
		if got := binary.BigEndian.Uint64(shape[8*i:]); got != want {
			return fmt.Errorf("%w: database was written with %s = %s, config %q has %s",
				ErrConfigMismatch, shapeFields[i], shapeValue(got), s.cfg.Name, shapeValue(want))
		}
	}
	return BindConsensus(s.db, keyConfig, s.cfg)
}

// BindConsensus checks the consensus config recorded under key in db
// against cfg (params.CheckConsensus), or records cfg's when db has none: on
// a fresh database, and on one written before records existed. A
// difference is an error wrapping ErrConfigMismatch and
// params.ErrConsensusMismatch that names every differing key. The shard
// node binds its shard database with it too.
func BindConsensus(db kv.DB, key []byte, cfg *params.Config) error {
	raw, err := db.Get(key)
	if errors.Is(err, kv.ErrNotFound) {
		if err := db.Put(key, cfg.Consensus().Encode()); err != nil {
			return fmt.Errorf("record consensus config: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("read consensus config: %w", err)
	}
	rec, err := params.DecodeConsensusRecord(raw)
	if err != nil {
		return fmt.Errorf("read consensus config: %w: %w", ErrCorrupt, err)
	}
	if err := params.CheckConsensus(rec, "the database", cfg, "the config"); err != nil {
		return fmt.Errorf("%w: %w", ErrConfigMismatch, err)
	}
	return nil
}

func (s *Store) initSchema() error {
	empty := true
	if err := s.db.Iterate(nil, func(_, _ []byte) (bool, error) {
		empty = false
		return false, nil
	}); err != nil {
		return fmt.Errorf("scan database: %w", err)
	}
	if !empty {
		return fmt.Errorf("%w: database has data but no schema version (not a beacon store?)", ErrSchemaVersion)
	}
	b := s.db.NewBatch()
	if err := b.Put(keySchema, binary.BigEndian.AppendUint64(nil, SchemaVersion)); err != nil {
		return fmt.Errorf("write schema version: %w", err)
	}
	if err := b.Put(keyShape, encodeU64s(s.shape)); err != nil {
		return fmt.Errorf("write config shape: %w", err)
	}
	if err := b.Put(keyConfig, s.cfg.Consensus().Encode()); err != nil {
		return fmt.Errorf("record consensus config: %w", err)
	}
	if err := b.Commit(); err != nil {
		return fmt.Errorf("write schema version: %w", err)
	}
	return nil
}

// Config returns the store's chain config.
func (s *Store) Config() *params.Config { return s.cfg }

// DB returns the database under the store.
func (s *Store) DB() kv.DB { return s.db }

// Update runs fn on a new Tx and commits its writes atomically and durably if
// fn returns nil. If fn returns an error nothing is written and that error is
// returned as is; if fn returns nil although a Tx method failed, nothing is
// written and that method's error is returned. The Tx must not be used after
// fn returns.
func (s *Store) Update(fn func(tx *Tx) error) error {
	tx := &Tx{s: s, b: s.db.NewBatch()}
	defer func() { tx.done = true }()
	if err := fn(tx); err != nil {
		tx.b.Reset()
		return err
	}
	if tx.err != nil { // a Tx method failed but fn dropped the error
		tx.b.Reset()
		return tx.err
	}
	if err := tx.b.Commit(); err != nil {
		return fmt.Errorf("commit update: %w", err)
	}
	return nil
}

// Tx collects the writes of one Update. Its methods return the same errors
// as the Store methods of the same names.
type Tx struct {
	s    *Store
	b    kv.Batch
	done bool
	err  error // the first error of a Tx method
}

func (tx *Tx) put(what string, key, value []byte) error {
	if tx.done {
		return fmt.Errorf("%s: %w", what, ErrTxDone)
	}
	if err := tx.b.Put(key, value); err != nil {
		return tx.fail(fmt.Errorf("%s: %w", what, err))
	}
	return nil
}

func (tx *Tx) del(what string, key []byte) error {
	if tx.done {
		return fmt.Errorf("%s: %w", what, ErrTxDone)
	}
	if err := tx.b.Delete(key); err != nil {
		return tx.fail(fmt.Errorf("%s: %w", what, err))
	}
	return nil
}

// fail records the first error of the Tx's methods, so that Update fails
// even if fn drops it, and returns err.
func (tx *Tx) fail(err error) error {
	if tx.err == nil {
		tx.err = err
	}
	return err
}

// SaveBlock stores b under its root, signing_root(b), and returns the root.
// b must be of the kind of its slot (types.ShardForkAtSlot): a
// *types.ShardBeaconBlock from SHARD_FORK_EPOCH on, a *types.BeaconBlock
// before; anything else is ErrInvalidArgument, since Block could not read it
// back.
func (tx *Tx) SaveBlock(b types.AnyBlock) (types.Root, error) {
	if err := tx.s.checkBlockKind(b); err != nil {
		return types.Root{}, tx.fail(fmt.Errorf("save block: %w", err))
	}
	root, err := b.SigningRoot()
	if err != nil {
		return types.Root{}, tx.fail(fmt.Errorf("save block: %w", err))
	}
	buf, err := b.MarshalSSZ()
	if err != nil {
		return types.Root{}, tx.fail(fmt.Errorf("encode block %s: %w", root, err))
	}
	return root, tx.put("save block", blockKey(root), buf)
}

// checkBlockKind checks that b is a non-nil block of its slot's kind.
func (s *Store) checkBlockKind(b types.AnyBlock) error {
	var shard bool
	switch v := b.(type) {
	case *types.BeaconBlock:
		if v == nil {
			return fmt.Errorf("%w: nil block", ErrInvalidArgument)
		}
	case *types.ShardBeaconBlock:
		if v == nil {
			return fmt.Errorf("%w: nil block", ErrInvalidArgument)
		}
		shard = true
	case nil:
		return fmt.Errorf("%w: nil block", ErrInvalidArgument)
	default:
		return fmt.Errorf("%w: unknown block type %T", ErrInvalidArgument, b)
	}
	if want := types.ShardForkAtSlot(s.cfg, b.GetSlot()); shard != want {
		return fmt.Errorf("%w: %T at slot %d, shard fork active: %v", ErrInvalidArgument, b, b.GetSlot(), want)
	}
	return nil
}

// DeleteBlock removes the block with the given root.
func (tx *Tx) DeleteBlock(root types.Root) error {
	return tx.del("delete block", blockKey(root))
}

// SetCanonical records root as the canonical block at slot. The store does
// not check that the block is stored.
func (tx *Tx) SetCanonical(slot types.Slot, root types.Root) error {
	return tx.put("set canonical", canonicalKey(slot), root[:])
}

// DeleteCanonical removes the canonical index entry at slot (after a reorg
// to a chain with no block there).
func (tx *Tx) DeleteCanonical(slot types.Slot) error {
	return tx.del("delete canonical", canonicalKey(slot))
}

// SaveState stores st, SSZ-encoded, as the post-state of the block root. st
// must be shaped by a config with the store's state shape.
func (tx *Tx) SaveState(root types.Root, st *types.BeaconState) error {
	if st == nil {
		return tx.fail(fmt.Errorf("save state: %w: nil state", ErrInvalidArgument))
	}
	if c := st.Config(); c != nil && c != tx.s.cfg && !slices.Equal(shapeOf(c), tx.s.shape) {
		return tx.fail(fmt.Errorf("save state %s: %w: state built for config %q, store uses %q", root, ErrConfigMismatch, c.Name, tx.s.cfg.Name))
	}
	buf, err := st.MarshalSSZ()
	if err != nil {
		return tx.fail(fmt.Errorf("encode state %s: %w", root, err))
	}
	return tx.put("save state", stateKey(root), buf)
}

// DeleteState removes the state stored for the block root.
func (tx *Tx) DeleteState(root types.Root) error {
	return tx.del("delete state", stateKey(root))
}

// SaveHead records the head block root.
func (tx *Tx) SaveHead(root types.Root) error {
	return tx.put("save head", keyHead, root[:])
}

// SaveJustified records the justified checkpoint.
func (tx *Tx) SaveJustified(cp types.Checkpoint) error {
	return tx.saveCheckpoint("save justified checkpoint", keyJustified, cp)
}

// SaveFinalized records the finalized checkpoint.
func (tx *Tx) SaveFinalized(cp types.Checkpoint) error {
	return tx.saveCheckpoint("save finalized checkpoint", keyFinalized, cp)
}

func (tx *Tx) saveCheckpoint(what string, key []byte, cp types.Checkpoint) error {
	buf, err := cp.MarshalSSZ()
	if err != nil {
		return tx.fail(fmt.Errorf("%s: %w", what, err))
	}
	return tx.put(what, key, buf)
}

// --- Single-write shorthands ---

// SaveBlock stores b and returns its root (see Tx.SaveBlock).
func (s *Store) SaveBlock(b types.AnyBlock) (root types.Root, err error) {
	err = s.Update(func(tx *Tx) error {
		root, err = tx.SaveBlock(b)
		return err
	})
	return root, err
}

// SetCanonical records root as the canonical block at slot.
func (s *Store) SetCanonical(slot types.Slot, root types.Root) error {
	return s.Update(func(tx *Tx) error { return tx.SetCanonical(slot, root) })
}

// SaveState stores st as the post-state of the block root.
func (s *Store) SaveState(root types.Root, st *types.BeaconState) error {
	return s.Update(func(tx *Tx) error { return tx.SaveState(root, st) })
}

// DeleteState removes the state stored for the block root.
func (s *Store) DeleteState(root types.Root) error {
	return s.Update(func(tx *Tx) error { return tx.DeleteState(root) })
}

// SaveHead records the head block root.
func (s *Store) SaveHead(root types.Root) error {
	return s.Update(func(tx *Tx) error { return tx.SaveHead(root) })
}

// SaveJustified records the justified checkpoint.
func (s *Store) SaveJustified(cp types.Checkpoint) error {
	return s.Update(func(tx *Tx) error { return tx.SaveJustified(cp) })
}

// SaveFinalized records the finalized checkpoint.
func (s *Store) SaveFinalized(cp types.Checkpoint) error {
	return s.Update(func(tx *Tx) error { return tx.SaveFinalized(cp) })
}

// --- Reads ---

// get reads key, wrapping errors with what.
func (s *Store) get(what string, key []byte) ([]byte, error) {
	v, err := s.db.Get(key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return v, nil
}

func (s *Store) has(what string, key []byte) (bool, error) {
	ok, err := s.db.Has(key)
	if err != nil {
		return false, fmt.Errorf("%s: %w", what, err)
	}
	return ok, nil
}

func (s *Store) getRoot(what string, key []byte) (types.Root, error) {
	v, err := s.get(what, key)
	if err != nil {
		return types.Root{}, err
	}
	return decodeRoot(what, v)
}

func decodeRoot(what string, v []byte) (types.Root, error) {
	if len(v) != 32 {
		return types.Root{}, fmt.Errorf("%s: %w: %d bytes, want 32", what, ErrCorrupt, len(v))
	}
	return types.Root(v), nil
}

// Block returns the block with the given root: a *types.BeaconBlock or a
// *types.ShardBeaconBlock, by the fork of its slot (types.DecodeBlock).
func (s *Store) Block(root types.Root) (types.AnyBlock, error) {
	what := "read block " + root.String()
	buf, err := s.get(what, blockKey(root))
	if err != nil {
		return nil, err
	}
	b, err := types.DecodeBlock(s.cfg, buf)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %w", what, ErrCorrupt, err)
	}
	return b, nil
}

// HasBlock reports whether the block with the given root is stored.
func (s *Store) HasBlock(root types.Root) (bool, error) {
	return s.has("check block "+root.String(), blockKey(root))
}

// CanonicalRoot returns the root of the canonical block at slot; a slot
// without one is ErrNotFound.
func (s *Store) CanonicalRoot(slot types.Slot) (types.Root, error) {
	return s.getRoot(fmt.Sprintf("read canonical root at slot %d", slot), canonicalKey(slot))
}

// CanonicalRange returns the roots of the canonical blocks at slots
// start, ..., start+count-1 that have one, in slot order (empty slots are
// skipped, as blocks-by-range answers). Its cost is proportional to the
// number of roots returned, not to count.
func (s *Store) CanonicalRange(start types.Slot, count uint64) ([]types.Root, error) {
	if count == 0 {
		return nil, nil
	}
	limit := kv.PrefixEnd(prefixCanonical)
	if end := uint64(start) + count; end > uint64(start) {
		limit = canonicalKey(types.Slot(end))
	}
	var out []types.Root
	err := s.db.IterateRange(canonicalKey(start), limit, func(k, v []byte) (bool, error) {
		if len(k) != len(prefixCanonical)+8 || !bytes.HasPrefix(k, prefixCanonical) {
			return false, fmt.Errorf("%w: canonical index key %x", ErrCorrupt, k)
		}
		r, err := decodeRoot(fmt.Sprintf("canonical root at slot %d", binary.BigEndian.Uint64(k[len(prefixCanonical):])), v)
		if err != nil {
			return false, err
		}
		out = append(out, r)
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("read canonical range [%d, +%d): %w", start, count, err)
	}
	return out, nil
}

// State returns the state stored for the block root.
func (s *Store) State(root types.Root) (*types.BeaconState, error) {
	what := "read state " + root.String()
	buf, err := s.get(what, stateKey(root))
	if err != nil {
		return nil, err
	}
	st, err := types.UnmarshalBeaconState(s.cfg, buf)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %w", what, ErrCorrupt, err)
	}
	return st, nil
}

// HasState reports whether a state is stored for the block root.
func (s *Store) HasState(root types.Root) (bool, error) {
	return s.has("check state "+root.String(), stateKey(root))
}

// Head returns the head block root.
func (s *Store) Head() (types.Root, error) {
	return s.getRoot("read head", keyHead)
}

// Justified returns the justified checkpoint.
func (s *Store) Justified() (types.Checkpoint, error) {
	return s.checkpoint("read justified checkpoint", keyJustified)
}

// Finalized returns the finalized checkpoint.
func (s *Store) Finalized() (types.Checkpoint, error) {
	return s.checkpoint("read finalized checkpoint", keyFinalized)
}

func (s *Store) checkpoint(what string, key []byte) (types.Checkpoint, error) {
	buf, err := s.get(what, key)
	if err != nil {
		return types.Checkpoint{}, err
	}
	var cp types.Checkpoint
	if err := types.Decode(&cp, buf); err != nil {
		return types.Checkpoint{}, fmt.Errorf("%s: %w: %w", what, ErrCorrupt, err)
	}
	return cp, nil
}

// --- Genesis ---

// GenesisBlock returns the genesis block of a genesis state:
// BeaconBlock(state_root=hash_tree_root(genesis)), as get_genesis_store
// builds it, with its root. It hashes st (building st's hash cache).
func GenesisBlock(st *types.BeaconState) (*types.BeaconBlock, types.Root, error) {
	stateRoot, err := st.HashTreeRoot()
	if err != nil {
		return nil, types.Root{}, fmt.Errorf("hash genesis state: %w", err)
	}
	b := &types.BeaconBlock{StateRoot: stateRoot} // every other field zero, as in the spec
	root, err := b.SigningRoot()
	if err != nil {
		return nil, types.Root{}, fmt.Errorf("hash genesis block: %w", err)
	}
	return b, root, nil
}

// SaveGenesis initialises a store with the genesis state st: it saves the
// genesis block (see GenesisBlock), the canonical index at GENESIS_SLOT, st
// as the genesis block's state, the genesis root, and sets the head to the
// genesis block and the justified and finalized checkpoints to
// (GENESIS_EPOCH, genesis root), all in one atomic write. It returns the
// genesis root.
//
// If the store already has a genesis, SaveGenesis writes nothing: it returns
// the root when st is the same genesis (a restart) and ErrGenesisMismatch
// otherwise.
func (s *Store) SaveGenesis(st *types.BeaconState) (types.Root, error) {
	if st == nil {
		return types.Root{}, fmt.Errorf("save genesis: %w: nil state", ErrInvalidArgument)
	}
	if uint64(st.Slot) != s.cfg.GenesisSlot {
		return types.Root{}, fmt.Errorf("save genesis: %w: state at slot %d, GENESIS_SLOT is %d", ErrInvalidArgument, st.Slot, s.cfg.GenesisSlot)
	}
	block, root, err := GenesisBlock(st)
	if err != nil {
		return types.Root{}, fmt.Errorf("save genesis: %w", err)
	}
	s.genesisMu.Lock()
	defer s.genesisMu.Unlock()
	have, err := s.GenesisRoot()
	switch {
	case err == nil && have == root:
		return root, nil
	case err == nil:
		return types.Root{}, fmt.Errorf("save genesis: %w: store has genesis %s, state has %s", ErrGenesisMismatch, have, root)
	case !errors.Is(err, ErrNotFound):
		return types.Root{}, fmt.Errorf("save genesis: %w", err)
	}
	cp := types.Checkpoint{Epoch: types.Epoch(s.cfg.GenesisEpoch()), Root: root}
	err = s.Update(func(tx *Tx) error {
		if _, err := tx.SaveBlock(block); err != nil {
			return err
		}
		if err := tx.SetCanonical(types.Slot(s.cfg.GenesisSlot), root); err != nil {
			return err
		}
		if err := tx.SaveState(root, st); err != nil {
			return err
		}
		if err := tx.put("save genesis root", keyGenesis, root[:]); err != nil {
			return err
		}
		if err := tx.SaveHead(root); err != nil {
			return err
		}
		if err := tx.SaveJustified(cp); err != nil {
			return err
		}
		return tx.SaveFinalized(cp)
	})
	if err != nil {
		return types.Root{}, fmt.Errorf("save genesis: %w", err)
	}
	return root, nil
}

// GenesisRoot returns the genesis block root.
func (s *Store) GenesisRoot() (types.Root, error) {
	return s.getRoot("read genesis root", keyGenesis)
}

// GenesisState returns the genesis state.
func (s *Store) GenesisState() (*types.BeaconState, error) {
	root, err := s.GenesisRoot()
	if err != nil {
		return nil, err
	}
	return s.State(root)
}
