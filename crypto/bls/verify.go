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
	g1s := make([]hb.G1, 0, len(ps)+1)
	g2s := make([]hb.G2, 0, len(ps)+1)
	for i := range ps {
		if ps[i].IsZero() {
			continue
		}
		g1s = append(g1s, ps[i])
		g2s = append(g2s, hashToG2(ms[i], domain))
	}
	g1s = append(g1s, negG1)
	g2s = append(g2s, *hb.CastFromSign(&sig.s))
	return pairingProductIsOne(g1s, g2s)
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

// pairingProductIsOne reports whether prod_i e(ps[i], qs[i]) is one.
// Pairs with a member at infinity contribute one and are skipped.
func pairingProductIsOne(ps []hb.G1, qs []hb.G2) bool {
	n := 0
	for i := range ps {
		if ps[i].IsZero() || qs[i].IsZero() {
			continue
		}
		ps[n], qs[n] = ps[i], qs[i]
		n++
	}
	if n == 0 {
		return true
	}
	var gt hb.GT
	hb.MillerLoopVec(&gt, ps[:n], qs[:n])
	hb.FinalExp(&gt, &gt)
	return gt.IsOne()
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
	return agg
}
