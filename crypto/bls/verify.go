package bls

import (
	hb "github.com/herumi/bls-eth-go-binary/bls"
)

// Verify reports whether sig is pk's signature of msg under domain
// (spec bls_verify). nil arguments never verify.
func Verify(pk *PublicKey, msg [32]byte, sig *Signature, domain [8]byte) bool {
	if pk == nil || sig == nil {
		return false
	}
	hwd := hashWithDomain(msg, domain)
	return sig.s.VerifyHashWithDomain(&pk.p, hwd[:])
}

// VerifyMultiple is the spec's bls_verify_multiple: it reports whether
// e(g1, sig) == prod_i e(pks[i], H(msgs[i], domain)). Keys sharing a
// message are summed first, as the spec does. A public key at infinity
// contributes the neutral element. The lengths must match and no argument
// may be nil; with no keys at all, only the infinity signature verifies.
func VerifyMultiple(pks []*PublicKey, msgs [][32]byte, sig *Signature, domain [8]byte) bool {
	if sig == nil || len(pks) != len(msgs) {
		return false
	}
	for _, pk := range pks {
		if pk == nil {
			return false
		}
	}
	ps, ms := groupByMessage(pks, msgs)
	// A key at infinity (after grouping) contributes e(O, H) = 1: drop its
	// term, which saves a hash to G2 and a Miller loop. Phase 0 attestations
	// always have an empty custody-bit-1 group, so this halves their cost.
	w := 0
	for i := range ps {
		if !ps[i].IsZero() {
			ps[w], ms[w] = ps[i], ms[i]
			w++
		}
	}
	ps, ms = ps[:w], ms[:w]
	if len(ps) == 0 {
		// herumi refuses an empty product; the spec's equation then
		// reads e(g1, sig) == 1.
		return sig.IsInfinity()
	}
	keys := make([]hb.PublicKey, len(ps))
	hwds := make([]byte, 0, 40*len(ms))
	for i := range ps {
		keys[i] = *hb.CastToPublicKey(&ps[i])
		hwd := hashWithDomain(ms[i], domain)
		hwds = append(hwds, hwd[:]...)
	}
	// herumi computes e(g1, sig) == prod_i e(keys[i], H(hwd_i)).
	return sig.s.VerifyAggregateHashWithDomain(keys, hwds)
}

// groupByMessage sums the keys of equal messages, keeping the order of
// first appearance.
func groupByMessage(pks []*PublicKey, msgs [][32]byte) ([]hb.G1, [][32]byte) {
	ps := make([]hb.G1, 0, len(pks))
	ms := make([][32]byte, 0, len(msgs))
	var index map[[32]byte]int
	if len(msgs) > 8 {
		index = make(map[[32]byte]int, len(msgs))
	}
	for i, m := range msgs {
		j := -1
		if index != nil {
			if k, ok := index[m]; ok {
				j = k
			}
		} else {
			for k := range ms {
				if ms[k] == m {
					j = k
					break
				}
			}
		}
		p := hb.CastFromPublicKey(&pks[i].p)
		if j >= 0 {
			hb.G1Add(&ps[j], &ps[j], p)
			continue
		}
		if index != nil {
			index[m] = len(ms)
		}
		ps = append(ps, *p)
		ms = append(ms, m)
	}
	return ps, ms
}

// AggregatePublicKeys returns the sum of pks (spec bls_aggregate_pubkeys).
// An empty slice gives the point at infinity; nil entries count as
// infinity.
func AggregatePublicKeys(pks []*PublicKey) *PublicKey {
	agg := new(PublicKey)
	for _, pk := range pks {
		if pk != nil {
			agg.p.Add(&pk.p)
		}
	}
	agg.normalize()
	return agg
}

// AggregateSignatures returns the sum of sigs (spec
// bls_aggregate_signatures). An empty slice gives the point at infinity;
// nil entries count as infinity.
func AggregateSignatures(sigs []*Signature) *Signature {
	agg := new(Signature)
	for _, s := range sigs {
		if s != nil {
			agg.s.Add(&s.s)
		}
	}
	agg.normalize()
	return agg
}
