package slasher

import (
	"encoding/binary"
	"fmt"

	"github.com/shardlab/shardlab/beacon/types"
)

const (
	// ChunkEpochs is the number of source epochs in one span chunk.
	ChunkEpochs = 16
	// ChunkValidators is the number of validators in one span chunk.
	ChunkValidators = 16

	chunkLen   = ChunkEpochs * ChunkValidators
	chunkBytes = 2 * chunkLen
	// noMinSpan marks "no attestation with a later source" in a min-span
	// chunk; a max span's "none" is 0.
	noMinSpan = 0xffff
)

// Span kinds.
const (
	minSpan = 0
	maxSpan = 1
)

// chunkID names a chunk: its kind and its epoch and validator chunk
// numbers (epoch / ChunkEpochs, validator / ChunkValidators).
type chunkID struct {
	kind       int
	epochChunk uint64
	valChunk   uint64
}

func (id chunkID) key() []byte { return u64Key(spanKindPrefix[id.kind], id.epochChunk, id.valChunk) }

// chunk holds the spans of ChunkEpochs × ChunkValidators (epoch, validator)
// pairs, epoch-major.
type chunk struct {
	vals  [chunkLen]uint16
	dirty bool
}

func (c *chunk) encode() []byte {
	b := make([]byte, 0, chunkBytes)
	for _, v := range c.vals {
		b = binary.LittleEndian.AppendUint16(b, v)
	}
	return b
}

// loadChunk returns the chunk of kind holding (e, v), from the cache or the
// database, or a fresh one.
func (s *Slasher) loadChunk(kind int, e types.Epoch, v uint64) (*chunk, int, error) {
	id := chunkID{kind: kind, epochChunk: uint64(e) / ChunkEpochs, valChunk: v / ChunkValidators}
	pos := int(uint64(e)%ChunkEpochs)*ChunkValidators + int(v%ChunkValidators)
	if c, ok := s.cache[id]; ok {
		return c, pos, nil
	}
	c := new(chunk)
	raw, ok, err := s.get(id.key())
	switch {
	case err != nil:
		return nil, 0, fmt.Errorf("read span chunk: %w", err)
	case !ok && kind == minSpan:
		for i := range c.vals {
			c.vals[i] = noMinSpan
		}
	case ok && len(raw) != chunkBytes:
		return nil, 0, fmt.Errorf("read span chunk %x: %w", id.key(), errCorruptValue)
	case ok:
		for i := range c.vals {
			c.vals[i] = binary.LittleEndian.Uint16(raw[2*i:])
		}
	}
	s.cache[id] = c
	return c, pos, nil
}

// span reads the span of kind for validator v at epoch e.
func (s *Slasher) span(kind int, v uint64, e types.Epoch) (uint16, error) {
	c, pos, err := s.loadChunk(kind, e, v)
	if err != nil {
		return 0, err
	}
	return c.vals[pos], nil
}

// surroundTargets returns the target epochs of the recorded votes of v
// that the vote (src, tgt) surrounds (the one with the smallest target) and
// that surround it (the one with the largest target); each is empty when
// there is none.
func (s *Slasher) surroundTargets(v uint64, src, tgt types.Epoch) (surrounds, surroundedBy []types.Epoch, err error) {
	d := uint64(tgt - src)
	mn, err := s.span(minSpan, v, src)
	if err != nil {
		return nil, nil, err
	}
	if mn != noMinSpan && uint64(mn) < d {
		surrounds = append(surrounds, src+types.Epoch(mn))
	}
	mx, err := s.span(maxSpan, v, src)
	if err != nil {
		return nil, nil, err
	}
	if uint64(mx) > d {
		surroundedBy = append(surroundedBy, src+types.Epoch(mx))
	}
	return surrounds, surroundedBy, nil
}

// updateSpans records the vote (src, tgt) of v in the spans:
//
//	minSpan[e] = min(minSpan[e], tgt-e) for lowest <= e < src
//	maxSpan[e] = max(maxSpan[e], tgt-e) for src < e < tgt
//
// Each walk stops at the first epoch whose span already covers the vote:
// the vote that set it covers every epoch further along too (Prysm's early
// exit), so an honest vote, one epoch after the last, writes one value.
func (s *Slasher) updateSpans(v uint64, src, tgt types.Epoch) error {
	low := s.lowest()
	for e := src; e > low; {
		e--
		c, pos, err := s.loadChunk(minSpan, e, v)
		if err != nil {
			return err
		}
		d := uint16(tgt - e)
		if c.vals[pos] != noMinSpan && c.vals[pos] <= d {
			break
		}
		c.vals[pos], c.dirty = d, true
	}
	for e := src + 1; e < tgt; e++ {
		c, pos, err := s.loadChunk(maxSpan, e, v)
		if err != nil {
			return err
		}
		d := uint16(tgt - e)
		if c.vals[pos] >= d {
			break
		}
		c.vals[pos], c.dirty = d, true
	}
	return nil
}
