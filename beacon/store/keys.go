package store

import (
	"encoding/binary"

	"github.com/shardlab/shardlab/beacon/types"
)

// SchemaVersion is the version of the key schema in doc.go that this build
// reads and writes.
const SchemaVersion = 2

var (
	keySchema    = []byte("meta/schema")
	keyShape     = []byte("meta/shape")
	keyConfig    = []byte("meta/config")
	keyGenesis   = []byte("meta/genesis")
	keyHead      = []byte("meta/head")
	keyJustified = []byte("meta/justified")
	keyFinalized = []byte("meta/finalized")

	prefixBlock     = []byte("blk/")
	prefixCanonical = []byte("idx/")
	prefixState     = []byte("st/")
	prefixProposal  = []byte("sp/b/")
	prefixAttest    = []byte("sp/a/")
)

func rootKey(prefix []byte, r types.Root) []byte {
	return append(append(make([]byte, 0, len(prefix)+32), prefix...), r[:]...)
}

func u64Key(prefix []byte, n uint64) []byte {
	return binary.BigEndian.AppendUint64(append(make([]byte, 0, len(prefix)+8), prefix...), n)
}

func blockKey(r types.Root) []byte              { return rootKey(prefixBlock, r) }
func stateKey(r types.Root) []byte              { return rootKey(prefixState, r) }
func canonicalKey(s types.Slot) []byte          { return u64Key(prefixCanonical, uint64(s)) }
func proposalKey(v types.ValidatorIndex) []byte { return u64Key(prefixProposal, uint64(v)) }
func attestKey(v types.ValidatorIndex) []byte   { return u64Key(prefixAttest, uint64(v)) }
