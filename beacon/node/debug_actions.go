package node

import (
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/shardlab/shardlab/beacon/api"
	"github.com/shardlab/shardlab/beacon/clock"
	"github.com/shardlab/shardlab/beacon/handler"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
	"github.com/shardlab/shardlab/p2p"
)

// Debug routes for the registry and the crosslink votes (debug.go has the
// others): a voluntary exit, single validators offline, and crosslink
// votes for a wrong data root. Each builds its messages through
// beacon/handler, as the simulator does.

// serveExit answers exit: {"validator": V} signs V's voluntary exit from
// the current epoch, adds it to the node's pool and gossips it; the answer
// is {"validator": V, "epoch": E}.
func (n *Node) serveExit(w http.ResponseWriter, r *http.Request) error {
	v, err := readValidator(w, r)
	if err != nil {
		return err
	}
	epoch, err := n.VoluntaryExit(v)
	if err != nil {
		return api.Errorf(http.StatusBadRequest, "%v", err)
	}
	return api.WriteData(w, map[string]uint64{"validator": uint64(v), "epoch": uint64(epoch)})
}

// readValidator reads a {"validator": INDEX} request body.
func readValidator(w http.ResponseWriter, r *http.Request) (types.ValidatorIndex, error) {
	var req struct {
		Validator *uint64 `json:"validator"`
	}
	if err := ReadDebugBody(w, r, &req); err != nil {
		return 0, err
	}
	if req.Validator == nil {
		return 0, api.Errorf(http.StatusBadRequest, "expected {\"validator\": INDEX}")
	}
	return types.ValidatorIndex(*req.Validator), nil
}

// VoluntaryExit has hosted validator v exit from the current epoch: the
// exit is signed with v's key, added to the node's pool and gossiped on
// the voluntary exit topic. It returns the exit's epoch. The epoch is the
// chain's current one, the one the pool checks the exit against: the wall
// clock's may be one ahead in the instant between a new epoch's start and
// the chain's tick into it, and the pool then refused the exit as too
// early (seen on a testnet exit step fired at an epoch's first slot).
func (n *Node) VoluntaryExit(v types.ValidatorIndex) (types.Epoch, error) {
	epoch := types.Epoch(uint64(n.chain.CurrentSlot()) / n.pcfg.SlotsPerEpoch)
	var (
		e   *types.VoluntaryExit
		err = errors.New("the node is closed")
	)
	n.do(func() { e, err = n.h.VoluntaryExit(v, epoch) })
	if err != nil {
		return 0, err
	}
	buf, err := e.MarshalSSZ()
	if err != nil {
		return 0, fmt.Errorf("exit validator %d: %w", v, err)
	}
	if err := n.p2p.Publish(n.ctx, p2p.VoluntaryExitTopic, buf); err != nil {
		return 0, fmt.Errorf("exit validator %d: publish: %w", v, err)
	}
	n.log.Warn("debug api: voluntary exit", "validator", uint64(v), "epoch", uint64(epoch))
	return epoch, nil
}

// serveValidatorDuties answers validators/duties: {"validators": [..],
// "enabled": false} takes those hosted validators offline (the node's
// others keep their duties), true back online (with no validators: all of
// them). The answer is {"offline": [..]}, the validators offline now.
func (n *Node) serveValidatorDuties(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Validators []uint64 `json:"validators"`
		Enabled    *bool    `json:"enabled"`
	}
	if err := ReadDebugBody(w, r, &req); err != nil {
		return err
	}
	switch {
	case req.Enabled == nil:
		return api.Errorf(http.StatusBadRequest, "expected {\"validators\": [INDEX...], \"enabled\": true|false}")
	case !*req.Enabled && len(req.Validators) == 0:
		return api.Errorf(http.StatusBadRequest, "no validators to take offline")
	}
	vs := make([]types.ValidatorIndex, len(req.Validators))
	for i, v := range req.Validators {
		vs[i] = types.ValidatorIndex(v)
	}
	off, err := n.SetValidatorsOffline(vs, !*req.Enabled)
	if err != nil {
		return api.Errorf(http.StatusBadRequest, "%v", err)
	}
	out := make([]string, len(off))
	for i, v := range off {
		out[i] = fmt.Sprint(uint64(v))
	}
	return api.WriteData(w, map[string][]string{"offline": out})
}

// SetValidatorsOffline takes hosted validators offline or back online
// (handler.SetValidatorsOffline) and returns those offline now.
func (n *Node) SetValidatorsOffline(vs []types.ValidatorIndex, off bool) ([]types.ValidatorIndex, error) {
	var (
		now []types.ValidatorIndex
		err = errors.New("the node is closed")
	)
	n.do(func() { now, err = n.h.SetValidatorsOffline(vs, off) })
	if err == nil {
		n.log.Warn("debug api: validator duties", "validators", len(vs), "offline", off, "offline now", len(now))
	}
	return now, err
}

// serveWrongDataRoot answers wrong_data_root: {"shard": S, "share": F},
// called at an epoch's start, makes the first share F (rounded up) of
// shard S's crosslink committee of the epoch vote, at the start of their
// duty slot, a crosslink with a data root no shard chain gives; the node
// casts for the voters it hosts. The answer is {"slot": D, "voters":
// [..], "hosted": [..]}: the duty slot, every voter and those cast here.
func (n *Node) serveWrongDataRoot(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Shard *uint64  `json:"shard"`
		Share *float64 `json:"share"`
	}
	if err := ReadDebugBody(w, r, &req); err != nil {
		return err
	}
	if req.Shard == nil || req.Share == nil {
		return api.Errorf(http.StatusBadRequest, "expected {\"shard\": SHARD, \"share\": FRACTION}")
	}
	slot, voters, hosted, err := n.ScheduleWrongDataRoot(types.Shard(*req.Shard), *req.Share)
	if err != nil {
		return api.Errorf(http.StatusBadRequest, "%v", err)
	}
	return api.WriteData(w, map[string]any{"slot": fmt.Sprint(uint64(slot)), "voters": indexStrings(voters), "hosted": indexStrings(hosted)})
}

// ScheduleWrongDataRoot finds the wrong data root voters of shard in the
// current epoch (which must have just begun: the epoch's start slot is
// the current one) and, for those the node hosts, schedules their vote at
// the start of the duty slot. It returns the duty slot, every voter and
// the hosted ones (possibly none).
func (n *Node) ScheduleWrongDataRoot(shard types.Shard, share float64) (types.Slot, []types.ValidatorIndex, []types.ValidatorIndex, error) {
	cur, _ := n.slots.CurrentSlot()
	var (
		slot   types.Slot
		sc     validator.SlotCommittee
		voters []types.ValidatorIndex
		err    = errors.New("the node is closed")
	)
	n.do(func() { slot, sc, voters, err = n.h.WrongDataRootDuty(shard, share, cur) })
	if err != nil {
		return 0, nil, nil, err
	}
	var hosted []types.ValidatorIndex
	for _, v := range voters {
		if n.hosts(v) {
			hosted = append(hosted, v)
		}
	}
	if len(hosted) == 0 {
		return slot, voters, nil, nil
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if clock.WaitUntil(n.ctx, n.slots.Clock(), n.slots.SlotStart(slot)) != nil {
			return
		}
		if err := n.castWrongDataRoot(slot, sc, hosted); err != nil {
			n.log.Warn("wrong data root vote failed", "slot", slot, "shard", uint64(shard), "err", err)
		}
	}()
	n.log.Warn("debug api: wrong data root votes scheduled", "shard", uint64(shard), "slot", slot, "voters", len(hosted))
	return slot, voters, hosted, nil
}

// hosts reports whether the node hosts validator v's key.
func (n *Node) hosts(v types.ValidatorIndex) bool {
	hosted := false
	n.do(func() { hosted = n.h.Hosts(v) })
	return hosted
}

// castWrongDataRoot has the handler build, sign and record the hosted
// voters' wrong vote and gossips it.
func (n *Node) castWrongDataRoot(slot types.Slot, sc validator.SlotCommittee, voters []types.ValidatorIndex) error {
	var (
		a      *types.Attestation
		signed []types.ValidatorIndex
		err    = errors.New("the node is closed")
	)
	n.do(func() { a, signed, err = n.h.WrongDataRootVote(slot, sc, voters, handler.UnknownDataRoot) })
	if err != nil {
		return err
	}
	buf, err := a.MarshalSSZ()
	if err != nil {
		return err
	}
	n.log.Warn("wrong data root vote", "slot", slot, "shard", uint64(sc.Shard), "validators", len(signed), "root", a.Data.Crosslink.DataRoot)
	return n.p2p.Publish(n.ctx, p2p.BeaconAttestationTopic, buf)
}

func indexStrings(vs []types.ValidatorIndex) []string {
	out := make([]string, len(vs))
	for i, v := range slices.Clone(vs) {
		out[i] = fmt.Sprint(uint64(v))
	}
	return out
}
