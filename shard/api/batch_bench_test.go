package api

import (
	"testing"

	beaconapi "github.com/shardlab/shardlab/beacon/api"
	st "github.com/shardlab/shardlab/shard/types"
)

// BenchmarkDecodeBatch compares decoding a 512-transaction batch body
// from JSON (the baseline) and from SSZ: splitting it and decoding each
// transaction, as the batch route does.
func BenchmarkDecodeBatch(b *testing.B) {
	const n = 512
	jsonBody := []byte{'['}
	var sszBody []byte
	for i := range uint64(n) {
		tx := &st.Transaction{Shard: 1, From: i, Nonce: i, ToShard: 2, To: i + 1, Amount: 1000}
		tx.Signature[0], tx.Signature[63] = byte(i), 0x7f
		if i > 0 {
			jsonBody = append(jsonBody, ',')
		}
		var err error
		if jsonBody, err = beaconapi.AppendJSON(jsonBody, tx); err != nil {
			b.Fatal(err)
		}
		if sszBody, err = tx.MarshalSSZTo(sszBody); err != nil {
			b.Fatal(err)
		}
	}
	jsonBody = append(jsonBody, ']')
	for _, tc := range []struct {
		name string
		body []byte
		enc  beaconapi.Encoding
	}{{"json", jsonBody, beaconapi.EncodingJSON}, {"ssz", sszBody, beaconapi.EncodingSSZ}} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				raws, err := splitBatch(tc.body, tc.enc)
				if err != nil || len(raws) != n {
					b.Fatalf("%d transactions: %v", len(raws), err)
				}
				for _, raw := range raws {
					if _, err := DecodeTransaction(raw, tc.enc); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/tx")
		})
	}
}
