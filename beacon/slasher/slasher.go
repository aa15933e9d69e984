package slasher

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/store/kv"
	"github.com/shardlab/shardlab/beacon/types"
)

// MaxHistoryEpochs bounds Config.HistoryEpochs: spans are stored as uint16
// distances, which must stay below noMinSpan.
const MaxHistoryEpochs = 65000

// Config configures a Slasher.
type Config struct {
	// HistoryEpochs is the window: attestations and proposals of the last
	// HistoryEpochs epochs before the current one are kept and checked
	// against; older ones are pruned and input older than the window is
	// refused (ErrOutOfWindow).
	HistoryEpochs uint64
	// MaxCachedChunks bounds the span chunks kept in memory between calls
	// (each holds ChunkEpochs × ChunkValidators uint16 values, 512 bytes).
	MaxCachedChunks int
}

// DefaultConfig returns a window of 4096 epochs (about 18 days of mainnet
// epochs, Lighthouse's default) and a 2 MiB chunk cache.
func DefaultConfig() Config {
	return Config{HistoryEpochs: 4096, MaxCachedChunks: 4096}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.HistoryEpochs == 0 || c.HistoryEpochs > MaxHistoryEpochs {
		return fmt.Errorf("%w: history of %d epochs (want 1 to %d)", ErrInvalidConfig, c.HistoryEpochs, MaxHistoryEpochs)
	}
	if c.MaxCachedChunks <= 0 {
		return fmt.Errorf("%w: chunk cache of %d chunks", ErrInvalidConfig, c.MaxCachedChunks)
	}
	return nil
}

// Slasher records the attestations and proposals it is given and returns
// the slashings they make possible. Its methods are safe for concurrent
// use; they serialise on one mutex.
type Slasher struct {
	cfg  Config
	pcfg *params.Config
	db   kv.DB

	mu         sync.Mutex
	current    types.Epoch // the latest epoch given to Advance
	validators uint64      // the largest validator count given to Advance
	cache      map[chunkID]*chunk
	pending    map[string][]byte // writes of the running call, read before db
}

// New opens a slasher on db (which it uses alone: give it its own database
// or a kv.Prefix view) and restores the epoch and validator count of the
// last Advance. Closing db is the caller's business.
func New(db kv.DB, pcfg *params.Config, cfg Config) (*Slasher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if db == nil || pcfg == nil {
		return nil, fmt.Errorf("%w: no database or chain config", ErrInvalidConfig)
	}
	s := &Slasher{cfg: cfg, pcfg: pcfg, db: db, cache: make(map[chunkID]*chunk), pending: make(map[string][]byte)}
	v, err := db.Get(keyMeta)
	switch {
	case errors.Is(err, kv.ErrNotFound):
	case err != nil:
		return nil, fmt.Errorf("open slasher: %w", err)
	case len(v) != 16:
		return nil, fmt.Errorf("open slasher: %w: meta record of %d bytes", kv.ErrCorrupt, len(v))
	default:
		s.current = types.Epoch(binary.BigEndian.Uint64(v))
		s.validators = binary.BigEndian.Uint64(v[8:])
	}
	return s, nil
}

// Epoch returns the current epoch (the latest given to Advance).
func (s *Slasher) Epoch() types.Epoch {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current
}

// Advance moves the slasher to the current epoch (it never goes back) and
// raises the known validator count, then prunes what fell out of the
// window. Call it as the clock moves, before handing in messages of the new
// epoch.
func (s *Slasher) Advance(current types.Epoch, validators uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if current <= s.current && validators <= s.validators {
		return nil
	}
	oldLowest := s.lowest()
	s.current = max(s.current, current)
	s.validators = max(s.validators, validators)
	meta := binary.BigEndian.AppendUint64(nil, uint64(s.current))
	s.put(keyMeta, binary.BigEndian.AppendUint64(meta, s.validators))
	if low := s.lowest(); low > oldLowest {
		if err := s.pruneLocked(low); err != nil {
			s.discardLocked()
			return fmt.Errorf("advance slasher to epoch %d: %w", current, err)
		}
	}
	if err := s.flushLocked(); err != nil {
		return fmt.Errorf("advance slasher to epoch %d: %w", current, err)
	}
	return nil
}

// lowest is the first epoch of the window. s.mu must be held.
func (s *Slasher) lowest() types.Epoch {
	if uint64(s.current) <= s.cfg.HistoryEpochs {
		return 0
	}
	return s.current - types.Epoch(s.cfg.HistoryEpochs)
}

// checkEpoch refuses an epoch outside [lowest, current+1]. s.mu must be held.
func (s *Slasher) checkEpoch(what string, e types.Epoch) error {
	if e < s.lowest() || e > s.current+1 {
		return fmt.Errorf("%w: %s epoch %d, window [%d, %d]", ErrOutOfWindow, what, e, s.lowest(), s.current+1)
	}
	return nil
}

// pruneLocked deletes the records before epoch low and the span chunks that
// lie wholly before it.
func (s *Slasher) pruneLocked(low types.Epoch) error {
	lowSlot := uint64(core.ComputeStartSlotOfEpoch(s.pcfg, low))
	lowChunk := uint64(low) / ChunkEpochs
	ranges := [][2][]byte{
		{prefixProposal, u64Key(prefixProposal, lowSlot)},
		{prefixVote, u64Key(prefixVote, uint64(low))},
		{prefixRecord, u64Key(prefixRecord, uint64(low))},
		{prefixMinSpan, u64Key(prefixMinSpan, lowChunk)},
		{prefixMaxSpan, u64Key(prefixMaxSpan, lowChunk)},
	}
	for _, r := range ranges {
		err := s.db.IterateRange(r[0], r[1], func(k, _ []byte) (bool, error) {
			s.pending[string(k)] = nil
			return true, nil
		})
		if err != nil {
			return fmt.Errorf("prune: %w", err)
		}
	}
	for id := range s.cache {
		if id.epochChunk < lowChunk {
			delete(s.cache, id)
		}
	}
	return nil
}

// get reads key, from the running call's writes first. A missing key is
// (nil, false, nil).
func (s *Slasher) get(key []byte) ([]byte, bool, error) {
	if v, ok := s.pending[string(key)]; ok {
		return v, v != nil, nil
	}
	v, err := s.db.Get(key)
	switch {
	case errors.Is(err, kv.ErrNotFound):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	}
	return v, true, nil
}

// put queues a write for the end of the running call.
func (s *Slasher) put(key, value []byte) { s.pending[string(key)] = value }

// flushLocked writes the queued writes and the dirty chunks in one batch,
// then trims the chunk cache to its bound. On error everything not written
// is dropped (the cache too), so memory and disk never disagree.
func (s *Slasher) flushLocked() error {
	b := s.db.NewBatch()
	var err error
	for k, v := range s.pending {
		if v == nil {
			err = errors.Join(err, b.Delete([]byte(k)))
		} else {
			err = errors.Join(err, b.Put([]byte(k), v))
		}
	}
	for id, c := range s.cache {
		if c.dirty {
			err = errors.Join(err, b.Put(id.key(), c.encode()))
		}
	}
	if err == nil {
		err = b.Commit()
	}
	if err != nil {
		b.Reset()
		s.discardLocked()
		return fmt.Errorf("write slasher records: %w", err)
	}
	clear(s.pending)
	for _, c := range s.cache {
		c.dirty = false
	}
	if len(s.cache) > s.cfg.MaxCachedChunks {
		clear(s.cache)
	}
	return nil
}

// discardLocked drops the unwritten work of a failed call.
func (s *Slasher) discardLocked() {
	clear(s.pending)
	clear(s.cache)
}

// reported reports whether a slashing of v was already built, and
// markReported records that one was.
func (s *Slasher) reported(v uint64) (bool, error) {
	_, ok, err := s.get(u64Key(prefixReported, v))
	return ok, err
}

func (s *Slasher) markReported(v uint64) { s.put(u64Key(prefixReported, v), []byte{1}) }

// Key layout (all integers big-endian so that keys sort by them):
//
//	m/meta                       current epoch ‖ validator count
//	p/<slot><proposer>           SSZ BeaconBlockHeader (signed) first seen
//	a/<target><validator>        data root ‖ record root of the first vote
//	r/<target><record root>      SSZ IndexedAttestation
//	n/<epoch chunk><val. chunk>  min spans, x/... max spans (chunk.encode)
//	d/<validator>                a slashing of the validator was built
var (
	keyMeta         = []byte("m/meta")
	prefixProposal  = []byte("p/")
	prefixVote      = []byte("a/")
	prefixRecord    = []byte("r/")
	prefixMinSpan   = []byte("n/")
	prefixMaxSpan   = []byte("x/")
	prefixReported  = []byte("d/")
	spanKindPrefix  = [2][]byte{prefixMinSpan, prefixMaxSpan}
	errCorruptValue = fmt.Errorf("%w: slasher value of the wrong size", kv.ErrCorrupt)
)

func u64Key(prefix []byte, n ...uint64) []byte {
	k := append(make([]byte, 0, len(prefix)+8*len(n)), prefix...)
	for _, x := range n {
		k = binary.BigEndian.AppendUint64(k, x)
	}
	return k
}
