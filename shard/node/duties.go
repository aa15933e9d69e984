package node

import (
	"context"
	"fmt"

	bchain "github.com/shardlab/shardlab/beacon/chain"
	"github.com/shardlab/shardlab/beacon/clock"
	bnode "github.com/shardlab/shardlab/beacon/node"
	bt "github.com/shardlab/shardlab/beacon/types"
)

// onBeaconEvent hands a beacon chain event to the event loop; it never
// blocks (a full queue makes the loop refresh everything instead).
func (n *Node) onBeaconEvent(ev bchain.Event) {
	select {
	case n.events <- ev:
	default:
		n.overflow.Store(true)
	}
}

// eventLoop hands the beacon chain's events to the shard handler in
// batches (shard/handler OnBeaconEvents).
func (n *Node) eventLoop(ctx context.Context) {
	n.h.ObserveHead(false)
	for {
		var batch []bchain.Event
		select {
		case <-ctx.Done():
			return
		case ev := <-n.events:
			batch = append(batch, ev)
		}
	drain:
		for len(batch) < cap(n.events) {
			select {
			case ev := <-n.events:
				batch = append(batch, ev)
			default:
				break drain
			}
		}
		n.h.OnBeaconEvents(batch, n.overflow.Swap(false))
	}
}

// slotLoop runs the slot duties at the start of every slot.
func (n *Node) slotLoop(ctx context.Context) {
	slots := n.beacon.Slots()
	c := slots.Clock()
	for ctx.Err() == nil {
		slot, started := slots.CurrentSlot()
		next, at := slot+1, slots.SlotStart(slot+1)
		if !started {
			next, at = 0, slots.Genesis()
		}
		if err := clock.WaitUntil(ctx, c, at); err != nil {
			return
		}
		n.onSlot(next)
	}
}

// onSlot is the slot-start work: the head markers, the handler's duties
// (fraud proofs, shard syncs, proposals, relaying) and metrics.
func (n *Node) onSlot(slot bt.Slot) {
	if err := n.writeShardMarkers(false); err != nil {
		n.log.Warn("write shard head markers", "err", err)
	}
	n.h.OnSlotStart(slot)
	n.updateMetrics()
}

// localDataRoot answers crosslink data roots of the served shards (the
// embedded beacon node serves it over CrosslinkDataRootProtocol, from the
// moment New registers its protocols: before the shard handler is built
// it has no answer).
func (n *Node) localDataRoot(_ context.Context, c bt.Crosslink) (bt.Root, error) {
	h := n.dataSource.Load()
	if h == nil {
		return bt.Root{}, fmt.Errorf("shard %d: %w: the shard node is starting", c.Shard, bnode.ErrNoCrosslinkData)
	}
	return h.DataRoot(c)
}

// dataRoot is the embedded beacon node's crosslink data source when it
// attests (shardlab node): the local chains for served shards, the peers
// serving the shard otherwise.
func (n *Node) dataRoot(ctx context.Context, c bt.Crosslink) (bt.Root, error) {
	if _, ok := n.chains[c.Shard]; ok {
		return n.localDataRoot(ctx, c)
	}
	return bnode.NewRemoteCrosslinkData(n.beacon).DataRoot(ctx, c)
}
