package core

import "github.com/shardlab/shardlab/beacon/types"

// processJustificationAndFinalization is process_justification_and_finalization.
//
//	if get_current_epoch(state) <= GENESIS_EPOCH + 1: return
//	state.previous_justified_checkpoint = state.current_justified_checkpoint
//	state.justification_bits[1:] = state.justification_bits[:-1]; state.justification_bits[0] = 0b0
//	if get_attesting_balance(state, get_matching_target_attestations(state, previous_epoch)) * 3 >= get_total_active_balance(state) * 2:
//	    state.current_justified_checkpoint = Checkpoint(epoch=previous_epoch, root=get_block_root(state, previous_epoch))
//	    state.justification_bits[1] = 0b1
//	(the same for current_epoch with bit 0)
//	bits = state.justification_bits
//	if all(bits[1:4]) and old_previous_justified_checkpoint.epoch + 3 == current_epoch: finalized = old_previous
//	if all(bits[1:3]) and old_previous_justified_checkpoint.epoch + 2 == current_epoch: finalized = old_previous
//	if all(bits[0:3]) and old_current_justified_checkpoint.epoch + 2 == current_epoch:  finalized = old_current
//	if all(bits[0:2]) and old_current_justified_checkpoint.epoch + 1 == current_epoch:  finalized = old_current
func (t *Transition) processJustificationAndFinalization(c *ctx) error {
	st := c.st
	if uint64(c.current) <= t.cfg.GenesisEpoch()+1 {
		return nil
	}
	prev, cur := c.previous, c.current
	oldPrev, oldCur := st.PreviousJustifiedCheckpoint, st.CurrentJustifiedCheckpoint
	st.PreviousJustifiedCheckpoint = st.CurrentJustifiedCheckpoint
	st.JustificationBits = (st.JustificationBits << 1) & 0x0f
	total := c.totalActiveBalance()
	for _, e := range []struct {
		epoch types.Epoch
		bit   types.JustificationBits
	}{{prev, 1 << 1}, {cur, 1 << 0}} {
		set, err := c.targetAttesters(e.epoch)
		if err != nil {
			return err
		}
		if set.balance*3 >= total*2 {
			root, err := t.BlockRoot(st, e.epoch)
			if err != nil {
				return err
			}
			st.CurrentJustifiedCheckpoint = types.Checkpoint{Epoch: e.epoch, Root: root}
			st.JustificationBits |= e.bit
		}
	}
	bits := st.JustificationBits
	all := func(from, to int) bool {
		for i := from; i < to; i++ {
			if !bits.Bit(i) {
				return false
			}
		}
		return true
	}
	if all(1, 4) && oldPrev.Epoch+3 == cur {
		st.FinalizedCheckpoint = oldPrev
	}
	if all(1, 3) && oldPrev.Epoch+2 == cur {
		st.FinalizedCheckpoint = oldPrev
	}
	if all(0, 3) && oldCur.Epoch+2 == cur {
		st.FinalizedCheckpoint = oldCur
	}
	if all(0, 2) && oldCur.Epoch+1 == cur {
		st.FinalizedCheckpoint = oldCur
	}
	return nil
}
