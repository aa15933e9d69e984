package node

import (
	"context"
	"fmt"
	"time"

	"github.com/shardlab/shardlab/beacon/clock"
	"github.com/shardlab/shardlab/beacon/types"
)

// slotLoop drives the handler's per-slot work on the node's clock: at each
// slot start OnSlotStart (tick, queued blocks, status exchange, sync,
// proposer duty), at one third of the slot OnAttestationDue (attester duty).
func (n *Node) slotLoop(ctx context.Context) {
	c := n.slots.Clock()
	for ctx.Err() == nil {
		now := c.Now()
		slot, started := n.slots.SlotAt(now)
		var at time.Time
		attest := false
		switch {
		case !started:
			at = n.slots.Genesis()
		case now.Before(n.slots.SlotStart(slot).Add(n.slots.SlotDuration() / 3)):
			at, attest = n.slots.SlotStart(slot).Add(n.slots.SlotDuration()/3), true
		default:
			slot++
			at = n.slots.SlotStart(slot)
		}
		if err := clock.WaitUntil(ctx, c, at); err != nil {
			return
		}
		if attest {
			n.attest(ctx, slot)
			continue
		}
		n.do(func() { n.h.OnSlotStart(slot) })
	}
}

// propose runs the proposer duty of slot (handler.Handler.Propose).
func (n *Node) propose(_ context.Context, slot types.Slot) { n.do(func() { n.h.Propose(slot) }) }

// attest ticks the chain and runs the attester duty of slot
// (handler.Handler.OnAttestationDue).
func (n *Node) attest(_ context.Context, slot types.Slot) {
	n.do(func() { n.h.OnAttestationDue(slot) })
}

// produceBlock builds the block of slot if a hosted validator proposes it
// (handler.Handler.ProduceBlock).
func (n *Node) produceBlock(slot types.Slot) (b types.AnyBlock, proposer types.ValidatorIndex, err error) {
	n.do(func() { b, proposer, err = n.h.ProduceBlock(slot) })
	return b, proposer, err
}

// publish encodes and publishes a message (the slasher's findings).
func (n *Node) publish(ctx context.Context, topic string, v interface{ MarshalSSZ() ([]byte, error) }) error {
	buf, err := v.MarshalSSZ()
	if err != nil {
		return fmt.Errorf("encode %s message: %w", topic, err)
	}
	return n.p2p.Publish(ctx, topic, buf)
}
