package bls

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"

	hb "github.com/herumi/bls-eth-go-binary/bls"
)

var defaultRand = rand.Reader

// Batch collects signature sets and verifies them together with one
// random linear combination: for random non-zero 64-bit scalars r_i it
// checks
//
//	e(g1, sum_i r_i sig_i) == prod_i prod_j e(r_i pk_ij, H(m_ij, d_i))
//
// grouping equal (message, domain) pairs into one pairing. A batch holding
// any invalid set passes with probability at most 2^-64. The zero value is
// ready to use; a Batch is not safe for concurrent use.
type Batch struct {
	// Rand supplies the random scalars; nil means crypto/rand.Reader.
	// Tests may inject a deterministic reader.
	Rand io.Reader

	sets []sigSet
}

type sigSet struct {
	pks    []*PublicKey
	msgs   [][32]byte
	domain [8]byte
	sig    *Signature
	desc   string
}

// BatchError names the first set of a batch that failed verification.
type BatchError struct {
	Index int    // position of the set in the order of Add calls
	Desc  string // the description given to Add
	Err   error  // ErrInvalidSignature or ErrMalformedSet
}

func (e *BatchError) Error() string {
	return fmt.Sprintf("verify batch: set %d (%s): %v", e.Index, e.Desc, e.Err)
}

func (e *BatchError) Unwrap() error { return e.Err }

// NewBatch returns an empty batch drawing its scalars from crypto/rand.
func NewBatch() *Batch { return &Batch{} }

// Add queues the check Verify(pk, msg, sig, domain); desc names the set in
// error reports.
func (b *Batch) Add(pk *PublicKey, msg [32]byte, domain [8]byte, sig *Signature, desc string) {
	b.sets = append(b.sets, sigSet{
		pks:    []*PublicKey{pk},
		msgs:   [][32]byte{msg},
		domain: domain,
		sig:    sig,
		desc:   desc,
	})
}

// AddMultiple queues the check VerifyMultiple(pks, msgs, sig, domain). The
// slices are copied.
func (b *Batch) AddMultiple(pks []*PublicKey, msgs [][32]byte, domain [8]byte, sig *Signature, desc string) {
	b.sets = append(b.sets, sigSet{
		pks:    append([]*PublicKey(nil), pks...),
		msgs:   append([][32]byte(nil), msgs...),
		domain: domain,
		sig:    sig,
		desc:   desc,
	})
}

// Len returns the number of queued sets.
func (b *Batch) Len() int { return len(b.sets) }

// Reset empties the batch, keeping Rand.
func (b *Batch) Reset() { b.sets = b.sets[:0] }

// Verify checks every queued set. It returns nil if all are valid. If the
// combined check fails it verifies each set alone and returns a
// *BatchError naming the first invalid one. An empty batch is valid.
func (b *Batch) Verify() error {
	switch len(b.sets) {
	case 0:
		return nil
	case 1:
		return b.verifyEach()
	}
	for i := range b.sets {
		if !b.sets[i].wellFormed() {
			return b.verifyEach()
		}
	}
	ok, err := b.combined()
	if err != nil {
		return fmt.Errorf("verify batch: %w", err)
	}
	if ok {
		return nil
	}
	if err := b.verifyEach(); err != nil {
		return err
	}
	return fmt.Errorf("verify batch: %w", ErrBatchInconsistent)
}

func (s *sigSet) wellFormed() bool {
	if s.sig == nil || len(s.pks) != len(s.msgs) {
		return false
	}
	for _, pk := range s.pks {
		if pk == nil {
			return false
		}
	}
	return true
}

// verifyEach verifies the sets one by one and reports the first failure.
func (b *Batch) verifyEach() error {
	for i := range b.sets {
		s := &b.sets[i]
		if !s.wellFormed() {
			return &BatchError{Index: i, Desc: s.desc, Err: ErrMalformedSet}
		}
		var ok bool
		if len(s.pks) == 1 {
			ok = Verify(s.pks[0], s.msgs[0], s.sig, s.domain)
		} else {
			ok = VerifyMultiple(s.pks, s.msgs, s.sig, s.domain)
		}
		if !ok {
			return &BatchError{Index: i, Desc: s.desc, Err: ErrInvalidSignature}
		}
	}
	return nil
}

// term is one pairing of the combined check: the G1 points and scalars
// whose multi-scalar product meets H(msg, domain).
type term struct {
	hwd     [40]byte
	points  []hb.G1
	scalars []hb.Fr
}

// combined runs the random linear combination check over well-formed sets.
func (b *Batch) combined() (bool, error) {
	n := len(b.sets)
	rs, err := randomScalars(b.Rand, n)
	if err != nil {
		return false, err
	}

	sigs := make([]hb.G2, n)
	for i := range b.sets {
		sigs[i] = *hb.CastFromSign(&b.sets[i].sig.s)
	}
	var sigSum hb.G2
	hb.G2MulVec(&sigSum, sigs, rs)

	terms := make([]term, 0, n)
	index := make(map[[40]byte]int, n)
	for i := range b.sets {
		s := &b.sets[i]
		ps, ms := groupByMessage(s.pks, s.msgs)
		for j := range ps {
			if ps[j].IsZero() {
				continue
			}
			hwd := hashWithDomain(ms[j], s.domain)
			k, ok := index[hwd]
			if !ok {
				k = len(terms)
				index[hwd] = k
				terms = append(terms, term{hwd: hwd})
			}
			terms[k].points = append(terms[k].points, ps[j])
			terms[k].scalars = append(terms[k].scalars, rs[i])
		}
	}

	g1s := make([]hb.G1, len(terms)+1)
	g2s := make([]hb.G2, len(terms)+1)
	for k := range terms {
		t := &terms[k]
		if len(t.points) == 1 {
			hb.G1Mul(&g1s[k], &t.points[0], &t.scalars[0])
		} else {
			hb.G1MulVec(&g1s[k], t.points, t.scalars)
		}
		s := frOne.SignHashWithDomain(t.hwd[:])
		if s == nil {
			panic("bls: SignHashWithDomain failed")
		}
		g2s[k] = *hb.CastFromSign(s)
	}
	g1s[len(terms)] = negG1
	g2s[len(terms)] = sigSum
	return pairingProductIsOne(g1s, g2s), nil
}

// randomScalars draws n non-zero 64-bit scalars from r.
func randomScalars(r io.Reader, n int) ([]hb.Fr, error) {
	if r == nil {
		r = defaultRand
	}
	buf := make([]byte, 8*n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("read batch randomness: %w", err)
	}
	rs := make([]hb.Fr, n)
	for i := range rs {
		v := binary.LittleEndian.Uint64(buf[8*i:])
		if v == 0 {
			v = 1
		}
		var le [8]byte
		binary.LittleEndian.PutUint64(le[:], v)
		if err := rs[i].SetLittleEndian(le[:]); err != nil {
			return nil, fmt.Errorf("set batch scalar: %w", err)
		}
	}
	return rs, nil
}
