package node

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardlab/shardlab/beacon/clock"
	"github.com/shardlab/shardlab/beacon/handler"
	"github.com/shardlab/shardlab/beacon/types"
)

// hostEnv is the production handler.Env: libp2p, the node's clock and
// goroutines. Every callback and timer re-enters the handler through n.do.
type hostEnv struct {
	n   *Node
	rng *rand.Rand
}

// newRand is the production randomness: seeded from the runtime's source.
func newRand() *rand.Rand { return rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())) }

func (e hostEnv) Now() time.Time       { return e.n.slots.Now() }
func (e hostEnv) Rand() *rand.Rand     { return e.rng }
func (e hostEnv) Logger() *slog.Logger { return e.n.log }
func (e hostEnv) Peers() []peer.ID     { return sortedPeers(e.n.p2p.Peers()) }
func (e hostEnv) Publish(topic string, data []byte) {
	e.n.equivocate(topic, data)
	if err := e.n.p2p.Publish(e.n.ctx, topic, data); err != nil {
		e.n.log.Warn("publish failed", "topic", topic, "err", err)
	}
}

// sortedPeers returns ids sorted (a copy).
func sortedPeers(ids []peer.ID) []peer.ID {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// Request runs the request on a goroutine, bounded by Sync.RequestTimeout,
// and hands the answer to the handler.
func (e hostEnv) Request(p peer.ID, protocol string, req []byte, maxChunks int, done func([][]byte, error)) {
	n := e.n
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		ctx, cancel := context.WithTimeout(n.ctx, n.cfg.Sync.RequestTimeout)
		chunks, err := n.p2p.Request(ctx, p, protocol, req, maxChunks)
		cancel()
		n.do(func() { done(chunks, err) })
	}()
}

// hostTimer is an AfterFunc on the node's clock; its fields are guarded by
// the node's mu (Stop is called from inside the handler).
type hostTimer struct {
	cancel        context.CancelFunc
	fired, halted bool
}

func (t *hostTimer) Stop() bool {
	if t.fired || t.halted {
		return false
	}
	t.halted = true
	t.cancel()
	return true
}

// AfterFunc waits on the node's clock (so an injected clock drives the
// handler's timers too) and then runs f in the handler.
func (e hostEnv) AfterFunc(d time.Duration, f func()) handler.Timer {
	n := e.n
	ctx, cancel := context.WithCancel(n.ctx)
	t := &hostTimer{cancel: cancel}
	c := n.slots.Clock()
	at := c.Now().Add(d)
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		defer cancel()
		if clock.WaitUntil(ctx, c, at) != nil {
			return
		}
		n.do(func() {
			if t.fired || t.halted {
				return
			}
			t.fired = true
			f()
		})
	}()
	return t
}

// handlerConfig is the handler's configuration from the node's.
func (n *Node) handlerConfig() handler.Config {
	hc := handler.Config{
		Chain: n.chain, Keys: n.keys, Graffiti: n.graffiti, Sync: n.cfg.Sync,
		CrosslinkDataTimeout: n.cfg.CrosslinkDataTimeout,
		ServedShards:         n.cfg.ServedShards,
		Hooks: handler.Hooks{
			BlockSeen:    n.arrivals.record,
			Proposal:     func(result string) { n.m.proposals.WithLabelValues(result).Inc() },
			Attestations: func(result string, k int) { n.m.attestations.WithLabelValues(result).Add(float64(k)) },
			Syncing:      n.setSyncing,
			SyncDistance: func(d uint64) { n.m.syncDistance.Set(float64(d)) },
			SyncedBlock:  n.m.syncedBlocks.Inc,
			AttestationVerified: func(ia *types.IndexedAttestation) {
				n.slasherEnqueue(slasherJob{att: ia})
			},
			PeerStatus: n.recordStatus,
		},
	}
	if src := n.cfg.CrosslinkData; src != nil {
		hc.CrosslinkData = n.crosslinkSource(src)
	}
	if src := n.cfg.ServeCrosslinkData; src != nil {
		hc.ServeCrosslinkData = func(c types.Crosslink) (types.Root, error) { return src.DataRoot(n.ctx, c) }
	}
	return hc
}

// crosslinkSource adapts a blocking CrosslinkData to the handler: a static
// answer is given at once, any other source is asked on a goroutine (for at
// most CrosslinkDataTimeout and a sixth of a slot) and its answer handed to
// the handler.
func (n *Node) crosslinkSource(src CrosslinkData) handler.CrosslinkSource {
	if s, ok := src.(StaticCrosslinkData); ok {
		return func(_ types.Crosslink, done func(types.Root, error)) { done(s.Root, nil) }
	}
	return func(c types.Crosslink, done func(types.Root, error)) {
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			ctx, cancel := context.WithTimeout(n.ctx, min(n.cfg.CrosslinkDataTimeout, n.slots.SlotDuration()/6))
			root, err := src.DataRoot(ctx, c)
			cancel()
			n.do(func() { done(root, err) })
		}()
	}
}

func (n *Node) setSyncing(on bool) {
	if n.syncing.Swap(on) != on {
		if on {
			n.m.syncing.Set(1)
		} else {
			n.m.syncing.Set(0)
		}
	}
}

// recordStatus keeps the handler's peer statuses for Peers and PeerStatus,
// which read them without entering the handler: a caller holding its own
// lock (the shard node) never waits for a handler call that may need that
// lock (serving crosslink data).
func (n *Node) recordStatus(p peer.ID, st Status, known bool) {
	n.statusMu.Lock()
	defer n.statusMu.Unlock()
	if !known {
		delete(n.statuses, p)
		return
	}
	if n.statuses == nil {
		n.statuses = make(map[peer.ID]Status)
	}
	n.statuses[p] = st
}
