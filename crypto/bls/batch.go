package bls

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"

	hb "github.com/herumi/bls-eth-go-binary/bls"

	"github.com/shardlab/shardlab/crypto/sigcache"
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
	// Parallelism bounds the goroutines Verify uses; 0 means GOMAXPROCS.
	Parallelism int
	// Cache, when set, drops sets that verified before as they are added
	// and remembers the sets that verify; nil verifies every set.
	Cache *VerifyCache

	sets []sigSet
}

type sigSet struct {
	pks      []*PublicKey
	msgs     [][32]byte
	domain   [8]byte
	sig      *Signature
	desc     string
	multiple bool            // added by AddMultiple: its digest is VerifyMultipleDigest
	keyed    bool            // digest is set: add it to the cache once verified
	digest   sigcache.Digest // names the check, when keyed
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
// error reports. With a Cache, a check that verified before is not queued.
func (b *Batch) Add(pk *PublicKey, msg [32]byte, domain [8]byte, sig *Signature, desc string) {
	b.queue(sigSet{
		pks:    []*PublicKey{pk},
		msgs:   [][32]byte{msg},
		domain: domain,
		sig:    sig,
		desc:   desc,
	})
}

// AddMultiple queues the check VerifyMultiple(pks, msgs, sig, domain). The
// slices are copied. With a Cache, a check that verified before is not
// queued.
func (b *Batch) AddMultiple(pks []*PublicKey, msgs [][32]byte, domain [8]byte, sig *Signature, desc string) {
	b.queue(sigSet{
		pks:      append([]*PublicKey(nil), pks...),
		msgs:     append([][32]byte(nil), msgs...),
		domain:   domain,
		sig:      sig,
		desc:     desc,
		multiple: true,
	})
}

// AddDigest queues the check VerifyMultiple(pks, msgs, sig, domain) (Verify
// when there is one key and one message) whose digest the caller computed
// from the encodings it holds (VerifyDigest or VerifyMultipleDigest) and
// already looked up in the Cache. Once the check verifies, d is added to the
// Cache. The slices are copied.
func (b *Batch) AddDigest(d sigcache.Digest, pks []*PublicKey, msgs [][32]byte, domain [8]byte, sig *Signature, desc string) {
	b.sets = append(b.sets, sigSet{
		pks:    append([]*PublicKey(nil), pks...),
		msgs:   append([][32]byte(nil), msgs...),
		domain: domain,
		sig:    sig,
		desc:   desc,
		keyed:  b.Cache != nil,
		digest: d,
	})
}

// queue appends s, or drops it when the cache knows it verified.
func (b *Batch) queue(s sigSet) {
	if b.Cache != nil && s.wellFormed() {
		s.digest, s.keyed = s.digestOf(), true
		if b.Cache.Contains(s.digest) {
			return
		}
	}
	b.sets = append(b.sets, s)
}

// Len returns the number of queued sets (not those a Cache dropped).
func (b *Batch) Len() int { return len(b.sets) }

// Reset empties the batch, keeping Rand.
func (b *Batch) Reset() { b.sets = b.sets[:0] }

// Verify checks every queued set. It returns nil if all are valid. If the
// combined check fails it verifies each set alone and returns a
// *BatchError naming the first invalid one. An empty batch is valid. With
// a Cache, every set found valid is remembered (on failure, those before the
// reported one).
func (b *Batch) Verify() error {
	err := b.verify()
	b.remember(err)
	return err
}

// remember adds the digests of the sets err shows valid to the cache.
func (b *Batch) remember(err error) {
	if b.Cache == nil {
		return
	}
	n := len(b.sets)
	if err != nil {
		var be *BatchError
		if !errors.As(err, &be) {
			return
		}
		n = be.Index
	}
	for i := range b.sets[:n] {
		if b.sets[i].keyed {
			b.Cache.Add(b.sets[i].digest)
		}
	}
}

func (b *Batch) verify() error {
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

// verifyEach verifies the sets one by one, spread over the batch's
// goroutines, and reports the lowest-indexed failure. Indices are handed
// out in increasing order and no worker starts one past a known failure,
// so every set before the reported one has been checked.
func (b *Batch) verifyEach() error {
	n := len(b.sets)
	errs := make([]error, n)
	var next atomic.Int64
	var firstBad atomic.Int64
	firstBad.Store(int64(n))
	var wg sync.WaitGroup
	for w := b.workers(n); w > 0; w-- {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= firstBad.Load() {
					return
				}
				if errs[i] = b.sets[i].check(); errs[i] != nil {
					for {
						cur := firstBad.Load()
						if i >= cur || firstBad.CompareAndSwap(cur, i) {
							break
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	if i := firstBad.Load(); i < int64(n) {
		s := &b.sets[i]
		return &BatchError{Index: int(i), Desc: s.desc, Err: errs[i]}
	}
	return nil
}

// check verifies one set on its own.
func (s *sigSet) check() error {
	if !s.wellFormed() {
		return ErrMalformedSet
	}
	var ok bool
	if len(s.pks) == 1 {
		ok = Verify(s.pks[0], s.msgs[0], s.sig, s.domain)
	} else {
		ok = VerifyMultiple(s.pks, s.msgs, s.sig, s.domain)
	}
	if !ok {
		return ErrInvalidSignature
	}
	return nil
}

// workers returns how many goroutines to use for units pieces of work of
// at least minTermsPerWorker each.
func (b *Batch) workers(units int) int {
	w := b.Parallelism
	if w <= 0 {
		w = runtime.GOMAXPROCS(0)
	}
	return max(1, min(w, units/minTermsPerWorker))
}

// term is one pairing of the combined check: the G1 points and scalars
// whose multi-scalar product meets H(msg, domain).
type term struct {
	hwd     [40]byte
	points  []hb.G1
	scalars []hb.Fr
}

// minTermsPerWorker keeps goroutine overhead small against the ~0.6 ms
// (hash to G2 plus Miller loop) that each term costs.
const minTermsPerWorker = 4

// combined runs the random linear combination check over well-formed sets:
// prod_k e(sum r_i pk_i, H_k) * e(-g1, sum r_i sig_i) == 1. Hashing,
// scalar multiplications and Miller loops are spread over up to GOMAXPROCS
// goroutines; one final exponentiation ends it.
func (b *Batch) combined() (bool, error) {
	n := len(b.sets)
	rs, err := randomScalars(b.Rand, n)
	if err != nil {
		return false, err
	}
	sigs := make([]hb.G2, n)
	terms := make([]term, 0, n)
	index := make(map[[40]byte]int, n)
	for i := range b.sets {
		s := &b.sets[i]
		sigs[i] = *hb.CastFromSign(&s.sig.s)
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

	workers := b.workers(max(len(terms), n))
	partial := make([]hb.GT, workers)
	used := make([]bool, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		tlo, thi := w*len(terms)/workers, (w+1)*len(terms)/workers
		slo, shi := w*n/workers, (w+1)*n/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			used[w] = millerChunk(&partial[w], terms[tlo:thi], sigs[slo:shi], rs[slo:shi])
		}()
	}
	wg.Wait()

	var acc hb.GT
	acc.SetInt64(1)
	for w := range partial {
		if used[w] {
			hb.GTMul(&acc, &acc, &partial[w])
		}
	}
	hb.FinalExp(&acc, &acc)
	return acc.IsOne(), nil
}

// millerChunk sets out to the product of the Miller loops of terms and of
// e(-g1, sum rs[i] sigs[i]), and reports whether there was any pair.
func millerChunk(out *hb.GT, terms []term, sigs []hb.G2, rs []hb.Fr) bool {
	g1s := make([]hb.G1, 0, len(terms)+1)
	g2s := make([]hb.G2, 0, len(terms)+1)
	for k := range terms {
		t := &terms[k]
		var p hb.G1
		if len(t.points) == 1 {
			hb.G1Mul(&p, &t.points[0], &t.scalars[0])
		} else {
			hb.G1MulVec(&p, t.points, t.scalars)
		}
		if p.IsZero() {
			continue
		}
		g1s = append(g1s, p)
		g2s = append(g2s, hashToG2Raw(t.hwd))
	}
	if len(sigs) > 0 {
		var sum hb.G2
		hb.G2MulVec(&sum, sigs, rs)
		if !sum.IsZero() {
			g1s = append(g1s, negG1)
			g2s = append(g2s, sum)
		}
	}
	if len(g1s) == 0 {
		return false
	}
	hb.MillerLoopVec(out, g1s, g2s)
	return true
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
