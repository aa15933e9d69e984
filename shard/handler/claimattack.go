package handler

import (
	"errors"
	"fmt"

	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/shard/chain"
	st "github.com/shardlab/shardlab/shard/types"
)

// Receipt claim attacks for experiments: a claim a destination block
// already included, taken from the chain to be gossiped again (to its
// destination, or to a shard that is not), and the reasons a shard's
// chain refuses a claim. The simulator (sim/netsim) and a real shard
// node's debug API (shard/node) stage the attack through these, and a
// node counts the claims it rejects by the same reasons
// (Hooks.ClaimRejected).

// The reasons a chain refuses a claim (ClaimReason).
const (
	ClaimWrongShard     = "wrong shard"
	ClaimInvalidProof   = "invalid proof"
	ClaimAlreadyClaimed = "already claimed"
	// ClaimRefusedByPool: the claim's checks pass, yet the pool did not
	// take it (a duplicate, or a full pool).
	ClaimRefusedByPool = "refused by the pool"
)

// ErrNoClaim is wrapped when a chain has no claim to replay.
var ErrNoClaim = errors.New("no claim to replay")

// LatestClaim walks a chain back from head (at most two epochs' worth of
// blocks of the minimal preset) to the latest block with a claim and
// returns its last claim.
func LatestClaim(head bt.Root, block func(bt.Root) (*st.ShardBlock, []st.Receipt, bool)) (*st.ReceiptClaim, bool) {
	for range 64 {
		b, _, ok := block(head)
		if !ok {
			return nil, false
		}
		if n := len(b.Body.Claims); n > 0 {
			return b.Body.Claims[n-1], true
		}
		head = b.ParentRoot
	}
	return nil, false
}

// ClaimReason says why c, the chain of shard, refuses claim ("" when
// nothing refuses it): the claim's own checks, then its nonce against the
// head state's inbox.
func ClaimReason(c *chain.Service, shard bt.Shard, claim *st.ReceiptClaim) string {
	if claim.Receipt.DstShard != shard {
		return ClaimWrongShard
	}
	if err := c.CheckClaim(claim); err != nil {
		return ClaimInvalidProof
	}
	if next := c.Inbox(claim.Receipt.SrcShard); claim.Receipt.Nonce < next {
		return ClaimAlreadyClaimed
	}
	return ""
}

// ReplayTarget is the shard an attack claim of the latest claim of dst's
// chain goes to: dst itself (twice), or (wrongShard) the next shard that is
// neither dst nor the receipt's source.
func ReplayTarget(dst bt.Shard, claim *st.ReceiptClaim, wrongShard bool, shards uint64) bt.Shard {
	if !wrongShard {
		return dst
	}
	target := bt.Shard((uint64(dst) + 1) % shards)
	if target == claim.Receipt.SrcShard {
		target = bt.Shard((uint64(target) + 1) % shards)
	}
	return target
}

// ReplayClaim picks the latest claim included on the node's chain of dst,
// its window proof made anew against the beacon head when it can be, and
// the shard to send it to (ReplayTarget), and encodes it as a message of
// that shard's transaction topic.
func (h *Handler) ReplayClaim(dst bt.Shard, wrongShard bool) (target bt.Shard, claim *st.ReceiptClaim, msg []byte, err error) {
	c := h.chains[dst]
	if c == nil {
		return 0, nil, nil, fmt.Errorf("replay a claim of shard %d: not served here", dst)
	}
	claim, ok := LatestClaim(c.Head().Root, c.Block)
	if !ok {
		return 0, nil, nil, fmt.Errorf("replay a claim of shard %d: %w: none on its chain yet", dst, ErrNoClaim)
	}
	// Gossip message IDs hash the data: the claim exactly as a relayer
	// gossiped it would be dropped as seen. Proven anew against the beacon
	// head, as a relayer sends a claim now, it reaches the peers' checks.
	beaconRoot, _ := h.bchain.Head()
	if beacon, ok := h.bchain.StateAt(beaconRoot); ok {
		if w := h.WindowState(beaconRoot, beacon); w != nil {
			if rc, err := c.ReproveClaim(claim, beacon, w.Copy()); err == nil {
				claim = rc
			} else {
				h.log.Debug("replayed claim sent as included", "shard", uint64(dst), "err", err)
			}
		}
	}
	target = ReplayTarget(dst, claim, wrongShard, h.pcfg.ShardCount)
	msg, err = (&ShardMessage{Claim: []*st.ReceiptClaim{claim}}).MarshalSSZ()
	if err != nil {
		return 0, nil, nil, fmt.Errorf("replay a claim of shard %d: %w", dst, err)
	}
	return target, claim, msg, nil
}

// claimRejected counts a refused gossip claim by its reason (only with a
// hook: the reason re-checks the claim).
func (k *Hooks) claimRejected(c *chain.Service, shard bt.Shard, claim *st.ReceiptClaim) {
	if k.ClaimRejected == nil {
		return
	}
	reason := ClaimReason(c, shard, claim)
	if reason == "" {
		reason = ClaimRefusedByPool
	}
	k.ClaimRejected(shard, reason)
}
