package store

import (
	"errors"

	"github.com/shardlab/shardlab/beacon/store/kv"
)

var (
	// ErrNotFound is wrapped by reads of a missing block, state, index entry
	// or metadata key. It is kv.ErrNotFound, so either sentinel matches.
	ErrNotFound = kv.ErrNotFound
	// ErrCorrupt is wrapped when a stored value does not decode.
	ErrCorrupt = errors.New("corrupt store value")
	// ErrSchemaVersion is returned by New for a database whose schema version
	// this build does not know, or that has data but no schema version.
	ErrSchemaVersion = errors.New("unknown store schema version")
	// ErrConfigMismatch is returned when the database, or a state being saved,
	// was shaped by a config that differs from the store's.
	ErrConfigMismatch = errors.New("config mismatch")
	// ErrGenesisMismatch is returned by SaveGenesis when the database already
	// holds a different genesis.
	ErrGenesisMismatch = errors.New("genesis mismatch")
	// ErrInvalidArgument is wrapped for nil arguments and impossible requests.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrTxDone is returned by a Tx used after its Update returned.
	ErrTxDone = errors.New("transaction already finished")
	// ErrSlashable is wrapped by slashing protection when signing the message
	// could be slashable; the error text names the conflicting record.
	ErrSlashable = errors.New("slashable")
)
