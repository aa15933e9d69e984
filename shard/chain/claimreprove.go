package chain

import (
	"fmt"

	bt "github.com/shardlab/shardlab/beacon/types"
	shardcore "github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// ReproveClaim returns claim c as a relayer would gossip it for a block
// referencing beacon (a beacon post-state): its crosslink chain extended
// to the source's current crosslink when that just moved, and its
// challenge-window proof made against window, the beacon state at the
// window slot (hashed: pass a private copy). c is not re-validated.
func (s *Service) ReproveClaim(c *st.ReceiptClaim, beacon, window *bt.BeaconState) (*st.ReceiptClaim, error) {
	if window == nil {
		return nil, fmt.Errorf("reprove claim of receipt %d from shard %d: no window state", c.Receipt.Nonce, c.Receipt.SrcShard)
	}
	rc, ok := s.refreshClaim(c, beacon, shardcore.NewClaimBuilder(s.pcfg, window))
	if !ok {
		return nil, fmt.Errorf("reprove claim of receipt %d from shard %d: its crosslink chain does not reach the beacon state's", c.Receipt.Nonce, c.Receipt.SrcShard)
	}
	return rc, nil
}
