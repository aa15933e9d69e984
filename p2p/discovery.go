package p2p

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// bootnode is the dial state of one bootnode.
type bootnode struct {
	info peer.AddrInfo
	dialBackoff
	dialing bool
}

// dialBackoff is the retry state of a peer dialled again after failures.
type dialBackoff struct {
	next    time.Time // earliest next attempt
	backoff time.Duration
}

// failed schedules the next attempt after the backoff plus up to a
// quarter of it as jitter, and doubles the backoff up to limit.
func (b *dialBackoff) failed(limit time.Duration) {
	jitter := time.Duration(rand.Int64N(int64(b.backoff)/4 + 1))
	b.next = time.Now().Add(b.backoff + jitter)
	b.backoff = min(2*b.backoff, limit)
}

// redial connects to ai within DialTimeout. After a disconnect it first
// lets gossipsub forget the old connection (see WaitGossipPeerGone).
func (n *Node) redial(ai peer.AddrInfo) error {
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.DialTimeout)
	defer cancel()
	if err := n.WaitGossipPeerGone(ctx, ai.ID); err != nil {
		return err
	}
	return n.Connect(ctx, ai)
}

type dialResult struct {
	idx int
	err error
}

// dialBootnodes keeps every bootnode connected: it dials those not
// connected, backs off exponentially (with jitter) after failures, and
// redials a bootnode as soon as it disconnects.
func (n *Node) dialBootnodes() {
	defer n.wg.Done()
	sub, err := n.host.EventBus().Subscribe(new(event.EvtPeerConnectednessChanged))
	if err != nil {
		n.log.Error("subscribe to connection events", "err", err)
		return
	}
	defer sub.Close()

	boot := make([]*bootnode, 0, len(n.bootnodes))
	byID := make(map[peer.ID]*bootnode)
	for _, ai := range n.bootnodes {
		if ai.ID == n.host.ID() {
			continue // a bootnode started with its own address in the list
		}
		b := &bootnode{info: ai, dialBackoff: dialBackoff{backoff: n.cfg.BootnodeBackoffMin}}
		boot = append(boot, b)
		byID[ai.ID] = b
		n.host.ConnManager().Protect(ai.ID, "bootnode")
	}
	results := make(chan dialResult, len(boot))
	timer := time.NewTimer(0)
	defer timer.Stop()

	for {
		now := time.Now()
		var wake time.Time
		for i, b := range boot {
			if b.dialing || n.host.Network().Connectedness(b.info.ID) == network.Connected {
				continue
			}
			if !now.Before(b.next) {
				b.dialing = true
				go func(i int, ai peer.AddrInfo) { results <- dialResult{idx: i, err: n.redial(ai)} }(i, b.info)
				continue
			}
			if wake.IsZero() || b.next.Before(wake) {
				wake = b.next
			}
		}
		var wakeC <-chan time.Time
		if !wake.IsZero() {
			timer.Reset(time.Until(wake))
			wakeC = timer.C
		}
		select {
		case <-n.ctx.Done():
			// Drain in-flight dials so that none outlives Close.
			for _, b := range boot {
				if b.dialing {
					<-results
				}
			}
			return
		case <-wakeC:
		case r := <-results:
			b := boot[r.idx]
			b.dialing = false
			if r.err != nil {
				n.log.Debug("dial bootnode", "peer", b.info.ID, "err", r.err, "retry_in", b.backoff)
				b.failed(n.cfg.BootnodeBackoffMax)
			} else {
				n.log.Info("connected to bootnode", "peer", b.info.ID)
				b.backoff = n.cfg.BootnodeBackoffMin
			}
		case e, ok := <-sub.Out():
			if !ok {
				return
			}
			ev := e.(event.EvtPeerConnectednessChanged)
			if b := byID[ev.Peer]; b != nil && ev.Connectedness == network.NotConnected {
				n.log.Info("bootnode disconnected", "peer", ev.Peer)
				b.next = time.Time{}
			}
		}
		timer.Stop() // Go >= 1.23 timers: no stale tick survives Stop
	}
}

// mdnsNotifee connects to peers found by mDNS.
type mdnsNotifee struct{ n *Node }

func (m mdnsNotifee) HandlePeerFound(ai peer.AddrInfo) {
	n := m.n
	if ai.ID == n.host.ID() || n.ctx.Err() != nil {
		return
	}
	if n.host.Network().Connectedness(ai.ID) == network.Connected {
		return
	}
	n.dialInBackground(ai, "dial mdns peer", func() { n.log.Info("connected to mdns peer", "peer", ai.ID) })
}
