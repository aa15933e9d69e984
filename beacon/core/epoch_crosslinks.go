package core

import (
	"bytes"

	"github.com/shardlab/shardlab/beacon/types"
)

// winningCrosslink is get_winning_crosslink_and_attesting_indices.
//
//	attestations = [a for a in get_matching_source_attestations(state, epoch) if a.data.crosslink.shard == shard]
//	crosslinks = filter(lambda c: hash_tree_root(state.current_crosslinks[shard]) in (c.parent_root, hash_tree_root(c)),
//	                    [a.data.crosslink for a in attestations])
//	winning_crosslink = max(crosslinks, key=lambda c: (
//	    get_attesting_balance(state, [a for a in attestations if a.data.crosslink == c]), c.data_root
//	), default=Crosslink())
//	winning_attestations = [a for a in attestations if a.data.crosslink == winning_crosslink]
//	return winning_crosslink, get_unslashed_attesting_indices(state, winning_attestations)
//
// Python's max keeps the first of equal keys, so candidates are visited in
// attestation order and replaced only by a strictly greater key. The attesting
// set is returned as a list (committee members, no duplicates) and its balance.
func (c *ctx) winningCrosslink(epoch types.Epoch, shard types.Shard) (types.Crosslink, []types.ValidatorIndex, types.Gwei, error) {
	ea, err := c.sourceAttestations(epoch)
	if err != nil {
		return types.Crosslink{}, nil, 0, err
	}
	st := c.st
	current := st.CurrentCrosslinks[shard].TreeRoot()
	var (
		best     types.Crosslink
		bestBal  types.Gwei
		bestSet  []types.ValidatorIndex
		found    bool
		seen     []types.Crosslink
		member   = make(map[types.ValidatorIndex]bool)
		selected []types.ValidatorIndex
	)
	positions := ea.byShard[shard]
	for k, i := range positions {
		cand := ea.atts[i].Data.Crosslink
		if cand.ParentRoot != current && cand.TreeRoot() != current {
			continue
		}
		dup := false
		for _, s := range seen {
			if s == cand {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		seen = append(seen, cand)
		// get_attesting_balance of every attestation voting exactly cand.
		clear(member)
		selected = selected[:0]
		var bal types.Gwei
		for _, j := range positions[k:] {
			if ea.atts[j].Data.Crosslink != cand {
				continue
			}
			for _, v := range ea.indices[j] {
				if !member[v] && !st.Validators[v].Slashed {
					member[v] = true
					selected = append(selected, v)
					bal += st.Validators[v].EffectiveBalance
				}
			}
		}
		bal = max(bal, 1)
		if !found || bal > bestBal || (bal == bestBal && bytes.Compare(cand.DataRoot[:], best.DataRoot[:]) > 0) {
			best, bestBal, found = cand, bal, true
			bestSet = append(bestSet[:0], selected...)
		}
	}
	if !found {
		// The default Crosslink() wins; attestations voting exactly for it count.
		best = types.Crosslink{}
		clear(member)
		bestSet = bestSet[:0]
		var bal types.Gwei
		for _, j := range positions {
			if ea.atts[j].Data.Crosslink != best {
				continue
			}
			for _, v := range ea.indices[j] {
				if !member[v] && !st.Validators[v].Slashed {
					member[v] = true
					bestSet = append(bestSet, v)
					bal += st.Validators[v].EffectiveBalance
				}
			}
		}
		bestBal = max(bal, 1)
	}
	return best, bestSet, bestBal, nil
}

// processCrosslinks is process_crosslinks.
//
//	state.previous_crosslinks = [c for c in state.current_crosslinks]
//	for epoch in (get_previous_epoch(state), get_current_epoch(state)):
//	    for offset in range(get_committee_count(state, epoch)):
//	        shard = Shard((get_start_shard(state, epoch) + offset) % SHARD_COUNT)
//	        crosslink_committee = set(get_crosslink_committee(state, epoch, shard))
//	        winning_crosslink, attesting_indices = get_winning_crosslink_and_attesting_indices(state, epoch, shard)
//	        if 3 * get_total_balance(state, attesting_indices) >= 2 * get_total_balance(state, crosslink_committee):
//	            state.current_crosslinks[shard] = winning_crosslink
func (t *Transition) processCrosslinks(c *ctx) error {
	st := c.st
	copy(st.PreviousCrosslinks, st.CurrentCrosslinks)
	for _, epoch := range []types.Epoch{c.previous, c.current} {
		start, err := c.startShard(epoch)
		if err != nil {
			return err
		}
		count := c.epoch(epoch).count
		for off := uint64(0); off < count; off++ {
			shard := types.Shard((uint64(start) + off) % t.cfg.ShardCount)
			committee, err := c.committee(epoch, shard)
			if err != nil {
				return err
			}
			win, _, bal, err := c.winningCrosslink(epoch, shard)
			if err != nil {
				return err
			}
			if 3*bal >= 2*TotalBalance(st, committee) {
				st.CurrentCrosslinks[shard] = win
			}
		}
	}
	return nil
}
