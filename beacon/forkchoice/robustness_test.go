package forkchoice

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/types"
)

// mutate flips, overwrites or truncates a few bytes of a copy of enc.
func mutate(rng *rand.Rand, enc []byte) []byte {
	out := append([]byte(nil), enc...)
	for range 1 + rng.IntN(4) {
		if len(out) == 0 {
			break
		}
		i := rng.IntN(len(out))
		switch rng.IntN(4) {
		case 0:
			out[i] ^= 1 << rng.IntN(8)
		case 1:
			out[i] = byte(rng.Uint32())
		case 2:
			out[i] = 0xff
		case 3:
			out = out[:i]
		}
	}
	return out
}

// TestHandlersRejectMutatedInputs decodes randomly mutated encodings of
// valid blocks and attestations and feeds whatever decodes to the handlers:
// they must return nil or an error, never panic, and leave a store that
// still computes a head. Errors from decodable garbage are rejections
// (core.ErrInvalid).
func TestHandlersRejectMutatedInputs(t *testing.T) {
	c := newChain(t)
	_, a1 := c.build(c.genesisRoot, 1, 0)
	atts := c.attest(a1, 1, nil)
	b2, _ := c.build(a1, 2, 0, atts...)
	blockEnc, err := b2.MarshalSSZ()
	if err != nil {
		t.Fatal(err)
	}
	attEnc, err := atts[0].MarshalSSZ()
	if err != nil {
		t.Fatal(err)
	}
	s := c.store()
	addBlocks(t, c, s, a1)
	s.OnTick(c.slotTime(40))

	rng := rand.New(rand.NewPCG(7, 7))
	var decoded, accepted int
	for i := range 400 {
		t.Run(fmt.Sprintf("mutation=%d", i), func(t *testing.T) {
			var err error
			if i%2 == 0 {
				var b types.BeaconBlock
				if b.UnmarshalSSZ(mutate(rng, blockEnc)) != nil {
					return
				}
				decoded++
				err = s.OnBlock(&b, core.SkipSigs)
			} else {
				var a types.Attestation
				if a.UnmarshalSSZ(mutate(rng, attEnc)) != nil {
					return
				}
				decoded++
				err = s.OnAttestation(&a, core.SkipSigs)
			}
			if err == nil {
				accepted++
			} else if !errors.Is(err, core.ErrInvalid) {
				t.Errorf("error is not a rejection: %v", err)
			}
			if _, err := s.Head(); err != nil {
				t.Fatalf("Head: %v", err)
			}
		})
	}
	t.Logf("%d of 400 mutations decoded, %d accepted", decoded, accepted)
	if decoded < 100 {
		t.Errorf("only %d mutations decoded; the test exercises too little", decoded)
	}
}
