package node

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"

	beaconapi "github.com/shardlab/shardlab/beacon/api"
	bnode "github.com/shardlab/shardlab/beacon/node"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p"
	"github.com/shardlab/shardlab/shard/chain"
	shardcore "github.com/shardlab/shardlab/shard/core"
	shardhandler "github.com/shardlab/shardlab/shard/handler"
)

// The shard node's debug route, mounted with the embedded beacon node's
// (Config.Beacon.DebugAPI, --debug-api; docs/api.md "Debug API"):
//
//	POST /shardlab/v1/debug/shards/{shard}/invalid_block {"kind": K}  a block with a wrong state root (or an early claim)
//	POST /shardlab/v1/debug/shards/{shard}/claim_attack {"kind": "twice"|"wrong_shard"}  a claim replayed
//
// It stages the fraud a fisherman must catch: the node builds the next
// slot's block of the shard on its head, as that slot's scheduled
// proposer (whose key it must host), gives it a wrong state root, signs
// it and gossips it at once (gossip takes blocks a slot early). The node
// does not import it (its own honest proposal of the slot goes out as
// usual): the other nodes serving the shard receive it, re-execute it,
// and gossip a fraud proof.

// InvalidBlockPath is the route of the invalid-block debug endpoint.
const InvalidBlockPath = bnode.DebugPathPrefix + "shards/{shard}/invalid_block"

// InvalidBlock describes a published fraudulent block.
type InvalidBlock struct {
	Shard, Slot, Proposer uint64
	Root                  bt.Root
}

// mountDebug mounts the shard debug route on srv.
func (n *Node) mountDebug(srv *beaconapi.Server, logger *slog.Logger) {
	srv.Mount("POST "+InvalidBlockPath, beaconapi.NewHandler(logger, beaconapi.JSONOnly(n.serveInvalidBlock)))
	srv.Mount("POST "+ClaimAttackPath, beaconapi.NewHandler(logger, beaconapi.JSONOnly(n.serveClaimAttack)))
}

// serveInvalidBlock answers with {"shard", "slot", "proposer", "root"} of
// the published block.
func (n *Node) serveInvalidBlock(w http.ResponseWriter, r *http.Request) error {
	s, kind, err := n.readShardKind(w, r, FraudStateRoot, FraudStateRoot, FraudEarlyClaim)
	if err != nil {
		return err
	}
	cur, _ := n.beacon.Slots().CurrentSlot()
	// The next slot's: a gossip block may be a slot early, and the head
	// is older than it (the slot's honest proposal comes at its start).
	ib, err := n.PublishFraudBlock(s, cur+1, kind)
	if err != nil {
		return beaconapi.Errorf(http.StatusConflict, "%v", err)
	}
	return beaconapi.WriteData(w, map[string]any{"shard": strconv.FormatUint(ib.Shard, 10), "slot": strconv.FormatUint(ib.Slot, 10),
		"proposer": strconv.FormatUint(ib.Proposer, 10), "root": ib.Root.String()})
}

// The kinds of fraudulent blocks of the invalid block route.
const (
	// FraudStateRoot commits to a wrong post-state root.
	FraudStateRoot = "state_root"
	// FraudEarlyClaim includes the claim of a receipt whose crosslink is
	// not yet past the challenge window (shardhandler.EarlyClaim), from a
	// source shard the node serves.
	FraudEarlyClaim = "early_claim"
)

// readShardKind reads a shard debug route's request: the path's shard,
// which the node must serve, and the body's {"kind": K}, one of kinds
// (def when the body has none and def is not "").
func (n *Node) readShardKind(w http.ResponseWriter, r *http.Request, def string, kinds ...string) (bt.Shard, string, error) {
	s, err := strconv.ParseUint(r.PathValue("shard"), 10, 64)
	if err != nil {
		return 0, "", beaconapi.Errorf(http.StatusBadRequest, "shard %q: expected a shard number", r.PathValue("shard"))
	}
	var req struct {
		Kind string `json:"kind"`
	}
	if err := bnode.ReadDebugBody(w, r, &req); err != nil {
		return 0, "", err
	}
	if req.Kind == "" {
		req.Kind = def
	}
	if !slices.Contains(kinds, req.Kind) {
		return 0, "", beaconapi.Errorf(http.StatusBadRequest, "kind %q: expected %s", req.Kind, strings.Join(kinds, " or "))
	}
	if _, ok := n.chains[bt.Shard(s)]; !ok {
		return 0, "", beaconapi.Errorf(http.StatusBadRequest, "shard %d is not served by this node (it serves %s)", s, shardList(n.shards))
	}
	return bt.Shard(s), req.Kind, nil
}

// PublishInvalidBlock builds shard s's block of slot on the node's shard
// and beacon heads with a wrong state root, signs it with the scheduled
// proposer's hosted key and gossips it (without importing it).
func (n *Node) PublishInvalidBlock(s bt.Shard, slot bt.Slot) (InvalidBlock, error) {
	return n.PublishFraudBlock(s, slot, FraudStateRoot)
}

// PublishFraudBlock is PublishInvalidBlock for a kind of fraud:
// FraudStateRoot, or FraudEarlyClaim (the block, built without it, gets
// an early claim appended).
func (n *Node) PublishFraudBlock(s bt.Shard, slot bt.Slot, kind string) (InvalidBlock, error) {
	c, ok := n.chains[s]
	if !ok {
		return InvalidBlock{}, fmt.Errorf("invalid block of shard %d: not served", s)
	}
	beaconRoot, _ := n.bchain.Head()
	beacon, ok := n.bchain.StateAt(beaconRoot)
	if !ok {
		return InvalidBlock{}, fmt.Errorf("invalid block of shard %d: no beacon head state", s)
	}
	parent := c.Head()
	built, err := shardcore.BuildBlock(n.tr, shardcore.BlockContext{Parent: &parent.Header, BeaconRoot: beaconRoot, Beacon: beacon},
		c.HeadState(), slot, nil, nil, nil, shardcore.ExecOptions{TxDomain: n.verifier.TxDomain(n.pcfg)})
	if err != nil {
		return InvalidBlock{}, fmt.Errorf("invalid block of shard %d slot %d: build: %w", s, slot, err)
	}
	b := built.Block
	if n.keys == nil {
		return InvalidBlock{}, fmt.Errorf("invalid block of shard %d slot %d: the node hosts no proposer keys", s, slot)
	}
	sk, ok := n.keys.SecretKeyOf(beacon.Validators[b.ProposerIndex].Pubkey)
	if !ok {
		return InvalidBlock{}, fmt.Errorf("invalid block of shard %d slot %d: proposer %d not hosted here", s, slot, b.ProposerIndex)
	}
	if kind == FraudEarlyClaim {
		claim, err := shardhandler.EarlyClaim(n.pcfg, n.h.WindowState(beaconRoot, beacon), beacon, c.HeadState(), n.servedChain)
		if err != nil {
			return InvalidBlock{}, fmt.Errorf("invalid block of shard %d slot %d: %w", s, slot, err)
		}
		b.Body.Claims = append(b.Body.Claims, claim)
	} else {
		b.StateRoot[0] ^= 0xff // any other root is wrong
	}
	if err := shardcore.SignBlock(n.tr, b, sk); err != nil {
		return InvalidBlock{}, fmt.Errorf("invalid block of shard %d slot %d: sign: %w", s, slot, err)
	}
	root, err := b.SigningRoot()
	if err != nil {
		return InvalidBlock{}, err
	}
	buf, err := b.MarshalSSZ()
	if err != nil {
		return InvalidBlock{}, err
	}
	if err := n.p2p.Publish(n.ctx, p2p.ShardBlockTopic(uint64(s)), buf); err != nil {
		return InvalidBlock{}, fmt.Errorf("invalid block of shard %d slot %d: publish: %w", s, slot, err)
	}
	n.log.Warn("debug api: published a fraudulent shard block", "kind", kind, "shard", uint64(s), "slot", slot, "root", root, "validator", uint64(b.ProposerIndex))
	return InvalidBlock{Shard: uint64(s), Slot: uint64(slot), Proposer: uint64(b.ProposerIndex), Root: root}, nil
}

// servedChain is the node's chain of shard src (nil: not served).
func (n *Node) servedChain(src bt.Shard) *chain.Service { return n.chains[src] }
