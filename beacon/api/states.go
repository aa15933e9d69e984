package api

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/types"
)

// The /eth/v1/beacon/states/{state_id}/... and debug state endpoints.

func (s *Server) pathState(r *http.Request) (*resolvedState, error) {
	id, err := ParseStateID(r.PathValue("state_id"))
	if err != nil {
		return nil, err
	}
	return s.resolveState(id)
}

// stateVersion is the fork name of a state: "shard" once the shard fork is
// active at its epoch.
func (s *Server) stateVersion(st *types.BeaconState) string {
	if s.be.Transition().ShardForkActive(st) {
		return VersionShard
	}
	return VersionPhase0
}

func (s *Server) stateRoot(w http.ResponseWriter, r *http.Request) error {
	rs, err := s.pathState(r)
	if err != nil {
		return err
	}
	return WriteData(w, rootData{Root: rs.root})
}

func (s *Server) stateFork(w http.ResponseWriter, r *http.Request) error {
	rs, err := s.pathState(r)
	if err != nil {
		return err
	}
	return WriteData(w, rs.st.Fork)
}

type finalityData struct {
	PreviousJustified types.Checkpoint
	CurrentJustified  types.Checkpoint
	Finalized         types.Checkpoint
}

func (s *Server) stateFinality(w http.ResponseWriter, r *http.Request) error {
	rs, err := s.pathState(r)
	if err != nil {
		return err
	}
	return WriteData(w, finalityData{
		PreviousJustified: rs.st.PreviousJustifiedCheckpoint,
		CurrentJustified:  rs.st.CurrentJustifiedCheckpoint,
		Finalized:         rs.st.FinalizedCheckpoint,
	})
}

type validatorData struct {
	Index     types.ValidatorIndex
	Balance   types.Gwei
	Status    ValidatorStatus
	Validator types.Validator
}

// selectValidators returns the indices of st's validators named by ids
// (all when empty; unknown ones left out), in index order, whose status at
// the state's epoch matches one of statuses (any when empty).
func (s *Server) selectValidators(st *types.BeaconState, ids, statuses []string) ([]types.ValidatorIndex, error) {
	want := make([]ValidatorStatus, 0, len(statuses))
	for _, v := range statuses {
		vs := ValidatorStatus(v)
		if !knownStatus(vs) {
			return nil, Errorf(http.StatusBadRequest, "invalid validator status %q", truncate(v))
		}
		want = append(want, vs)
	}
	n := len(st.Validators)
	var indices []types.ValidatorIndex
	if len(ids) == 0 {
		indices = make([]types.ValidatorIndex, n)
		for i := range indices {
			indices[i] = types.ValidatorIndex(i)
		}
	} else {
		var byKey map[types.BLSPubkey]types.ValidatorIndex
		for _, raw := range ids {
			id, err := ParseValidatorID(raw)
			if err != nil {
				return nil, err
			}
			if !id.IsPubkey {
				if uint64(id.Index) < uint64(n) {
					indices = append(indices, id.Index)
				}
				continue
			}
			if byKey == nil {
				byKey = make(map[types.BLSPubkey]types.ValidatorIndex, n)
				for i := range st.Validators {
					byKey[st.Validators[i].Pubkey] = types.ValidatorIndex(i)
				}
			}
			if i, ok := byKey[id.Pubkey]; ok {
				indices = append(indices, i)
			}
		}
		slices.Sort(indices)
		indices = slices.Compact(indices)
	}
	if len(want) == 0 {
		return indices, nil
	}
	epoch := core.ComputeEpochOfSlot(s.be.Config(), st.Slot)
	out := indices[:0]
	for _, i := range indices {
		vs := Status(&st.Validators[i], balanceOf(st, i), epoch)
		if slices.Contains(want, vs) || slices.Contains(want, vs.General()) {
			out = append(out, i)
		}
	}
	return out, nil
}

func balanceOf(st *types.BeaconState, i types.ValidatorIndex) types.Gwei {
	if uint64(i) < uint64(len(st.Balances)) {
		return st.Balances[i]
	}
	return 0
}

func (s *Server) validatorsData(st *types.BeaconState, indices []types.ValidatorIndex) []validatorData {
	epoch := core.ComputeEpochOfSlot(s.be.Config(), st.Slot)
	out := make([]validatorData, len(indices))
	for k, i := range indices {
		v := &st.Validators[i]
		bal := balanceOf(st, i)
		out[k] = validatorData{Index: i, Balance: bal, Status: Status(v, bal, epoch), Validator: *v}
	}
	return out
}

func (s *Server) stateValidators(w http.ResponseWriter, r *http.Request) error {
	rs, err := s.pathState(r)
	if err != nil {
		return err
	}
	indices, err := s.selectValidators(rs.st, QueryValues(r, "id"), QueryValues(r, "status"))
	if err != nil {
		return err
	}
	return WriteData(w, s.validatorsData(rs.st, indices))
}

// validatorsRequest is the body of POST .../validators.
type validatorsRequest struct {
	IDs      []string `json:"ids,omitempty"`
	Statuses []string `json:"statuses,omitempty"`
}

func (s *Server) stateValidatorsPost(w http.ResponseWriter, r *http.Request) error {
	var req validatorsRequest
	rs, err := s.postState(w, r, &req)
	if err != nil {
		return err
	}
	indices, err := s.selectValidators(rs.st, req.IDs, req.Statuses)
	if err != nil {
		return err
	}
	return WriteData(w, s.validatorsData(rs.st, indices))
}

// postState reads a POST on a state route: the JSON body into req (an
// empty body leaves it as it is), then the state of the path.
func (s *Server) postState(w http.ResponseWriter, r *http.Request, req any) (*resolvedState, error) {
	if _, err := RequestEncoding(r, false); err != nil {
		return nil, err
	}
	id, err := ParseStateID(r.PathValue("state_id"))
	if err != nil {
		return nil, err
	}
	body, err := ReadBody(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		return nil, err
	}
	if len(body) > 0 {
		if err := DecodeJSON(body, req); err != nil {
			return nil, Errorf(http.StatusBadRequest, "%v", err)
		}
	}
	return s.resolveState(id)
}

func (s *Server) stateValidator(w http.ResponseWriter, r *http.Request) error {
	id, err := ParseStateID(r.PathValue("state_id"))
	if err != nil {
		return err
	}
	raw := r.PathValue("validator_id")
	if _, err := ParseValidatorID(raw); err != nil {
		return err
	}
	rs, err := s.resolveState(id)
	if err != nil {
		return err
	}
	indices, err := s.selectValidators(rs.st, []string{raw}, nil)
	if err != nil {
		return err
	}
	if len(indices) == 0 {
		return Errorf(http.StatusNotFound, "validator %s not found", truncate(raw))
	}
	return WriteData(w, s.validatorsData(rs.st, indices)[0])
}

type balanceData struct {
	Index   types.ValidatorIndex
	Balance types.Gwei
}

func (s *Server) stateBalances(w http.ResponseWriter, r *http.Request) error {
	rs, err := s.pathState(r)
	if err != nil {
		return err
	}
	return s.writeBalances(w, rs, QueryValues(r, "id"))
}

// stateBalancesPost is the standard POST form: the body is a JSON array of
// validator ids (indices or 0x public keys); empty or [] selects all.
func (s *Server) stateBalancesPost(w http.ResponseWriter, r *http.Request) error {
	var ids []string
	rs, err := s.postState(w, r, &ids)
	if err != nil {
		return err
	}
	return s.writeBalances(w, rs, ids)
}

// writeBalances answers the balances of the validators ids selects.
func (s *Server) writeBalances(w http.ResponseWriter, rs *resolvedState, ids []string) error {
	indices, err := s.selectValidators(rs.st, ids, nil)
	if err != nil {
		return err
	}
	out := make([]balanceData, len(indices))
	for k, i := range indices {
		out[k] = balanceData{Index: i, Balance: balanceOf(rs.st, i)}
	}
	return WriteData(w, out)
}

// committeeData is one v0.8.3 crosslink committee: Index is its shard.
type committeeData struct {
	Index      types.Shard
	Slot       types.Slot
	Validators []types.ValidatorIndex
}

// stateCommittees lists the crosslink committees of ?epoch= (default: the
// state's epoch; from the previous to the next epoch of the state), one per
// shard that attests in the epoch, filtered by ?slot= and ?index= (shard).
func (s *Server) stateCommittees(w http.ResponseWriter, r *http.Request) error {
	id, err := ParseStateID(r.PathValue("state_id"))
	if err != nil {
		return err
	}
	epochQ, haveEpoch, err := QueryUint(r, "epoch")
	if err != nil {
		return err
	}
	shardQ, haveShard, err := QueryUint(r, "index")
	if err != nil {
		return err
	}
	slotQ, haveSlot, err := QueryUint(r, "slot")
	if err != nil {
		return err
	}
	cfg := s.be.Config()
	if haveShard && shardQ >= cfg.ShardCount {
		return Errorf(http.StatusBadRequest, "invalid index %d: v0.8.3 committee indices are shards, below SHARD_COUNT %d", shardQ, cfg.ShardCount)
	}
	rs, err := s.resolveState(id)
	if err != nil {
		return err
	}
	tr := s.be.Transition()
	current := tr.CurrentEpoch(rs.st)
	epoch := current
	switch {
	case haveEpoch:
		epoch = types.Epoch(epochQ)
	case haveSlot:
		epoch = core.ComputeEpochOfSlot(cfg, types.Slot(slotQ))
	}
	if haveSlot && core.ComputeEpochOfSlot(cfg, types.Slot(slotQ)) != epoch {
		return Errorf(http.StatusBadRequest, "slot %d is not in epoch %d", slotQ, epoch)
	}
	if epoch+1 < current || epoch > current+1 {
		return Errorf(http.StatusBadRequest, "epoch %d is out of range: the state at epoch %d knows the committees of epochs %d to %d",
			epoch, current, tr.PreviousEpoch(rs.st), current+1)
	}
	ec, err := tr.Committees(rs.st, epoch)
	if err != nil {
		return fmt.Errorf("compute the committees of epoch %d: %w", epoch, err)
	}
	out := []committeeData{}
	for k, shard := range ec.Shards {
		slot := ec.Slot(cfg, k)
		if haveSlot && slot != types.Slot(slotQ) {
			continue
		}
		if haveShard && shard != types.Shard(shardQ) {
			continue
		}
		out = append(out, committeeData{Index: shard, Slot: slot, Validators: nonNil(ec.Committees[k])})
	}
	return WriteData(w, out)
}

func (s *Server) debugState(w http.ResponseWriter, r *http.Request) error {
	id, err := ParseStateID(r.PathValue("state_id"))
	if err != nil {
		return err
	}
	enc, err := Negotiate(r, true)
	if err != nil {
		return err
	}
	rs, err := s.resolveState(id)
	if err != nil {
		return err
	}
	v := s.stateVersion(rs.st)
	if enc == EncodingSSZ {
		body, err := rs.st.MarshalSSZ()
		if err != nil {
			return fmt.Errorf("encode state %s: %w", rs.root, err)
		}
		WriteSSZ(w, v, body)
		return nil
	}
	data, err := EncodeJSON(rs.st)
	if err != nil {
		return err
	}
	w.Header().Set(VersionHeader, v)
	return WriteJSON(w, http.StatusOK, versioned{Version: v, Data: data})
}
