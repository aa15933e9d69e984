package node

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardlab/shardlab/beacon/clock"
	"github.com/shardlab/shardlab/beacon/handler"
	bt "github.com/shardlab/shardlab/beacon/types"
	shardhandler "github.com/shardlab/shardlab/shard/handler"
)

// hostEnv is the shard handler's production handler.Env: libp2p, the
// beacon node's clock and goroutines. The shard handler guards its own
// state, so callbacks and timers call it straight from their goroutines.
type hostEnv struct {
	n   *Node
	rng *rand.Rand
}

func (e hostEnv) Now() time.Time       { return e.n.beacon.Slots().Now() }
func (e hostEnv) Rand() *rand.Rand     { return e.rng }
func (e hostEnv) Logger() *slog.Logger { return e.n.log }

func (e hostEnv) Peers() []peer.ID {
	out := slices.Clone(e.n.p2p.Peers())
	slices.Sort(out)
	return out
}

func (e hostEnv) Publish(topic string, data []byte) {
	if err := e.n.p2p.Publish(e.n.ctx, topic, data); err != nil {
		e.n.log.Debug("publish failed", "topic", topic, "err", err)
	}
}

// Request runs the request on a goroutine, bounded by Sync.RequestTimeout,
// and hands the answer to done.
func (e hostEnv) Request(p peer.ID, protocol string, req []byte, maxChunks int, done func([][]byte, error)) {
	n := e.n
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		ctx, cancel := context.WithTimeout(n.ctx, n.cfg.Sync.RequestTimeout)
		chunks, err := n.p2p.Request(ctx, p, protocol, req, maxChunks)
		cancel()
		done(chunks, err)
	}()
}

// hostTimer is an AfterFunc on the node's clock.
type hostTimer struct {
	stop func() bool
}

func (t hostTimer) Stop() bool { return t.stop() }

// AfterFunc waits on the beacon node's clock and then runs f.
func (e hostEnv) AfterFunc(d time.Duration, f func()) handler.Timer {
	n := e.n
	ctx, cancel := context.WithCancel(n.ctx)
	c := n.beacon.Slots().Clock()
	at := c.Now().Add(d)
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		defer cancel()
		if clock.WaitUntil(ctx, c, at) == nil && ctx.Err() == nil {
			f()
		}
	}()
	return hostTimer{stop: func() bool {
		live := ctx.Err() == nil
		cancel()
		return live
	}}
}

// openHandler builds the shard handler on the node's chains.
func (n *Node) openHandler() error {
	h, err := shardhandler.New(shardhandler.Config{
		Beacon: n.bchain, Chains: n.chains, Keys: n.keys, Verifier: n.verifier,
		MaxPendingBlocks: n.cfg.MaxPendingBlocks, ResendSlots: n.cfg.Relay.ResendSlots,
		BeaconSyncing: func() bool { _, _, syncing := n.beacon.SyncStatus(); return syncing },
		SyncBatchSize: n.cfg.Sync.BatchSize,
		ServingPeers:  n.peersServing,
		Background: func(f func()) {
			n.wg.Add(1)
			go func() {
				defer n.wg.Done()
				f()
			}()
		},
		Hooks: shardhandler.Hooks{
			Block:          func(s bt.Shard, result string) { n.m.blocks.WithLabelValues(shardLabel(s), result).Inc() },
			GossipRejected: n.m.gossipRejected,
			ClaimRelayed:   func(bt.Shard, bt.Shard) { n.m.claimsRelayed.Inc() },
			FraudBuilt:     n.m.fraudBuilt.Inc,
			ClaimRejected:  n.m.claimRejected,
		},
	}, hostEnv{n: n, rng: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))})
	if err != nil {
		return fmt.Errorf("open shard handler: %w", err)
	}
	n.h = h
	n.m.initClaimsRejected(n.shards)
	n.dataSource.Store(h)
	return nil
}
