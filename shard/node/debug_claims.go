package node

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	beaconapi "github.com/shardlab/shardlab/beacon/api"
	bnode "github.com/shardlab/shardlab/beacon/node"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p"
	shardhandler "github.com/shardlab/shardlab/shard/handler"
)

// The claim attack debug route (docs/api.md "Debug API"): the node takes
// the latest receipt claim a block of the shard included on its chain
// and gossips it again, on the shard's transaction topic (kind twice) or
// on the next shard's that is neither the shard nor the receipt's source
// (wrong_shard). The node's own validation is skipped for its own
// publication; the other nodes serving the target shard refuse it and
// count it in shard_claims_rejected_total by reason.

// ClaimAttackPath is the route of the claim attack debug endpoint.
const ClaimAttackPath = bnode.DebugPathPrefix + "shards/{shard}/claim_attack"

// The claim attack kinds (the scenario action claim_attack's).
const (
	ClaimTwice      = "twice"
	ClaimWrongShard = "wrong_shard"
)

// ReplayedClaim describes a replayed claim: the shard whose chain
// included it, the shard it went to, and the receipt's source and nonce.
type ReplayedClaim struct {
	Shard, Target, Src, Nonce uint64
}

// serveClaimAttack answers with {"shard", "target", "src", "nonce"}.
func (n *Node) serveClaimAttack(w http.ResponseWriter, r *http.Request) error {
	s, kind, err := n.readShardKind(w, r, "", ClaimTwice, ClaimWrongShard)
	if err != nil {
		return err
	}
	rc, err := n.ReplayClaim(s, kind == ClaimWrongShard)
	if errors.Is(err, shardhandler.ErrNoClaim) {
		return beaconapi.Errorf(http.StatusConflict, "%v", err)
	}
	if err != nil {
		return err
	}
	f := func(v uint64) string { return strconv.FormatUint(v, 10) }
	return beaconapi.WriteData(w, map[string]string{"shard": f(rc.Shard), "target": f(rc.Target), "src": f(rc.Src), "nonce": f(rc.Nonce)})
}

// ReplayClaim gossips again the latest claim included on the node's chain
// of shard dst: to dst, or (wrongShard) to another shard.
func (n *Node) ReplayClaim(dst bt.Shard, wrongShard bool) (ReplayedClaim, error) {
	target, claim, msg, err := n.h.ReplayClaim(dst, wrongShard)
	if err != nil {
		return ReplayedClaim{}, err
	}
	if err := n.p2p.Publish(n.ctx, p2p.ShardTxTopic(uint64(target)), msg); err != nil {
		return ReplayedClaim{}, fmt.Errorf("replay a claim of shard %d: publish: %w", dst, err)
	}
	rc := ReplayedClaim{Shard: uint64(dst), Target: uint64(target), Src: uint64(claim.Receipt.SrcShard), Nonce: claim.Receipt.Nonce}
	n.log.Warn("debug api: replayed a receipt claim", "shard", rc.Shard, "to shard", rc.Target, "src", rc.Src, "nonce", rc.Nonce)
	return rc, nil
}
