package handler

import (
	"bytes"
	"testing"

	bt "github.com/shardlab/shardlab/beacon/types"
	st "github.com/shardlab/shardlab/shard/types"
)

// FuzzShardMessage: strict decoding never panics, and what decodes
// re-encodes to the input.
func FuzzShardMessage(f *testing.F) {
	tx, _ := (&ShardMessage{Transaction: []*st.Transaction{{Shard: 1, Amount: 2}}}).MarshalSSZ()
	claim, _ := (&ShardMessage{Claim: []*st.ReceiptClaim{{ReceiptBranch: []bt.Root{{1}}, Crosslinks: []*bt.Crosslink{{Shard: 3}}}}}).MarshalSSZ()
	f.Add(tx)
	f.Add(claim)
	f.Add([]byte{8, 0, 0, 0, 8, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var m ShardMessage
		if err := bt.Decode(&m, data); err != nil {
			return
		}
		out, err := m.MarshalSSZ()
		if err != nil || !bytes.Equal(out, data) {
			t.Fatalf("re-encoded %x (%v), input %x", out, err, data)
		}
	})
}

// FuzzShardBlocksByRangeRequest: as FuzzShardMessage.
func FuzzShardBlocksByRangeRequest(f *testing.F) {
	seed, _ := (&ShardBlocksByRangeRequest{Shard: 1, StartSlot: 2, Count: 3}).MarshalSSZ()
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		var r ShardBlocksByRangeRequest
		if err := bt.Decode(&r, data); err != nil {
			return
		}
		out, err := r.MarshalSSZ()
		if err != nil || !bytes.Equal(out, data) {
			t.Fatalf("re-encoded %x (%v), input %x", out, err, data)
		}
	})
}
