package kv

import "fmt"

// Flush writes a Pebble database's memtable to a table file (tests only).
func Flush(db DB) error {
	p, ok := db.(*pebbleDB)
	if !ok {
		return fmt.Errorf("flush: %T is not a Pebble database", db)
	}
	return p.db.Flush()
}
