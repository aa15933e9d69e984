package api_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	bt "github.com/shardlab/shardlab/beacon/types"
	st "github.com/shardlab/shardlab/shard/types"
)

func TestSubmitBatch(t *testing.T) {
	t.Parallel()
	h, f, _ := newHandler(t)
	mixed := newMixedBatch(f)
	first, second := mixed.txs[0], mixed.txs[1]
	internal := signedTx(f, 0, 9, 0, 1, 9, 13)
	arr := func(parts ...[]byte) []byte {
		return append(append([]byte("["), bytes.Join(parts, []byte(","))...), ']')
	}
	jsonCT := map[string]string{"Content-Type": "application/json"}
	var parts [][]byte
	for _, tx := range mixed.txs {
		parts = append(parts, txJSON(t, tx))
	}
	body := arr(append(parts, []byte(`{"shard":1}`))...)
	rec := do(t, h, request{method: http.MethodPost, path: "/shardlab/v1/shards/0/transactions/batch", header: jsonCT, body: body})
	data := checkBatchAnswer(t, rec, append(mixed.want, wantResult{"400", "decode json transaction"}))
	root, _ := first.HashTreeRoot()
	if str(t, data[0], "root") != bt.Root(root).String() {
		t.Errorf("root %v, want %s", data[0], bt.Root(root))
	}
	if pooled := f.pooled(); len(pooled) < 2 || *pooled[len(pooled)-2] != *first || *pooled[len(pooled)-1] != *second {
		t.Errorf("pool: %d transactions, want the batch's two last", len(pooled))
	}

	big := make([][]byte, 1025)
	for i := range big {
		big[i] = txJSON(t, first)
	}
	tests := []struct {
		name   string
		header map[string]string
		body   []byte
		code   int
		msg    string
	}{
		{"object", jsonCT, txJSON(t, first), 400, "want a JSON array"},
		{"empty array", jsonCT, []byte("[]"), 400, "empty"},
		{"malformed", jsonCT, []byte("[{"), 400, "want a JSON array"},
		{"too many", jsonCT, arr(big...), 400, "1025 transactions, at most 1024"},
		{"ssz not whole transactions", map[string]string{"Content-Type": "application/octet-stream"}, []byte{1}, 400, "1 bytes is not a whole number of 112-byte SSZ transactions"},
		{"ssz empty", map[string]string{"Content-Type": "application/octet-stream"}, nil, 400, "empty"},
		{"ssz too many", map[string]string{"Content-Type": "application/octet-stream"}, make([]byte, 112*1025), 400, "1025 transactions, at most 1024"},
		{"other type", map[string]string{"Content-Type": "text/plain"}, []byte("x"), 415, "unsupported Content-Type"},
		{"oversized", jsonCT, bytes.Repeat([]byte(" "), 1<<20+1), 413, "exceeds"},
		{"internal failure", jsonCT, arr(txJSON(t, internal)), 500, "pool exploded"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := do(t, h, request{method: http.MethodPost, path: "/shardlab/v1/shards/0/transactions/batch", header: tc.header, body: tc.body})
			checkError(t, rec, tc.code, tc.msg)
		})
	}
}

// TestSubmitBatchSSZ checks that a binary batch (the transactions' SSZ
// encodings one after the other) is answered as the same JSON batch.
func TestSubmitBatchSSZ(t *testing.T) {
	t.Parallel()
	h, f, _ := newHandler(t)
	mixed := newMixedBatch(f)
	var body []byte
	for _, tx := range mixed.txs {
		var err error
		if body, err = tx.MarshalSSZTo(body); err != nil {
			t.Fatal(err)
		}
	}
	rec := do(t, h, request{method: http.MethodPost, path: "/shardlab/v1/shards/0/transactions/batch",
		header: map[string]string{"Content-Type": "application/octet-stream"}, body: body})
	data := checkBatchAnswer(t, rec, mixed.want)
	if root, _ := mixed.txs[1].HashTreeRoot(); str(t, data[1], "root") != bt.Root(root).String() {
		t.Errorf("root %v, want %s", data[1], bt.Root(root))
	}
	if pooled := f.pooled(); len(pooled) < 2 || *pooled[len(pooled)-2] != *mixed.txs[0] || *pooled[len(pooled)-1] != *mixed.txs[1] {
		t.Errorf("pool: %d transactions, want the batch's two last", len(pooled))
	}
}

// wantResult is the expected code and message part of a batch result.
type wantResult struct{ code, msg string }

// mixedBatch is the batch both encodings are tested with: two accepted
// transactions, then per-transaction rejections that do not stop the rest
// (a nonce gap, another shard's, a bad signature).
type mixedBatch struct {
	txs  []*st.Transaction
	want []wantResult
}

func newMixedBatch(f *fakeShards) mixedBatch {
	second := signedTx(f, 0, 10, 0, 0, 9, 50)
	badSig := *second
	badSig.Amount = 51
	return mixedBatch{
		txs: []*st.Transaction{signedTx(f, 0, 7, 0, 1, 9, 100), second, signedTx(f, 0, 8, 4, 0, 9, 50), signedTx(f, 1, 7, 0, 1, 9, 100), &badSig},
		want: []wantResult{{"202", ""}, {"202", ""}, {"400", "nonce 4, account 8 expects 0"},
			{"400", "transaction of shard 1 posted to shard 0"}, {"400", "bad signature of account 10"}},
	}
}

// checkBatchAnswer checks a 200 batch answer against want and returns its
// results.
func checkBatchAnswer(t *testing.T, rec *httptest.ResponseRecorder, want []wantResult) []any {
	t.Helper()
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	data := at(t, decode(t, rec), "data").([]any)
	if len(data) != len(want) {
		t.Fatalf("%d results, want %d: %s", len(data), len(want), rec.Body)
	}
	for i, w := range want {
		if got := str(t, data[i], "code"); got != w.code || !strings.Contains(str(t, data[i], "message"), w.msg) {
			t.Errorf("result %d: %v, want %s %q", i, data[i], w.code, w.msg)
		}
	}
	return data
}
