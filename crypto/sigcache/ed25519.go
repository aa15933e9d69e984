package sigcache

import (
	"crypto/ed25519"
	"runtime"
	"sync"

	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// ed25519Scheme tags the digests of ed25519 verifications.
const ed25519Scheme = "ed25519/verify"

// stdlibOptions make curve25519-voi verify exactly as crypto/ed25519.Verify
// does: cofactorless equation, small-order and non-canonical public keys
// allowed, non-canonical S and R refused. The differential tests
// (ed25519_test.go) hold the two to the same answer on valid and invalid
// signatures; voi's table-driven arithmetic is what makes it cheaper.
var stdlibOptions = &voi.Options{Verify: voi.VerifyOptionsStdLib}

// parallelMin is the fewest uncached checks VerifyEd25519Batch spreads
// over several goroutines; below it the goroutines cost more than they
// save.
const parallelMin = 16

// Ed25519Digest names the check ed25519.Verify(pub, msg, sig).
func Ed25519Digest(pub, msg, sig []byte) Digest {
	h := NewHasher(ed25519Scheme)
	h.Write(pub)
	h.Write(msg)
	h.Write(sig)
	return h.Sum()
}

// Ed25519Verify answers exactly as crypto/ed25519.Verify(pub, msg, sig),
// except that a key of the wrong length is false instead of a panic.
func Ed25519Verify(pub, msg, sig []byte) bool {
	if len(pub) != ed25519.PublicKeySize {
		return false
	}
	return voi.VerifyWithOptions(voi.PublicKey(pub), msg, sig, stdlibOptions)
}

// VerifyEd25519 is ed25519.Verify(pub, msg, sig) that skips the curve
// arithmetic when c holds the same check as verified; it adds the check
// when it verifies. With a nil c it is plain Ed25519Verify. A key of the
// wrong length never verifies (ed25519.Verify would panic).
func (c *Cache) VerifyEd25519(pub, msg, sig []byte) bool {
	if len(pub) != ed25519.PublicKeySize {
		return false
	}
	if c == nil {
		return Ed25519Verify(pub, msg, sig)
	}
	return c.Check(Ed25519Digest(pub, msg, sig), func() bool { return Ed25519Verify(pub, msg, sig) })
}

// Ed25519Check is one ed25519 verification of a batch.
type Ed25519Check struct {
	Pub, Msg, Sig []byte
}

// VerifyEd25519Batch answers each check as VerifyEd25519 would (the same
// results, the same cache semantics: only successes are added), verifying
// the checks c does not hold in parallel on up to GOMAXPROCS goroutines.
// Each signature is verified on its own: batch verification equations are
// cofactored and would accept signatures crypto/ed25519 refuses.
func (c *Cache) VerifyEd25519Batch(checks []Ed25519Check) []bool {
	ok := make([]bool, len(checks))
	digests := make([]Digest, len(checks))
	var todo []int
	for i, ch := range checks {
		if len(ch.Pub) != ed25519.PublicKeySize {
			continue
		}
		if c != nil {
			digests[i] = Ed25519Digest(ch.Pub, ch.Msg, ch.Sig)
			if c.Contains(digests[i]) {
				ok[i] = true
				continue
			}
		}
		todo = append(todo, i)
	}
	verify := func(part []int) {
		for _, i := range part {
			ok[i] = Ed25519Verify(checks[i].Pub, checks[i].Msg, checks[i].Sig)
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(todo)/parallelMin)
	if workers <= 1 {
		verify(todo)
	} else {
		var wg sync.WaitGroup
		per := (len(todo) + workers - 1) / workers
		for start := 0; start < len(todo); start += per {
			part := todo[start:min(start+per, len(todo))]
			wg.Go(func() { verify(part) })
		}
		wg.Wait()
	}
	if c != nil {
		for _, i := range todo {
			if ok[i] {
				c.Add(digests[i])
			}
		}
	}
	return ok
}
