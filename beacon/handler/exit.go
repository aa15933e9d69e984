package handler

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
)

// ErrNotHosted is wrapped when an action names a validator whose key the
// node does not host.
var ErrNotHosted = errors.New("validator not hosted here")

// VoluntaryExit signs hosted validator v's voluntary exit from epoch on
// with its own key and adds it to the node's operation pool (which checks
// it against the head state); the caller gossips it. The simulator and a
// real node's debug API both exit validators through it.
func (h *Handler) VoluntaryExit(v types.ValidatorIndex, epoch types.Epoch) (*types.VoluntaryExit, error) {
	st := h.chain.HeadState()
	if !h.hosts(st, v) {
		return nil, fmt.Errorf("exit validator %d: %w (hosted: %s)", v, ErrNotHosted, h.cfg.Keys)
	}
	e, err := validator.SignVoluntaryExit(h.tr, st, v, epoch, h.cfg.Keys)
	if err != nil {
		return nil, fmt.Errorf("exit validator %d: %w", v, err)
	}
	if err := h.chain.AddVoluntaryExit(e); err != nil {
		return nil, fmt.Errorf("exit validator %d: %w", v, err)
	}
	return e, nil
}

// SetValidatorsOffline takes hosted validators vs offline (off) or back
// online: an offline validator neither proposes nor attests (as
// Behaviour.Offline, which it extends), while the node's other validators
// keep their duties. Back online with no validators named puts every
// validator taken offline so back. A validator the node does not host is
// an error wrapping ErrNotHosted, and nothing changes. It returns the
// validators offline now, ascending.
func (h *Handler) SetValidatorsOffline(vs []types.ValidatorIndex, off bool) ([]types.ValidatorIndex, error) {
	st := h.chain.HeadState()
	for _, v := range vs {
		if !h.hosts(st, v) {
			return nil, fmt.Errorf("validator %d: %w (hosted: %s)", v, ErrNotHosted, h.cfg.Keys)
		}
	}
	if h.offVals == nil {
		h.offVals = map[types.ValidatorIndex]bool{}
		prev := h.cfg.Behaviour.Offline
		h.cfg.Behaviour.Offline = func(v types.ValidatorIndex) bool { return h.offVals[v] || is(prev, v) }
	}
	if !off && len(vs) == 0 {
		clear(h.offVals)
	}
	for _, v := range vs {
		if off {
			h.offVals[v] = true
		} else {
			delete(h.offVals, v)
		}
	}
	out := slices.Sorted(maps.Keys(h.offVals))
	return out, nil
}

// Hosts reports whether the node hosts validator v's key (v in the head
// state's registry).
func (h *Handler) Hosts(v types.ValidatorIndex) bool { return h.hosts(h.chain.HeadState(), v) }

// hosts reports whether the node hosts the key of st's validator v.
func (h *Handler) hosts(st *types.BeaconState, v types.ValidatorIndex) bool {
	if h.cfg.Keys == nil || uint64(v) >= uint64(len(st.Validators)) {
		return false
	}
	_, ok := h.cfg.Keys.SecretKeyOf(st.Validators[v].Pubkey)
	return ok
}
