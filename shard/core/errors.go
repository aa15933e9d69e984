package core

import (
	"errors"
	"fmt"

	bcore "github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/crypto/hash"
)

// ErrInvalidShardBlock is wrapped by every rule a shard block breaks. It wraps
// beacon/core.ErrInvalid, so the network rejects such blocks as it rejects
// invalid beacon messages.
var ErrInvalidShardBlock = fmt.Errorf("%w: invalid shard block", bcore.ErrInvalid)

// ErrInvalidFraudProof is wrapped when a fraud proof is malformed, proves
// nothing (the block is valid), or has already been used.
var ErrInvalidFraudProof = fmt.Errorf("%w: invalid shard fraud proof", bcore.ErrInvalid)

// ErrMissingWitness is wrapped when execution needs a chunk a witness does
// not reveal: the proof is incomplete, which says nothing about the block.
var ErrMissingWitness = fmt.Errorf("missing witness: %w", hash.ErrMissingNode)

// ErrNoTxDomain is returned when transaction signatures are to be checked
// without the chain's transaction domain (ExecOptions.TxDomain,
// FraudVerifier.GenesisRoot): a caller's bug, not a block's.
var ErrNoTxDomain = errors.New("no transaction domain to check signatures against")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidShardBlock, fmt.Sprintf(format, args...))
}

// isMissing reports whether err comes from an incomplete witness.
func isMissing(err error) bool { return errors.Is(err, hash.ErrMissingNode) }
