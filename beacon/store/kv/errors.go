package kv

import "errors"

var (
	// ErrNotFound is returned by Get for a key that is not in the database.
	ErrNotFound = errors.New("key not found")
	// ErrClosed is returned by every operation on a closed database.
	ErrClosed = errors.New("database closed")
	// ErrCorrupt is wrapped by errors that come from damaged or unreadable
	// data files.
	ErrCorrupt = errors.New("database corrupt")
)
