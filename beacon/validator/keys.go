package validator

import (
	"fmt"
	"math/big"

	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/bls"
)

// curveOrderHex is r, the order of the BLS12-381 groups, which secret keys
// are reduced by.
const curveOrderHex = "73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001"

// Keys is a set of validator secret keys for a contiguous range of key
// indices [Start, Start+Len). Key i is the eth2 interop key of i
// (bls.InteropSecretKey). In an interop genesis key i belongs to validator
// index i; in general a duty's validator is matched by its public key, so the
// indices need not agree with the registry.
//
// A Keys value is immutable once built and safe for concurrent use.
type Keys struct {
	start   uint64
	secrets []*bls.SecretKey
	scalars []*big.Int // the secret keys as integers, for summing
	pubkeys []types.BLSPubkey
	byPub   map[types.BLSPubkey]int
	order   *big.Int
}

// NewInteropKeys derives the interop keys of indices [start, start+count):
// secret key i = int.from_bytes(sha256(i as 32-byte little-endian), 'little')
// mod r. Deriving a public key costs about a tenth of a millisecond.
func NewInteropKeys(start, count uint64) (*Keys, error) {
	if start+count < start {
		return nil, fmt.Errorf("derive interop keys: range [%d, %d+%d) overflows", start, start, count)
	}
	secrets := make([]*bls.SecretKey, count)
	for i := range secrets {
		secrets[i] = bls.InteropSecretKey(start + uint64(i))
	}
	return NewKeys(start, secrets)
}

// NewKeys builds a key set from secret keys already at hand: secrets[j] is
// key index start+j. Callers that derive many keys in parallel use it; the
// slice is copied. Duplicate keys are an error.
func NewKeys(start uint64, secrets []*bls.SecretKey) (*Keys, error) {
	n := uint64(len(secrets))
	if start+n < start {
		return nil, fmt.Errorf("build key set: range [%d, %d+%d) overflows", start, start, n)
	}
	order, ok := new(big.Int).SetString(curveOrderHex, 16)
	if !ok {
		panic("validator: bad curve order constant")
	}
	k := &Keys{
		start:   start,
		secrets: make([]*bls.SecretKey, n),
		scalars: make([]*big.Int, n),
		pubkeys: make([]types.BLSPubkey, n),
		byPub:   make(map[types.BLSPubkey]int, n),
		order:   order,
	}
	for j, sk := range secrets {
		if sk == nil {
			return nil, fmt.Errorf("build key set: key %d is nil", start+uint64(j))
		}
		k.secrets[j] = sk
		b := sk.Bytes()
		k.scalars[j] = new(big.Int).SetBytes(b[:])
		pk := types.BLSPubkey(sk.PublicKey().Bytes())
		if prev, dup := k.byPub[pk]; dup {
			return nil, fmt.Errorf("build key set: keys %d and %d are equal", start+uint64(prev), start+uint64(j))
		}
		k.pubkeys[j] = pk
		k.byPub[pk] = j
	}
	return k, nil
}

// Start is the first key index of the set.
func (k *Keys) Start() uint64 { return k.start }

// Len is the number of keys.
func (k *Keys) Len() int { return len(k.secrets) }

// String describes the range, for error messages.
func (k *Keys) String() string {
	return fmt.Sprintf("keys [%d, %d)", k.start, k.start+uint64(len(k.secrets)))
}

func (k *Keys) slot(i uint64) (int, bool) {
	if i < k.start || i-k.start >= uint64(len(k.secrets)) {
		return 0, false
	}
	return int(i - k.start), true
}

// SecretKey returns the secret key of key index i.
func (k *Keys) SecretKey(i uint64) (*bls.SecretKey, bool) {
	j, ok := k.slot(i)
	if !ok {
		return nil, false
	}
	return k.secrets[j], true
}

// Pubkey returns the public key of key index i.
func (k *Keys) Pubkey(i uint64) (types.BLSPubkey, bool) {
	j, ok := k.slot(i)
	if !ok {
		return types.BLSPubkey{}, false
	}
	return k.pubkeys[j], true
}

// IndexOf returns the key index of a public key.
func (k *Keys) IndexOf(pk types.BLSPubkey) (uint64, bool) {
	j, ok := k.byPub[pk]
	if !ok {
		return 0, false
	}
	return k.start + uint64(j), true
}

// SecretKeyOf returns the secret key of a public key.
func (k *Keys) SecretKeyOf(pk types.BLSPubkey) (*bls.SecretKey, bool) {
	j, ok := k.byPub[pk]
	if !ok {
		return nil, false
	}
	return k.secrets[j], true
}

// forValidator returns the secret key of validator v of st, matched by its
// registry public key.
func (k *Keys) forValidator(st *types.BeaconState, v types.ValidatorIndex) (*bls.SecretKey, int, error) {
	if uint64(v) >= uint64(len(st.Validators)) {
		return nil, 0, fmt.Errorf("%w %d: index beyond the registry of %d", ErrNoKey, v, len(st.Validators))
	}
	pk := st.Validators[v].Pubkey
	j, ok := k.byPub[pk]
	if !ok {
		return nil, 0, fmt.Errorf("%w %d (pubkey %s): not among %s", ErrNoKey, v, shortHex(pk[:]), k)
	}
	return k.secrets[j], j, nil
}

// sumSecret returns the secret key sum of the keys at positions js (mod r),
// whose signature equals the aggregate of their signatures. It fails only if
// the sum is zero.
func (k *Keys) sumSecret(js []int) (*bls.SecretKey, error) {
	sum := new(big.Int)
	for _, j := range js {
		sum.Add(sum, k.scalars[j])
	}
	sum.Mod(sum, k.order)
	var b [bls.SecretKeySize]byte
	sum.FillBytes(b[:])
	return bls.SecretKeyFromBytes(b[:])
}

func shortHex(b []byte) string {
	const n = 6
	if len(b) > n {
		return fmt.Sprintf("0x%x..", b[:n])
	}
	return fmt.Sprintf("0x%x", b)
}

// JoinKeys joins key sets of consecutive ranges, given in order, into one
// (for callers that derive the parts in parallel). The parts are not
// modified.
func JoinKeys(parts ...*Keys) (*Keys, error) {
	if len(parts) == 0 {
		return NewKeys(0, nil)
	}
	n := 0
	for i, p := range parts {
		if i > 0 {
			prev := parts[i-1]
			if prev.start+uint64(prev.Len()) != p.start {
				return nil, fmt.Errorf("join key sets: %s does not follow %s", p, prev)
			}
		}
		n += p.Len()
	}
	k := &Keys{
		start:   parts[0].start,
		secrets: make([]*bls.SecretKey, 0, n),
		scalars: make([]*big.Int, 0, n),
		pubkeys: make([]types.BLSPubkey, 0, n),
		byPub:   make(map[types.BLSPubkey]int, n),
		order:   parts[0].order,
	}
	for _, p := range parts {
		for j := range p.secrets {
			pk := p.pubkeys[j]
			if prev, dup := k.byPub[pk]; dup {
				return nil, fmt.Errorf("join key sets: keys %d and %d are equal", k.start+uint64(prev), p.start+uint64(j))
			}
			k.byPub[pk] = len(k.secrets)
			k.secrets = append(k.secrets, p.secrets[j])
			k.scalars = append(k.scalars, p.scalars[j])
			k.pubkeys = append(k.pubkeys, pk)
		}
	}
	return k, nil
}

// Pubkeys returns the public keys in key index order (a copy).
func (k *Keys) Pubkeys() []types.BLSPubkey { return append([]types.BLSPubkey(nil), k.pubkeys...) }
