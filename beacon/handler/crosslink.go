package handler

import (
	"fmt"

	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/hash"
)

// EmptyCrosslinkDataRoot is the data root of a crosslink whose range holds
// no shard block: hash_tree_root(List[Root, MAX_CROSSLINK_HEADERS]([])) with
// MAX_CROSSLINK_HEADERS = SLOTS_PER_EPOCH * MAX_EPOCHS_PER_CROSSLINK, which
// is what shard/core.CrosslinkDataRoot(cfg, nil) computes. Attesters vote it
// when no source answers.
func EmptyCrosslinkDataRoot(cfg *params.Config) types.Root {
	depth := hash.Depth(cfg.SlotsPerEpoch * cfg.MaxEpochsPerCrosslink)
	return hash.MixInLength(hash.ZeroHash(depth), 0)
}

// crosslinkRoot asks the crosslink source (Config.CrosslinkData, or the
// peers' majority) and calls vote once with its answer, or with the
// empty-range root (and a warning) when it fails.
func (h *Handler) crosslinkRoot(c types.Crosslink, vote func(types.Root)) {
	answer := func(root types.Root, err error) {
		if err != nil {
			h.log.Warn("no crosslink data, voting the empty data root", "shard", c.Shard,
				"epoch", c.EndEpoch, "err", err)
			root = EmptyCrosslinkDataRoot(h.pcfg)
		}
		vote(root)
	}
	if h.cfg.CrosslinkData != nil {
		h.cfg.CrosslinkData(c, once(answer))
		return
	}
	h.RemoteDataRoot(c, answer)
}

// once wraps done so that only its first call counts.
func once(done func(types.Root, error)) func(types.Root, error) {
	called := false
	return func(r types.Root, err error) {
		if !called {
			called = true
			done(r, err)
		}
	}
}

// maxCrosslinkPeers bounds the peers asked at once.
const maxCrosslinkPeers = 4

// RemoteDataRoot asks up to four peers whose status lists c's shard, over
// CrosslinkDataRootProtocol, and calls done once with the root most of them
// answer (the earliest answered of equals), when all have answered or the
// lookup time (CrosslinkDataTimeout, at most a sixth of a slot) is up; an
// error wrapping ErrNoCrosslinkData when none knows or none serves the
// shard. A validator that does not follow the shard itself trusts these
// peers for the data it votes for (docs/protocol.md §4): asking several and
// taking the majority means one lying peer among honest ones does not
// decide the vote. Disagreeing answers are logged.
func (h *Handler) RemoteDataRoot(c types.Crosslink, done func(types.Root, error)) {
	done = once(done)
	peers := h.peersServing(uint64(c.Shard))
	if len(peers) == 0 {
		done(types.Root{}, fmt.Errorf("crosslink data of shard %d: %w: no peer serves the shard", c.Shard, ErrNoCrosslinkData))
		return
	}
	if len(peers) > maxCrosslinkPeers {
		peers = peers[:maxCrosslinkPeers]
	}
	req := CrosslinkDataRequest{Shard: uint64(c.Shard), StartEpoch: uint64(c.StartEpoch), EndEpoch: uint64(c.EndEpoch)}
	buf, err := req.MarshalSSZ()
	if err != nil {
		done(types.Root{}, fmt.Errorf("encode crosslink data request: %w", err))
		return
	}
	var order []types.Root // distinct roots, first answer first
	votes := make(map[types.Root]int)
	answered := 0
	finish := func() {
		if len(order) == 0 {
			done(types.Root{}, fmt.Errorf("crosslink data of shard %d: %w: %d peers asked", c.Shard, ErrNoCrosslinkData, len(peers)))
			return
		}
		best := order[0]
		for _, root := range order[1:] {
			if votes[root] > votes[best] {
				best = root
			}
		}
		if len(order) > 1 {
			h.log.Warn("peers disagree on a crosslink's data root", "shard", c.Shard, "epoch", c.EndEpoch,
				"roots", len(order), "chosen", best, "votes", votes[best])
		}
		done(best, nil)
	}
	wait := h.slots.SlotDuration() / 6
	if t := h.cfg.CrosslinkDataTimeout; t > 0 {
		wait = min(wait, t)
	}
	timer := h.env.AfterFunc(wait, finish)
	for _, p := range peers {
		h.env.Request(p, CrosslinkDataRootProtocol, buf, 1, func(chunks [][]byte, err error) {
			answered++
			var resp CrosslinkDataResponse
			if err == nil && len(chunks) == 1 && types.Decode(&resp, chunks[0]) == nil && resp.Known {
				root := types.Root(resp.DataRoot)
				if votes[root] == 0 {
					order = append(order, root)
				}
				votes[root]++
			}
			if answered == len(peers) && timer.Stop() {
				finish()
			}
		})
	}
}
