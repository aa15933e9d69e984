package handler

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"

	bchain "github.com/shardlab/shardlab/beacon/chain"
	bcore "github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/handler"
	"github.com/shardlab/shardlab/beacon/params"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
	"github.com/shardlab/shardlab/shard/chain"
	shardcore "github.com/shardlab/shardlab/shard/core"
)

// ErrInvalidConfig is wrapped by New.
var ErrInvalidConfig = errors.New("invalid shard handler config")

// Config configures a Handler.
type Config struct {
	// Beacon is the node's beacon chain (required).
	Beacon *bchain.Service
	// Chains are the served shards' chain services (at least one).
	Chains map[bt.Shard]*chain.Service
	// Keys are the shard proposer keys (nil: no proposals, no fraud proofs).
	Keys *validator.Keys
	// Verifier is the fraud-proof verifier of the chain's genesis.
	Verifier shardcore.FraudVerifier
	// MaxPendingBlocks bounds the gossip blocks kept for a parent or
	// beacon block (at least 1).
	MaxPendingBlocks int
	// ResendSlots is how long a relayed claim is left to be included
	// before it is published again.
	ResendSlots uint64
	// BadPeerSlots is how long a peer whose inbox answer failed is left
	// out (0: 4 slots).
	BadPeerSlots uint64

	// BeaconSyncing reports whether the beacon node is syncing (no duties
	// then); nil: never.
	BeaconSyncing func() bool
	// SyncBatchSize is the slots asked for in one shard blocks by range
	// request of a sync (0: 64; see sync.go).
	SyncBatchSize uint64
	// ServingPeers returns the connected peers whose beacon status lists
	// shard, sorted (required).
	ServingPeers func(shard bt.Shard) []peer.ID
	// FishermanOff, when set and true, stops the fisherman: invalid blocks
	// are still refused, but no fraud proof is built (a node without a
	// fisherman, as scenarios stage them); nil: always on.
	FishermanOff func() bool
	// CensorClaims, when set and true for a shard, makes the node's
	// proposer leave every receipt claim out of its blocks of that shard
	// (a censoring proposer, as scenarios stage them); nil: never.
	CensorClaims func(shard bt.Shard) bool
	// SkipProposal, when set and true for a shard, makes the node's
	// proposer skip its block of that shard (a byzantine proposer that
	// publishes a block of its own instead, as statesim's --fraud-at
	// stages it); nil: never.
	SkipProposal func(shard bt.Shard) bool
	// Background runs f, long work of the slot (a relay pass: a Merkle
	// proof per claim, up to MAX_SHARD_CLAIMS per pair of shards), beside
	// the host's other calls into the handler, so that the slot's other
	// duties and the next slots never wait for it (a real node runs it on
	// a goroutine). nil runs it inline, as a deterministic host must.
	Background func(f func())

	// Hooks observe the handler.
	Hooks Hooks
}

// Hooks observe the handler for the host's metrics; a nil func is skipped.
type Hooks struct {
	// Block counts shard blocks by result: proposed, imported, invalid,
	// failed.
	Block func(shard bt.Shard, result string)
	// GossipRejected counts rejected gossip by kind: block, message.
	GossipRejected func(shard bt.Shard, kind string)
	// ClaimRelayed counts a published claim.
	ClaimRelayed func(src, dst bt.Shard)
	// FraudBuilt counts a built fraud proof.
	FraudBuilt func()
	// ClaimRejected counts a gossip claim the node refused, by reason
	// (ClaimReason, else ClaimRefusedByPool).
	ClaimRejected func(shard bt.Shard, reason string)
}

func (k *Hooks) block(s bt.Shard, result string) {
	if k.Block != nil {
		k.Block(s, result)
	}
}

func (k *Hooks) gossipRejected(s bt.Shard, kind string) {
	if k.GossipRejected != nil {
		k.GossipRejected(s, kind)
	}
}

func (k *Hooks) claimRelayed(src, dst bt.Shard) {
	if k.ClaimRelayed != nil {
		k.ClaimRelayed(src, dst)
	}
}

func (k *Hooks) fraudBuilt() {
	if k.FraudBuilt != nil {
		k.FraudBuilt()
	}
}

// Handler makes every decision of a shard node. Its methods may be called
// concurrently (shard/node calls them from gossip validators, its slot and
// event loops and its sync goroutines); each role guards its own state. It
// starts no goroutines and reads time only through its Env, so a host that
// calls it from one goroutine (sim/netsim) gets a deterministic run.
type Handler struct {
	cfg      Config
	env      handler.Env
	log      *slog.Logger
	tr       *bcore.Transition
	pcfg     *params.Config
	bchain   *bchain.Service
	verifier shardcore.FraudVerifier
	keys     *validator.Keys
	shards   []bt.Shard
	chains   map[bt.Shard]*chain.Service

	pendMu  sync.Mutex
	pending map[bt.Root]*pendingBlock // gossip blocks waiting for a parent or beacon block

	badMu    sync.Mutex
	badUntil map[peer.ID]bt.Slot // peers left out of inbox lookups until then

	windowMu  sync.Mutex
	windowFor bt.Root
	window    *bt.BeaconState

	syncMu sync.Mutex
	sync   syncState

	fraud *fisherman
	relay *relayer
	// relaying is set while a relay pass runs, relayAgain when another
	// was asked for meanwhile (startRelay).
	relayMu    sync.Mutex
	relaying   bool
	relayAgain bool
}

// New returns the Handler of cfg on env.
func New(cfg Config, env handler.Env) (*Handler, error) {
	if cfg.Beacon == nil || env == nil || len(cfg.Chains) == 0 || cfg.ServingPeers == nil {
		return nil, fmt.Errorf("%w: no beacon chain, environment, shard chains or serving peers", ErrInvalidConfig)
	}
	if cfg.MaxPendingBlocks < 1 {
		return nil, fmt.Errorf("%w: max pending blocks %d", ErrInvalidConfig, cfg.MaxPendingBlocks)
	}
	if cfg.SyncBatchSize > MaxRangeCount {
		return nil, fmt.Errorf("%w: sync batch size %d above %d", ErrInvalidConfig, cfg.SyncBatchSize, MaxRangeCount)
	}
	if cfg.BadPeerSlots == 0 {
		cfg.BadPeerSlots = 4
	}
	h := &Handler{
		cfg: cfg, env: env, log: env.Logger(), tr: cfg.Beacon.Transition(), pcfg: cfg.Beacon.Config(),
		bchain: cfg.Beacon, verifier: cfg.Verifier, keys: cfg.Keys,
		chains: cfg.Chains, pending: make(map[bt.Root]*pendingBlock), badUntil: make(map[peer.ID]bt.Slot),
		sync: newSyncState(),
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	for s := range cfg.Chains {
		h.shards = append(h.shards, s)
	}
	slices.Sort(h.shards)
	h.fraud = newFisherman(h)
	h.relay = newRelayer(h)
	return h, nil
}

// Shards returns the served shards, ascending.
func (h *Handler) Shards() []bt.Shard { return slices.Clone(h.shards) }

// Chain returns the chain service of a served shard.
func (h *Handler) Chain(s bt.Shard) (*chain.Service, bool) {
	c, ok := h.chains[s]
	return c, ok
}

// ProofsSeen returns the number of distinct fraud proofs seen (built here
// or included in beacon blocks).
func (h *Handler) ProofsSeen() uint64 { return h.fraud.seenCount() }

// PendingBlocks returns the number of gossip blocks kept aside.
func (h *Handler) PendingBlocks() int {
	h.pendMu.Lock()
	defer h.pendMu.Unlock()
	return len(h.pending)
}

// currentSlot is the slot at the Env's time (0 before genesis).
func (h *Handler) currentSlot() bt.Slot {
	g := int64(h.bchain.GenesisTime())
	now := h.env.Now().Unix()
	if now < g {
		return 0
	}
	return bt.Slot(uint64(now-g) / h.pcfg.SecondsPerSlot)
}

func (h *Handler) beaconSyncing() bool { return h.cfg.BeaconSyncing != nil && h.cfg.BeaconSyncing() }

// publish encodes and publishes a message.
func (h *Handler) publish(topic string, v interface{ MarshalSSZ() ([]byte, error) }) {
	handler.PublishSSZ(h.env, h.log, topic, v)
}

// censorClaims reports whether Config.CensorClaims censors shard's claims.
func (h *Handler) censorClaims(s bt.Shard) bool {
	return h.cfg.CensorClaims != nil && h.cfg.CensorClaims(s)
}

// fishermanOff reports whether Config.FishermanOff stops the fisherman.
func (h *Handler) fishermanOff() bool { return h.cfg.FishermanOff != nil && h.cfg.FishermanOff() }
