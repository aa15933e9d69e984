package bench

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/shardlab/shardlab/sim/testnet"
)

// maxBlocksPerPoll bounds the blocks of one shard read in one poll.
const maxBlocksPerPoll = 32

// pollsPerSlot is how often per slot both engines read the nodes. A stage
// is stamped with the time of the poll that first sees it, so the stamp
// is never early and at most a poll period (plus the reads) late: a
// twentieth of a slot, 0.1 s with 2 s slots (a quarter slot added 0.25 s
// on average to every latency, 0.4 s to a claim, whose block arrives
// early in its slot).
const pollsPerSlot = 20

// observer polls the nodes and reports to the tracker: the canonical
// blocks of every shard (inclusion, claims), the crosslinks the shard
// nodes report, and a beacon node's finalized checkpoint.
type observer struct {
	tr            *tracker
	log           *slog.Logger
	shardNodes    []*testnet.Client // shard nodes, each polled for the shards it serves
	shardOf       map[uint64]int    // shard -> index in shardNodes of the node read
	beacon        *testnet.Client
	genesis       time.Time
	slot          time.Duration
	slotsPerEpoch uint64

	mu      sync.Mutex        // guards fetched and linked (nodes are read in parallel)
	fetched map[uint64]uint64 // shard -> last slot read (0: none)
	linked  map[uint64]uint64 // shard -> crosslinked header slot
}

func (o *observer) beaconSlot(now time.Time) uint64 {
	if now.Before(o.genesis) {
		return 0
	}
	return uint64(now.Sub(o.genesis) / o.slot)
}

// run polls every interval until ctx ends.
func (o *observer) run(ctx context.Context, interval time.Duration) {
	o.fetched, o.linked = make(map[uint64]uint64), make(map[uint64]uint64)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			o.poll(ctx)
		}
	}
}

// poll reads every shard node, all at once (read one after the other, the
// nodes of a loaded machine answered a full block's read slowly enough
// that the last node's blocks were seen seconds late), then the beacon
// node's finality.
func (o *observer) poll(ctx context.Context) {
	var wg sync.WaitGroup
	for i, c := range o.shardNodes {
		wg.Go(func() { o.pollNode(ctx, i, c) })
	}
	wg.Wait()
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	f, err := o.beacon.Finality(rctx)
	cancel()
	if err == nil && f.Finalized.Epoch > 0 {
		o.tr.finalized(f.Finalized.Epoch*o.slotsPerEpoch, time.Now())
	}
}

// pollNode reads the blocks and crosslinks of the shards read from shard
// node i.
func (o *observer) pollNode(ctx context.Context, i int, c *testnet.Client) {
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	infos, err := c.Shards(rctx)
	cancel()
	if err != nil {
		o.log.Debug("poll shard node", "err", err)
		return
	}
	for _, si := range infos {
		if o.shardOf[si.Shard] != i {
			continue
		}
		o.readBlocks(ctx, c, si.Shard, si.HeadSlot)
		if cl := si.Crosslink; cl != nil && cl.HasHeader {
			o.mu.Lock()
			moved := cl.HeaderSlot > o.linked[si.Shard]
			if moved {
				o.linked[si.Shard] = cl.HeaderSlot
			}
			o.mu.Unlock()
			if moved {
				now := time.Now()
				o.tr.crosslink(si.Shard, cl.HeaderSlot, o.beaconSlot(now), now)
			}
		}
	}
}

// readBlocks reads the canonical blocks of shard after the last read slot
// up to head.
func (o *observer) readBlocks(ctx context.Context, c *testnet.Client, shard, head uint64) {
	o.mu.Lock()
	from := o.fetched[shard]
	o.mu.Unlock()
	last := min(head, from+maxBlocksPerPoll)
	for slot := from + 1; slot <= last; slot++ {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		blk, ok, err := c.ShardBlock(rctx, shard, slot)
		cancel()
		if err != nil {
			o.log.Debug("read shard block", "shard", shard, "slot", slot, "err", err)
			return
		}
		if ok {
			o.tr.block(shard, slot, blk, time.Now())
		} else if slot < head {
			o.tr.emptySlot(slot) // the head is past it: no block will come
		}
		o.mu.Lock()
		o.fetched[shard] = slot
		o.mu.Unlock()
	}
}
