package node

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardlab/shardlab/beacon/api"
	"github.com/shardlab/shardlab/beacon/clock"
	"github.com/shardlab/shardlab/beacon/handler"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
	"github.com/shardlab/shardlab/p2p"
)

// The debug API stages faults and byzantine behaviour on a real node, for
// `shardlab scenario run --engine testnet` (docs/api.md, "Debug API"). It
// is mounted only with Config.DebugAPI (--debug-api): anyone who can reach
// the HTTP API can then cut the node's links and make its validators
// commit slashable offences. Every route answers {"data": ...}.
//
//	POST /shardlab/v1/debug/peers/block     {"peers": [ID...]}  disconnect and refuse peers
//	POST /shardlab/v1/debug/peers/unblock   {"peers": [ID...]}  lift (all when empty) and redial
//	GET  /shardlab/v1/debug/peers/blocked                        the blocked peers
//	POST /shardlab/v1/debug/duties          {"enabled": BOOL}   hosted validators on or offline
//	POST /shardlab/v1/debug/double_vote     {"validator": V}    a second vote for V's target
//	POST /shardlab/v1/debug/surround_vote   {"validator": V}    a vote surrounding V's last one
//	POST /shardlab/v1/debug/equivocate      {"slot": S}         a second block if the node proposes S
//	POST /shardlab/v1/debug/exit            {"validator": V}    V's voluntary exit, signed and gossiped
//	POST /shardlab/v1/debug/validators/duties {"validators": [V...], "enabled": BOOL}  single validators on or offline
//	POST /shardlab/v1/debug/wrong_data_root {"shard": S, "share": F}  crosslink votes for a wrong data root
const DebugPathPrefix = "/shardlab/v1/debug/"

// maxDebugBody bounds a debug request body.
const maxDebugBody = 64 << 10

// mountDebug mounts the debug routes on srv.
func (n *Node) mountDebug(srv *api.Server, logger *slog.Logger) {
	route := func(method, name string, fn api.HandlerFunc) {
		srv.Mount(method+" "+DebugPathPrefix+name, api.NewHandler(logger, api.JSONOnly(fn)))
	}
	route("POST", "peers/block", n.serveBlockPeers(true))
	route("POST", "peers/unblock", n.serveBlockPeers(false))
	route("GET", "peers/blocked", func(w http.ResponseWriter, _ *http.Request) error {
		return api.WriteData(w, peerStrings(n.p2p.BlockedPeers()))
	})
	route("POST", "duties", n.serveDuties)
	route("POST", "double_vote", n.serveByzantineVote(DoubleVote))
	route("POST", "surround_vote", n.serveByzantineVote(SurroundVote))
	route("POST", "equivocate", n.serveEquivocate)
	route("POST", "exit", n.serveExit)
	route("POST", "validators/duties", n.serveValidatorDuties)
	route("POST", "wrong_data_root", n.serveWrongDataRoot)
}

// ReadDebugBody decodes a JSON request body into v, rejecting unknown
// fields (a 400 error); the shard node's debug routes read theirs so too.
func ReadDebugBody(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := api.ReadBody(w, r, maxDebugBody)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return api.Errorf(http.StatusBadRequest, "decode request body: %v", err)
	}
	return nil
}

func peerStrings(ids []peer.ID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}

// serveBlockPeers answers peers/block (block) and peers/unblock.
func (n *Node) serveBlockPeers(block bool) api.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var req struct {
			Peers []string `json:"peers"`
		}
		if err := ReadDebugBody(w, r, &req); err != nil {
			return err
		}
		ids := make([]peer.ID, 0, len(req.Peers))
		for _, s := range req.Peers {
			id, err := peer.Decode(s)
			if err != nil {
				return api.Errorf(http.StatusBadRequest, "peer %q: %v", s, err)
			}
			if id == n.p2p.ID() {
				return api.Errorf(http.StatusBadRequest, "peer %s is the node itself", s)
			}
			ids = append(ids, id)
		}
		if block {
			if len(ids) == 0 {
				return api.Errorf(http.StatusBadRequest, "no peers to block")
			}
			n.p2p.BlockPeers(ids)
			n.log.Warn("debug api: blocked peers", "peers", len(ids))
		} else {
			n.p2p.UnblockPeers(ids)
			n.log.Warn("debug api: unblocked peers", "peers", len(ids))
		}
		return api.WriteData(w, peerStrings(n.p2p.BlockedPeers()))
	}
}

// serveDuties answers duties: {"enabled": false} takes the hosted
// validators offline (the node still follows the chain), true back on.
func (n *Node) serveDuties(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Enabled *bool `json:"enabled"`
	}
	if err := ReadDebugBody(w, r, &req); err != nil {
		return err
	}
	if req.Enabled == nil {
		return api.Errorf(http.StatusBadRequest, "expected {\"enabled\": true|false}")
	}
	n.SetDuties(*req.Enabled)
	return api.WriteData(w, map[string]bool{"enabled": *req.Enabled})
}

// SetDuties turns the hosted validators' duties on or off.
func (n *Node) SetDuties(on bool) {
	n.do(func() { n.h.SetDuties(on) })
	n.log.Warn("debug api: validator duties", "enabled", on)
}

// ByzantineVote is the kind of extra vote of ScheduleByzantineVote (built
// by beacon/handler, as the simulator's are).
type ByzantineVote = handler.ByzantineVote

// The extra votes.
const (
	DoubleVote   = handler.DoubleVote
	SurroundVote = handler.SurroundVote
)

// serveByzantineVote answers double_vote and surround_vote with the duty
// slot at which the vote is cast: {"slot": S}.
func (n *Node) serveByzantineVote(kind ByzantineVote) api.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		v, err := readValidator(w, r)
		if err != nil {
			return err
		}
		slot, err := n.ScheduleByzantineVote(v, kind)
		if err != nil {
			return api.Errorf(http.StatusBadRequest, "%v", err)
		}
		return api.WriteData(w, map[string]uint64{"slot": uint64(slot)})
	}
}

// ScheduleByzantineVote makes hosted validator v cast an extra, slashable
// vote of the given kind at its duty slot of the current epoch (half a
// slot in, after its honest vote; at once when that time has passed),
// signed with its own key and gossiped. The node's slashing protection is
// bypassed on purpose; other nodes' slashers are meant to catch it. It
// returns the duty slot.
func (n *Node) ScheduleByzantineVote(v types.ValidatorIndex, kind ByzantineVote) (types.Slot, error) {
	cur, _ := n.slots.CurrentSlot()
	var (
		slot types.Slot
		sc   validator.SlotCommittee
		err  = fmt.Errorf("%s as validator %d: the node is closed", kind, v)
	)
	n.do(func() { slot, sc, err = n.h.ByzantineDuty(v, kind, cur) })
	if err != nil {
		return 0, err
	}
	at := n.slots.SlotStart(slot).Add(n.slots.SlotDuration() / 2)
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if clock.WaitUntil(n.ctx, n.slots.Clock(), at) != nil {
			return
		}
		if err := n.castByzantine(v, slot, sc, kind); err != nil {
			n.log.Warn("byzantine vote failed", "validator", uint64(v), "slot", slot, "err", err)
		}
	}()
	n.log.Warn("debug api: byzantine vote scheduled", "validator", uint64(v), "slot", slot, "kind", kind.String())
	return slot, nil
}

// castByzantine has the handler build and sign the extra vote on the
// node's head at slot, and gossips it.
func (n *Node) castByzantine(v types.ValidatorIndex, slot types.Slot, sc validator.SlotCommittee, kind ByzantineVote) error {
	var (
		a   *types.Attestation
		err = fmt.Errorf("the node is closed")
	)
	n.do(func() { a, err = n.h.ByzantineAttestation(v, slot, sc, kind) })
	if err != nil {
		return err
	}
	buf, err := a.MarshalSSZ()
	if err != nil {
		return err
	}
	n.log.Warn("byzantine vote", "validator", uint64(v), "slot", slot, "kind", kind.String(),
		"source", uint64(a.Data.Source.Epoch), "target", uint64(a.Data.Target.Epoch))
	return n.p2p.Publish(n.ctx, p2p.BeaconAttestationTopic, buf)
}

// serveEquivocate answers equivocate: {"slot": S} arms the node to publish
// a second block when it proposes slot S (a node whose validators do not
// propose S does nothing).
func (n *Node) serveEquivocate(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Slot *uint64 `json:"slot"`
	}
	if err := ReadDebugBody(w, r, &req); err != nil {
		return err
	}
	if req.Slot == nil {
		return api.Errorf(http.StatusBadRequest, "expected {\"slot\": SLOT}")
	}
	if cur, _ := n.slots.CurrentSlot(); types.Slot(*req.Slot) <= cur {
		return api.Errorf(http.StatusBadRequest, "slot %d has begun (current slot %d)", *req.Slot, cur)
	}
	n.equivocateAt.Store(*req.Slot + 1)
	return api.WriteData(w, map[string]uint64{"slot": *req.Slot})
}

// equivocate publishes, when the node's own block of the armed slot goes
// out, a second block for that slot (other graffiti, validly signed).
func (n *Node) equivocate(topic string, data []byte) {
	armed := n.equivocateAt.Load()
	if armed == 0 || topic != p2p.BeaconBlockTopic {
		return
	}
	b, err := types.DecodeBlock(n.pcfg, data)
	if err != nil || uint64(b.GetSlot())+1 != armed || !n.equivocateAt.CompareAndSwap(armed, 0) {
		return
	}
	// Called from the handler's Publish, with the node's lock held.
	second, err := n.h.EquivocatingBlock(b, fmt.Sprintf("equivocation of slot %d", b.GetSlot()))
	var buf []byte
	if err == nil {
		buf, err = second.MarshalSSZ()
	}
	if err == nil {
		err = n.p2p.Publish(n.ctx, p2p.BeaconBlockTopic, buf)
	}
	if err != nil {
		n.log.Warn("equivocation failed", "slot", b.GetSlot(), "err", err)
		return
	}
	n.log.Warn("equivocating", "slot", b.GetSlot())
}
