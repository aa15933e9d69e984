package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	beaconapi "github.com/shardlab/shardlab/beacon/api"
	bt "github.com/shardlab/shardlab/beacon/types"
	st "github.com/shardlab/shardlab/shard/types"
)

// batchResult is the outcome of one transaction of a batch: its root and
// the status the single submission would have answered (202 accepted, 400
// rejected, 503 unavailable), with the reason when not accepted (Root is
// zero when the transaction could not be decoded).
type batchResult struct {
	Root    bt.Root
	Code    uint64
	Message string
}

// TxPreverifier is implemented by a ShardBackend that can check the
// signatures of many transactions at once, faster than one by one (in
// parallel, into its verified-signature cache). The batch route calls it
// with the batch's decoded transactions of the path's shard before
// submitting them one by one; it only saves work: SubmitTransaction still
// judges every transaction.
type TxPreverifier interface {
	PreverifyTransactions(txs []*st.Transaction)
}

// submitBatch accepts a JSON array of signed transactions of the path's
// shard, or their SSZ encodings one after the other (Content-Type
// application/octet-stream), at most Config.MaxBatch, and submits each in
// order, as submitTransaction would. It answers 200 with one result per transaction,
// in the order given, unless the body itself is unusable (400, 413, 415)
// or a transaction fails internally (500, the later ones not submitted).
func (h *Handler) submitBatch(w http.ResponseWriter, r *http.Request) error {
	shard, enc, body, err := h.shardBody(w, r)
	if err != nil {
		return err
	}
	raws, err := splitBatch(body, enc)
	if err != nil {
		return err
	}
	switch {
	case len(raws) == 0:
		return beaconapi.Errorf(http.StatusBadRequest, "decode transaction batch: empty")
	case len(raws) > h.cfg.MaxBatch:
		return beaconapi.Errorf(http.StatusBadRequest, "decode transaction batch: %d transactions, at most %d", len(raws), h.cfg.MaxBatch)
	}
	out := make([]batchResult, len(raws))
	txs := make([]*st.Transaction, len(raws))
	for i, raw := range raws {
		tx, err := DecodeTransaction(raw, enc)
		if err != nil {
			out[i] = batchResult{Code: http.StatusBadRequest, Message: err.Error()}
			continue
		}
		if tx.Shard != shard {
			out[i] = batchResult{Code: http.StatusBadRequest, Message: fmt.Sprintf("transaction of shard %d posted to shard %d", tx.Shard, shard)}
			continue
		}
		r32, err := tx.HashTreeRoot()
		if err != nil {
			out[i] = batchResult{Code: http.StatusBadRequest, Message: fmt.Sprintf("hash transaction: %v", err)}
			continue
		}
		out[i] = batchResult{Root: bt.Root(r32), Code: http.StatusAccepted}
		txs[i] = tx
	}
	if pv, ok := h.shards.(TxPreverifier); ok {
		pv.PreverifyTransactions(slices.DeleteFunc(slices.Clone(txs), func(tx *st.Transaction) bool { return tx == nil }))
	}
	for i, tx := range txs {
		if tx == nil {
			continue
		}
		if err := h.shards.SubmitTransaction(r.Context(), tx); err != nil {
			code := beaconapi.StatusOf(err)
			if code == http.StatusInternalServerError {
				return fmt.Errorf("submit transaction %d of the batch (%s): %w", i, out[i].Root, err)
			}
			out[i].Code, out[i].Message = uint64(code), err.Error()
		}
	}
	return beaconapi.WriteData(w, out)
}

// txSSZSize is the size of a Transaction's SSZ encoding (fixed).
var txSSZSize = (&st.Transaction{}).SizeSSZ()

// splitBatch splits a batch body into its transactions' encodings: a JSON
// array of transaction objects, or (SSZ) the transactions' fixed-size SSZ
// encodings one after the other, i.e. the SSZ List[Transaction, MaxBatch].
func splitBatch(body []byte, enc beaconapi.Encoding) ([][]byte, error) {
	if enc == beaconapi.EncodingSSZ {
		if len(body)%txSSZSize != 0 {
			return nil, beaconapi.Errorf(http.StatusBadRequest, "decode transaction batch: %d bytes is not a whole number of %d-byte SSZ transactions", len(body), txSSZSize)
		}
		raws := make([][]byte, 0, len(body)/txSSZSize)
		for off := 0; off < len(body); off += txSSZSize {
			raws = append(raws, body[off:off+txSSZSize])
		}
		return raws, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, beaconapi.Errorf(http.StatusBadRequest, "decode transaction batch: want a JSON array of transactions: %v", err)
	}
	raws := make([][]byte, len(list))
	for i, r := range list {
		raws[i] = r
	}
	return raws, nil
}
