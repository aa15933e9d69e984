package testnet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	beaconapi "github.com/shardlab/shardlab/beacon/api"
	"github.com/shardlab/shardlab/beacon/params"
	shardcore "github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// BatchResult is the outcome of one transaction of a batch submission:
// Code is 202 (accepted), 400 (rejected) or 503 (unavailable), Message the
// node's reason when not accepted.
type BatchResult struct {
	Code    int
	Message string
}

// SubmitBatch posts body, a JSON array of signed transactions of shard
// (AppendBatch builds one), to the batch route and returns one result per
// transaction, in order.
func (c *Client) SubmitBatch(ctx context.Context, shard uint64, body []byte) ([]BatchResult, error) {
	return c.submitBatch(ctx, shard, beaconapi.MediaJSON, body)
}

// SubmitBatchSSZ is SubmitBatch with body the SSZ encodings of the
// transactions one after the other (AppendBatchSSZ builds one), which the
// node decodes more cheaply than JSON.
func (c *Client) SubmitBatchSSZ(ctx context.Context, shard uint64, body []byte) ([]BatchResult, error) {
	return c.submitBatch(ctx, shard, beaconapi.MediaSSZ, body)
}

func (c *Client) submitBatch(ctx context.Context, shard uint64, contentType string, body []byte) ([]BatchResult, error) {
	var d []struct {
		Code    u64    `json:"code"`
		Message string `json:"message"`
	}
	if err := c.doAs(ctx, http.MethodPost, "/shardlab/v1/shards/"+strconv.FormatUint(shard, 10)+"/transactions/batch", contentType, body, &d); err != nil {
		return nil, err
	}
	out := make([]BatchResult, len(d))
	for i, r := range d {
		out[i] = BatchResult{Code: int(r.Code), Message: r.Message}
	}
	return out, nil
}

// AppendBatch appends tx's JSON to a batch body being built in dst (nil
// or "[" ...); close it with append(dst, ']').
func AppendBatch(dst []byte, tx *st.Transaction) ([]byte, error) {
	if len(dst) == 0 {
		dst = append(dst, '[')
	} else {
		dst = append(dst, ',')
	}
	return beaconapi.AppendJSON(dst, tx)
}

// ShardBlock returns the canonical block of shard at slot, with ok false
// when the slot is empty (or not known to the node yet).
func (c *Client) ShardBlock(ctx context.Context, shard, slot uint64) (blk *st.ShardBlock, ok bool, err error) {
	var raw json.RawMessage // the signed shape; the slot's block is canonical
	path := fmt.Sprintf("/shardlab/v1/shards/%d/blocks/%d", shard, slot)
	if err := c.get(ctx, path, &raw); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, false, nil
		}
		return nil, false, err
	}
	blk = new(st.ShardBlock)
	if err := beaconapi.DecodeSigned(raw, blk); err != nil {
		return nil, false, fmt.Errorf("decode block of shard %d at slot %d: %w", shard, slot, err)
	}
	return blk, true, nil
}

// TxDomain returns the network's transaction domain (docs/protocol.md
// §2.5): its genesis header's state root is the genesis state root.
func (c *Client) TxDomain(ctx context.Context, cfg *params.Config) (shardcore.TxDomain, error) {
	h, err := c.Header(ctx, "genesis")
	if err != nil {
		return shardcore.TxDomain{}, fmt.Errorf("learn the transaction domain: %w", err)
	}
	root, err := beaconapi.ParseRoot(h.StateRoot)
	if err != nil {
		return shardcore.TxDomain{}, fmt.Errorf("learn the transaction domain: genesis state root %q: %w", h.StateRoot, err)
	}
	return shardcore.ComputeTxDomain(cfg, root), nil
}

// AppendBatchSSZ appends tx's SSZ encoding to a binary batch body being
// built in dst (nothing closes it).
func AppendBatchSSZ(dst []byte, tx *st.Transaction) ([]byte, error) {
	return tx.MarshalSSZTo(dst)
}
