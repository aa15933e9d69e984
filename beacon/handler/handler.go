package handler

import (
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardlab/shardlab/beacon/chain"
	"github.com/shardlab/shardlab/beacon/clock"
	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/store"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
)

// SyncConfig tunes the sync and status exchange.
type SyncConfig struct {
	// BatchSize is the number of slots asked for in one blocks-by-range
	// request.
	BatchSize uint64
	// StatusInterval is how often (in slots) statuses are exchanged with
	// every peer.
	StatusInterval uint64
	// MaxParentFetch bounds how many ancestors of a gossip block with an
	// unknown parent are fetched by root before leaving it to range sync.
	MaxParentFetch int
	// RequestTimeout bounds one request to a peer (the host enforces it).
	RequestTimeout time.Duration
}

// CrosslinkSource gives an attester the data root to vote for crosslink c
// in the shard fork (c.DataRoot is zero on input) by calling done once,
// possibly later (through the host, serialised like every Handler call).
type CrosslinkSource func(c types.Crosslink, done func(types.Root, error))

// Config configures a Handler.
type Config struct {
	// Chain is the node's chain service (required).
	Chain *chain.Service
	// Keys are the hosted validator keys; nil: no duties.
	Keys *validator.Keys
	// Graffiti is put in proposed blocks.
	Graffiti types.Root
	// Sync tunes sync and status exchange.
	Sync SyncConfig
	// CrosslinkData gives attesters crosslink data roots; nil asks the
	// peers that serve the shard and takes the majority (RemoteDataRoot).
	CrosslinkData CrosslinkSource
	// CrosslinkDataTimeout bounds one data-root lookup (and at most a sixth
	// of a slot).
	CrosslinkDataTimeout time.Duration
	// ServeCrosslinkData, when set, answers CrosslinkDataRootProtocol
	// requests for ServedShards, which the status announces.
	ServeCrosslinkData func(c types.Crosslink) (types.Root, error)
	ServedShards       []uint64
	// Hooks observe the handler.
	Hooks Hooks
	// Eth1 is the eth1 chain proposers vote on and take deposits from
	// (nil: vote for no change; see validator.Eth1Source).
	Eth1 validator.Eth1Source
	// Behaviour makes hosted validators misbehave (zero: honest).
	Behaviour Behaviour
}

// maxFutureBlocks bounds the blocks kept until their slot starts.
const maxFutureBlocks = 64

// maxFetches bounds the concurrent by-root fetches.
const maxFetches = 16

// Handler makes every decision of a beacon node. It is not safe for
// concurrent use: its host serialises the calls (see the package doc).
type Handler struct {
	cfg      Config
	env      Env
	log      *slog.Logger
	chain    *chain.Service
	tr       *core.Transition
	pcfg     *params.Config
	st       *store.Store
	slots    *clock.Slots
	forkZero types.Version

	lastTick uint64 // monotonic fork-choice time given to the chain

	peers    map[peer.ID]*peerState
	sync     *syncJob // the running range sync, nil when idle
	fetching map[types.Root]bool
	future   map[types.Root]types.AnyBlock // blocks whose slot has not started
	offline  bool                          // SetDuties(false): the validators are offline
	offVals  map[types.ValidatorIndex]bool // SetValidatorsOffline: single validators offline
}

// envClock reads the host's time.
type envClock struct{ env Env }

func (c envClock) Now() time.Time { return c.env.Now() }

// New returns the Handler of cfg.Chain on env.
func New(cfg Config, env Env) (*Handler, error) {
	if cfg.Chain == nil || env == nil {
		return nil, fmt.Errorf("%w: no chain or environment", ErrInvalidConfig)
	}
	s := cfg.Sync
	if s.BatchSize == 0 || s.StatusInterval == 0 || s.RequestTimeout <= 0 {
		return nil, fmt.Errorf("%w: sync batch size, status interval and request timeout must be positive", ErrInvalidConfig)
	}
	pcfg := cfg.Chain.Config()
	slots, err := clock.NewSlots(envClock{env}, cfg.Chain.GenesisTime(), pcfg.SecondsPerSlot)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	h := &Handler{
		cfg: cfg, env: env, log: env.Logger(), chain: cfg.Chain, tr: cfg.Chain.Transition(), pcfg: pcfg,
		st: cfg.Chain.Store(), slots: slots,
		peers: make(map[peer.ID]*peerState), fetching: make(map[types.Root]bool),
		future: make(map[types.Root]types.AnyBlock),
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.forkZero = cfg.Chain.Genesis().Fork.CurrentVersion
	if sh := pcfg.Shard; sh.Enabled() && sh.ForkEpoch == pcfg.GenesisEpoch() {
		h.forkZero = cfg.Chain.Genesis().Fork.PreviousVersion
	}
	return h, nil
}

// Chain returns the chain service.
func (h *Handler) Chain() *chain.Service { return h.chain }

// Slots returns the slot arithmetic on the host's time.
func (h *Handler) Slots() *clock.Slots { return h.slots }

// Tick advances the chain's fork-choice clock to the host's time.
func (h *Handler) Tick() { h.tickAt(h.env.Now()) }

// tickAt advances the chain's clock to at (whole seconds; never backwards).
func (h *Handler) tickAt(at time.Time) {
	h.lastTick = max(h.lastTick, uint64(max(at.Unix(), 0)))
	h.chain.OnTick(h.lastTick)
}

// forkVersion is the fork version at epoch.
func (h *Handler) forkVersion(epoch types.Epoch) types.Version {
	if s := h.pcfg.Shard; s.Enabled() && uint64(epoch) >= s.ForkEpoch {
		return types.Version(s.ForkVersion)
	}
	return h.forkZero
}

// Status returns the node's Status.
func (h *Handler) Status() Status {
	head, slot := h.chain.Head()
	fin := h.chain.Finalized()
	return Status{
		ForkVersion:    h.forkVersion(h.slots.CurrentEpoch(h.pcfg.SlotsPerEpoch)),
		GenesisRoot:    h.chain.GenesisRoot(),
		FinalizedRoot:  fin.Root,
		FinalizedEpoch: uint64(fin.Epoch),
		HeadRoot:       head,
		HeadSlot:       uint64(slot),
		Shards:         slices.Clone(h.cfg.ServedShards),
	}
}

// publish encodes and publishes a message.
func (h *Handler) publish(topic string, v interface{ MarshalSSZ() ([]byte, error) }) {
	PublishSSZ(h.env, h.log, topic, v)
}

// PublishSSZ encodes v and publishes it on topic through env; an encoding
// failure is logged to log.
func PublishSSZ(env Env, log *slog.Logger, topic string, v interface{ MarshalSSZ() ([]byte, error) }) {
	buf, err := v.MarshalSSZ()
	if err != nil {
		log.Warn("publish failed", "topic", topic, "err", fmt.Errorf("encode message: %w", err))
		return
	}
	env.Publish(topic, buf)
}
