package testnet

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	st "github.com/shardlab/shardlab/shard/types"
)

// TestSubmitBatchEncodings checks the two batch bodies the client sends:
// a JSON array (application/json) and the transactions' SSZ one after the
// other (application/octet-stream), and that both answers are parsed.
func TestSubmitBatchEncodings(t *testing.T) {
	txs := []*st.Transaction{{Shard: 3, From: 1, Nonce: 2, To: 4, Amount: 5}, {Shard: 3, From: 6, Nonce: 7, To: 8, Amount: 9}}
	txs[1].Signature[63] = 0xaa
	var gotType string
	var gotBody []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/shardlab/v1/shards/3/transactions/batch" {
			http.NotFound(w, r)
			return
		}
		gotType = r.Header.Get("Content-Type")
		gotBody, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"data":[{"root":"0x00","code":"202","message":""},{"root":"0x00","code":"400","message":"stale"}]}`))
	}))
	defer srv.Close()
	c := NewClient(srv.URL)

	var jsonBody, sszBody []byte
	for _, tx := range txs {
		var err error
		if jsonBody, err = AppendBatch(jsonBody, tx); err != nil {
			t.Fatal(err)
		}
		if sszBody, err = AppendBatchSSZ(sszBody, tx); err != nil {
			t.Fatal(err)
		}
	}
	jsonBody = append(jsonBody, ']')
	tests := []struct {
		name   string
		submit func(context.Context, uint64, []byte) ([]BatchResult, error)
		body   []byte
		ctype  string
	}{
		{"json", c.SubmitBatch, jsonBody, "application/json"},
		{"ssz", c.SubmitBatchSSZ, sszBody, "application/octet-stream"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := tc.submit(context.Background(), 3, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			if gotType != tc.ctype || !bytes.Equal(gotBody, tc.body) {
				t.Fatalf("sent %q with %d bytes, want %q with %d", gotType, len(gotBody), tc.ctype, len(tc.body))
			}
			if len(res) != 2 || res[0].Code != 202 || res[1].Code != 400 || res[1].Message != "stale" {
				t.Fatalf("results %+v", res)
			}
		})
	}
	if len(sszBody) != 2*txs[0].SizeSSZ() {
		t.Fatalf("ssz body of %d bytes, want two %d-byte transactions", len(sszBody), txs[0].SizeSSZ())
	}
	var back st.Transaction
	if err := back.UnmarshalSSZ(sszBody[txs[0].SizeSSZ():]); err != nil || back != *txs[1] {
		t.Fatalf("second transaction decodes to %+v (%v)", back, err)
	}
}
