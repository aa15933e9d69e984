package handler

import (
	"errors"
	"fmt"

	"github.com/shardlab/shardlab/beacon/params"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/shard/chain"
	shardcore "github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// ErrNoEarlyClaim is wrapped when no receipt can be claimed early now.
var ErrNoEarlyClaim = errors.New("no receipt to claim early")

// EarlyClaim builds, for the shard of pre (a destination head state), the
// claim of its next receipt from some source (its inbox nonce) whose block
// is in the source's current crosslink in beacon but whose crosslink is
// not past the challenge window: the window proof is made against beacon
// itself rather than window, the state at the window slot, which a
// destination block must not accept (a fraudulent block's claim, for
// experiments). source gives the chain of a source shard (nil: not
// known); the simulator and a real shard node's debug API both build the
// claim here.
func EarlyClaim(cfg *params.Config, window, beacon *bt.BeaconState, pre *st.ShardState, source func(bt.Shard) *chain.Service) (*st.ReceiptClaim, error) {
	dst := pre.Shard
	for src := range bt.Shard(cfg.ShardCount) {
		ch := source(src)
		if src == dst || ch == nil {
			continue
		}
		cur := beacon.CurrentCrosslinks[src]
		links := ch.CrosslinkChain(cur, 1)
		if len(links) == 0 || !links[0].Resolved || len(links[0].Headers) == 0 {
			continue
		}
		for pos, root := range links[0].Headers {
			_, receipts, found := ch.Block(root)
			if !found {
				continue
			}
			for i, r := range receipts {
				if r.DstShard != dst || r.Nonce != pre.InboxNonces[src] {
					continue
				}
				header, rb, err := ch.ReceiptProof(root, i)
				if err != nil {
					return nil, err
				}
				hb, err := shardcore.HeaderProof(cfg, links[0].Headers, pos)
				if err != nil {
					return nil, err
				}
				c := cur
				cs := &shardcore.ClaimSource{Receipt: r, ReceiptIndex: uint64(i), ReceiptBranch: rb,
					Header: header, HeaderIndex: uint64(pos), HeaderBranch: hb, Chain: []*bt.Crosslink{&c}}
				if window != nil {
					if _, err := shardcore.NewClaimBuilder(cfg, window.Copy()).Build(cs); !errors.Is(err, shardcore.ErrNotClaimable) {
						continue // claimable already (or broken): not an early claim
					}
				}
				return shardcore.NewClaimBuilder(cfg, beacon.Copy()).Build(cs)
			}
		}
	}
	return nil, fmt.Errorf("%w: none to shard %d is next in its inbox and in a crosslink inside the challenge window", ErrNoEarlyClaim, dst)
}
