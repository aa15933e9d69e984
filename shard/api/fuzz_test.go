package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	beaconapi "github.com/shardlab/shardlab/beacon/api"
	"github.com/shardlab/shardlab/shard/api"
	st "github.com/shardlab/shardlab/shard/types"
)

// FuzzDecodeTransaction: decoding a transaction body never panics, and a
// decoded transaction encodes back to what decodes to the same value.
func FuzzDecodeTransaction(f *testing.F) {
	tx := &st.Transaction{Shard: 1, From: 2, Nonce: 3, ToShard: 4, To: 5, Amount: 6}
	js, _ := beaconapi.EncodeJSON(tx)
	sz, _ := tx.MarshalSSZ()
	f.Add(js, false)
	f.Add(sz, true)
	f.Add([]byte(`{"shard":"1"}`), false)
	f.Add([]byte(`{"shard":"1","from":"2","nonce":"3","to_shard":"4","to":"5","amount":"6","signature":"0x00","x":[]}`), false)
	f.Fuzz(func(t *testing.T, body []byte, ssz bool) {
		enc := beaconapi.EncodingJSON
		if ssz {
			enc = beaconapi.EncodingSSZ
		}
		tx, err := api.DecodeTransaction(body, enc)
		if err != nil {
			return
		}
		if ssz {
			out, err := tx.MarshalSSZ()
			if err != nil || !bytes.Equal(out, body) {
				t.Fatalf("ssz re-encoding differs: %v", err)
			}
			return
		}
		out, err := beaconapi.EncodeJSON(tx)
		if err != nil {
			t.Fatal(err)
		}
		back, err := api.DecodeTransaction(out, enc)
		if err != nil || *back != *tx {
			t.Fatalf("json round trip: %v", err)
		}
	})
}

// FuzzSubmit posts arbitrary bodies: the answer is always a status with a
// JSON body, never a panic or a 500.
func FuzzSubmit(f *testing.F) {
	h, fs, _ := newHandler(f)
	good, _ := beaconapi.EncodeJSON(signedTx(fs, 0, 5, 0, 1, 9, 100))
	f.Add(good, "application/json", "0")
	f.Add([]byte{1, 2, 3}, beaconapi.MediaSSZ, "0")
	f.Add([]byte(`{}`), "text/plain", "9")
	f.Fuzz(func(t *testing.T, body []byte, contentType, shard string) {
		req, err := http.NewRequest(http.MethodPost, "http://x/shardlab/v1/shards/"+shard+"/transactions", bytes.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		if rec.Code >= 400 && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("status %d with a non-JSON body %q", rec.Code, rec.Body)
		}
	})
}
