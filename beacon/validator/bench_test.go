package validator

import (
	"testing"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/crypto/bls"
)

// BenchmarkCommitteeSignature compares the two ways to sign a 128-member
// committee aggregate: one signature by the sum of the secret keys (what
// AggregateCommittee does) against 128 signatures added together.
func BenchmarkCommitteeSignature(b *testing.B) {
	keys, err := NewInteropKeys(0, 128)
	if err != nil {
		b.Fatal(err)
	}
	js := make([]int, 128)
	for i := range js {
		js[i] = i
	}
	msg, domain := [32]byte{7}, [8]byte{2}
	b.Run("summed-key", func(b *testing.B) {
		for b.Loop() {
			sk, err := keys.sumSecret(js)
			if err != nil {
				b.Fatal(err)
			}
			sk.Sign(msg, domain)
		}
	})
	b.Run("aggregate-signatures", func(b *testing.B) {
		for b.Loop() {
			sigs := make([]*bls.Signature, len(js))
			for i, j := range js {
				sigs[i] = keys.secrets[j].Sign(msg, domain)
			}
			bls.AggregateSignatures(sigs)
		}
	})
}

// BenchmarkInteropGenesis compares genesis of 256 validators with signed and
// verified deposits against SkipDepositSignatures (keys derived beforehand).
func BenchmarkInteropGenesis(b *testing.B) {
	cfg := params.Minimal()
	tr := core.New(cfg)
	keys, err := NewInteropKeys(0, 256)
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opts []GenesisOption
	}{
		{"signed", []GenesisOption{WithKeys(keys)}},
		{"skip-deposit-signatures", []GenesisOption{WithKeys(keys), SkipDepositSignatures()}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := InteropGenesis(tr, 256, cfg.MinGenesisTime, tc.opts...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
