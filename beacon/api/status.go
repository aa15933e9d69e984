package api

import (
	"github.com/shardlab/shardlab/beacon/types"
)

// ValidatorStatus is a validator status of the Beacon API.
type ValidatorStatus string

// The statuses of the Beacon API's validator status definitions.
const (
	StatusPendingInitialized ValidatorStatus = "pending_initialized"
	StatusPendingQueued      ValidatorStatus = "pending_queued"
	StatusActiveOngoing      ValidatorStatus = "active_ongoing"
	StatusActiveExiting      ValidatorStatus = "active_exiting"
	StatusActiveSlashed      ValidatorStatus = "active_slashed"
	StatusExitedUnslashed    ValidatorStatus = "exited_unslashed"
	StatusExitedSlashed      ValidatorStatus = "exited_slashed"
	StatusWithdrawalPossible ValidatorStatus = "withdrawal_possible"
	StatusWithdrawalDone     ValidatorStatus = "withdrawal_done"
)

// The general statuses a ?status= filter may name besides the specific ones.
const (
	StatusPending    ValidatorStatus = "pending"
	StatusActive     ValidatorStatus = "active"
	StatusExited     ValidatorStatus = "exited"
	StatusWithdrawal ValidatorStatus = "withdrawal"
)

// Status returns the status of validator v with balance at epoch, from
// the v0.8.3 validator fields:
//
//	withdrawable_epoch <= epoch:                 withdrawal_done if balance == 0, else withdrawal_possible
//	exit_epoch <= epoch:                         exited_slashed / exited_unslashed
//	activation_epoch <= epoch (and not exited):  active_slashed if slashed,
//	                                             active_exiting if exit_epoch != FAR_FUTURE_EPOCH,
//	                                             else active_ongoing
//	activation_eligibility_epoch == FAR_FUTURE:  pending_initialized (not yet eligible)
//	otherwise:                                   pending_queued (eligible, waiting for activation)
func Status(v *types.Validator, balance types.Gwei, epoch types.Epoch) ValidatorStatus {
	switch {
	case v.WithdrawableEpoch <= epoch:
		if balance == 0 {
			return StatusWithdrawalDone
		}
		return StatusWithdrawalPossible
	case v.ExitEpoch <= epoch:
		if v.Slashed {
			return StatusExitedSlashed
		}
		return StatusExitedUnslashed
	case v.ActivationEpoch <= epoch:
		switch {
		case v.Slashed:
			return StatusActiveSlashed
		case v.ExitEpoch != types.FarFutureEpoch:
			return StatusActiveExiting
		}
		return StatusActiveOngoing
	case v.ActivationEligibilityEpoch == types.FarFutureEpoch:
		return StatusPendingInitialized
	}
	return StatusPendingQueued
}

// General returns the general status a specific one belongs to.
func (s ValidatorStatus) General() ValidatorStatus {
	switch s {
	case StatusPendingInitialized, StatusPendingQueued:
		return StatusPending
	case StatusActiveOngoing, StatusActiveExiting, StatusActiveSlashed:
		return StatusActive
	case StatusExitedUnslashed, StatusExitedSlashed:
		return StatusExited
	case StatusWithdrawalPossible, StatusWithdrawalDone:
		return StatusWithdrawal
	}
	return s
}

// knownStatus reports whether s is a specific or general status.
func knownStatus(s ValidatorStatus) bool {
	switch s {
	case StatusPending, StatusActive, StatusExited, StatusWithdrawal:
		return true
	}
	return s.General() != s
}
