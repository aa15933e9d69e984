package testnet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	beaconapi "github.com/shardlab/shardlab/beacon/api"
	st "github.com/shardlab/shardlab/shard/types"
)

// Errors of Client calls, by the API's status.
var (
	ErrNotFound    = errors.New("not found")                    // 404
	ErrRejected    = errors.New("rejected")                     // 400
	ErrUnavailable = errors.New("unavailable")                  // 503
	ErrHTTP        = errors.New("unexpected http api response") // anything else
)

// Client reads a node's HTTP API (docs/api.md) and submits transactions.
type Client struct {
	base string
	hc   *http.Client
}

// NewClient returns a client of the API at base (http://host:port).
func NewClient(base string) *Client {
	return &Client{base: base, hc: &http.Client{Timeout: 5 * time.Second}}
}

// u64 is an unsigned integer sent as a decimal string.
type u64 uint64

func (v *u64) UnmarshalJSON(b []byte) error {
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return fmt.Errorf("want a decimal string, got %s", b)
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return err
	}
	*v = u64(n)
	return nil
}

// apiError is the API's error body.
type apiError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// do sends a request and decodes {"data": ...} into out.
func (c *Client) do(ctx context.Context, method, path string, body []byte, out any) error {
	return c.doAs(ctx, method, path, "application/json", body, out)
}

// doAs is do with a body of the given Content-Type.
func (c *Client) doAs(ctx context.Context, method, path, contentType string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return statusError(method, path, resp.StatusCode, raw)
	}
	if out == nil {
		return nil
	}
	env := struct {
		Data any `json:"data"`
	}{Data: out}
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("%s %s: decode: %w", method, path, err)
	}
	return nil
}

// statusError is the error of an answer with a non-2xx status: its class
// (ErrNotFound, ErrRejected, ErrUnavailable, else ErrHTTP) and the API's
// message, or the raw body when it has none.
func statusError(method, path string, code int, raw []byte) error {
	var e apiError
	_ = json.Unmarshal(raw, &e)
	msg := e.Message
	if msg == "" {
		msg = string(raw)
	}
	class := ErrHTTP
	switch code {
	case http.StatusNotFound:
		class = ErrNotFound
	case http.StatusBadRequest:
		class = ErrRejected
	case http.StatusServiceUnavailable:
		class = ErrUnavailable
	}
	return fmt.Errorf("%s %s: %w: %d %s", method, path, class, code, msg)
}

func (c *Client) get(ctx context.Context, path string, out any) error {
	return c.do(ctx, http.MethodGet, path, nil, out)
}

// SyncInfo is /eth/v1/node/syncing.
type SyncInfo struct {
	HeadSlot     uint64
	SyncDistance uint64
	IsSyncing    bool
}

// Syncing returns the node's sync state.
func (c *Client) Syncing(ctx context.Context) (SyncInfo, error) {
	var d struct {
		HeadSlot     u64  `json:"head_slot"`
		SyncDistance u64  `json:"sync_distance"`
		IsSyncing    bool `json:"is_syncing"`
	}
	if err := c.get(ctx, "/eth/v1/node/syncing", &d); err != nil {
		return SyncInfo{}, err
	}
	return SyncInfo{HeadSlot: uint64(d.HeadSlot), SyncDistance: uint64(d.SyncDistance), IsSyncing: d.IsSyncing}, nil
}

// Checkpoint is an epoch and a block root (0x-hex).
type Checkpoint struct {
	Epoch uint64
	Root  string
}

// Finality is the head state's checkpoints.
type Finality struct {
	Justified, Finalized Checkpoint
}

// Finality returns the checkpoints of the node's head state.
func (c *Client) Finality(ctx context.Context) (Finality, error) {
	type cp struct {
		Epoch u64    `json:"epoch"`
		Root  string `json:"root"`
	}
	var d struct {
		CurrentJustified cp `json:"current_justified"`
		Finalized        cp `json:"finalized"`
	}
	if err := c.get(ctx, "/eth/v1/beacon/states/head/finality_checkpoints", &d); err != nil {
		return Finality{}, err
	}
	return Finality{
		Justified: Checkpoint{Epoch: uint64(d.CurrentJustified.Epoch), Root: d.CurrentJustified.Root},
		Finalized: Checkpoint{Epoch: uint64(d.Finalized.Epoch), Root: d.Finalized.Root},
	}, nil
}

// PeerCount returns the number of connected peers.
func (c *Client) PeerCount(ctx context.Context) (int, error) {
	var d struct {
		Connected u64 `json:"connected"`
	}
	if err := c.get(ctx, "/eth/v1/node/peer_count", &d); err != nil {
		return 0, err
	}
	return int(d.Connected), nil
}

// Header is a block header as the node sees it.
type Header struct {
	Root      string
	Slot      uint64
	StateRoot string
	Canonical bool
}

// Header returns the header of block id (head, finalized, a slot, 0x root).
func (c *Client) Header(ctx context.Context, id string) (Header, error) {
	var d struct {
		Root      string `json:"root"`
		Canonical bool   `json:"canonical"`
		Header    struct {
			Message struct {
				Slot      u64    `json:"slot"`
				StateRoot string `json:"state_root"`
			} `json:"message"`
		} `json:"header"`
	}
	if err := c.get(ctx, "/eth/v1/beacon/headers/"+id, &d); err != nil {
		return Header{}, err
	}
	return Header{Root: d.Root, Slot: uint64(d.Header.Message.Slot), StateRoot: d.Header.Message.StateRoot, Canonical: d.Canonical}, nil
}

// Arrival is when a node first saw a beacon block.
type Arrival struct {
	Root string
	Slot uint64
	Seen time.Time
}

// BlockArrivals returns the node's first-seen times of the blocks at slot
// >= since (/shardlab/v1/debug/block_arrivals).
func (c *Client) BlockArrivals(ctx context.Context, since uint64) ([]Arrival, error) {
	var d []struct {
		Root      string `json:"root"`
		Slot      u64    `json:"slot"`
		FirstSeen u64    `json:"first_seen_unix_nanos"`
	}
	if err := c.get(ctx, "/shardlab/v1/debug/block_arrivals?since="+strconv.FormatUint(since, 10), &d); err != nil {
		return nil, err
	}
	out := make([]Arrival, len(d))
	for i, a := range d {
		out[i] = Arrival{Root: a.Root, Slot: uint64(a.Slot), Seen: time.Unix(0, int64(a.FirstSeen))}
	}
	return out, nil
}

// Crosslink is a shard's current crosslink in a beacon head state, with the
// last shard header it covers when the node knows it.
type Crosslink struct {
	Shard      uint64
	StartEpoch uint64
	EndEpoch   uint64
	DataRoot   string
	// HeaderSlot and HeaderStateRoot describe the last crosslinked shard
	// header (HasHeader false when unknown).
	HasHeader       bool
	HeaderSlot      uint64
	HeaderStateRoot string
}

type crosslinkJSON struct {
	Shard      u64    `json:"shard"`
	StartEpoch u64    `json:"start_epoch"`
	EndEpoch   u64    `json:"end_epoch"`
	DataRoot   string `json:"data_root"`
	Header     *struct {
		Slot      u64    `json:"slot"`
		StateRoot string `json:"state_root"`
	} `json:"header"`
}

func (cj crosslinkJSON) crosslink() Crosslink {
	c := Crosslink{Shard: uint64(cj.Shard), StartEpoch: uint64(cj.StartEpoch), EndEpoch: uint64(cj.EndEpoch), DataRoot: cj.DataRoot}
	if cj.Header != nil {
		c.HasHeader, c.HeaderSlot, c.HeaderStateRoot = true, uint64(cj.Header.Slot), cj.Header.StateRoot
	}
	return c
}

// StateCrosslinks returns the current crosslinks of the node's head state,
// read from the state itself (/eth/v1/debug/beacon/states/head): every
// node serves it, shard nodes or not. The i-th is shard i's.
func (c *Client) StateCrosslinks(ctx context.Context) ([]Crosslink, error) {
	var d struct {
		CurrentCrosslinks []crosslinkJSON `json:"current_crosslinks"`
	}
	if err := c.get(ctx, "/eth/v1/debug/beacon/states/head", &d); err != nil {
		return nil, err
	}
	out := make([]Crosslink, len(d.CurrentCrosslinks))
	for i, cj := range d.CurrentCrosslinks {
		out[i] = cj.crosslink()
		// The shard is the position: the genesis crosslink of every
		// shard not crosslinked yet says shard 0.
		out[i].Shard = uint64(i)
	}
	return out, nil
}

// ShardInfo is one served shard of /shardlab/v1/shards.
type ShardInfo struct {
	Shard     uint64
	HeadSlot  uint64
	HeadRoot  string
	Crosslink *Crosslink
}

// Shards returns the shards the shard node serves.
func (c *Client) Shards(ctx context.Context) ([]ShardInfo, error) {
	var d []struct {
		Shard     u64            `json:"shard"`
		HeadSlot  u64            `json:"head_slot"`
		HeadRoot  string         `json:"head_root"`
		Crosslink *crosslinkJSON `json:"crosslink"`
	}
	if err := c.get(ctx, "/shardlab/v1/shards", &d); err != nil {
		return nil, err
	}
	out := make([]ShardInfo, len(d))
	for i, s := range d {
		out[i] = ShardInfo{Shard: uint64(s.Shard), HeadSlot: uint64(s.HeadSlot), HeadRoot: s.HeadRoot}
		if s.Crosslink != nil {
			cl := s.Crosslink.crosslink()
			out[i].Crosslink = &cl
		}
	}
	return out, nil
}

// ReceiptCounts are a shard's receipt totals: Sent, Claimed and Pending
// count the receipts it sent (Claimed as its node knows of the
// destinations: about an epoch behind for destinations it does not serve);
// Received counts the receipts of other shards it has claimed. Summed over
// all shards, Received is the number of receipts claimed network-wide.
type ReceiptCounts struct {
	Sent, Claimed, Pending uint64
	Received               uint64
}

// Receipts returns the receipt totals of a served shard.
func (c *Client) Receipts(ctx context.Context, shard uint64) (ReceiptCounts, error) {
	var d struct {
		Sent     u64 `json:"sent"`
		Claimed  u64 `json:"claimed"`
		Pending  u64 `json:"pending"`
		Received u64 `json:"received"`
	}
	if err := c.get(ctx, "/shardlab/v1/shards/"+strconv.FormatUint(shard, 10)+"/receipts?limit=1", &d); err != nil {
		return ReceiptCounts{}, err
	}
	return ReceiptCounts{Sent: uint64(d.Sent), Claimed: uint64(d.Claimed), Pending: uint64(d.Pending), Received: uint64(d.Received)}, nil
}

// ShardStats are /shardlab/v1/stats.
type ShardStats struct {
	Transactions, ReceiptsSent, ReceiptsClaimed, ReceiptsPending, FraudProofsSeen uint64
}

// Stats returns the totals of the shard node's served shards.
func (c *Client) Stats(ctx context.Context) (ShardStats, error) {
	var d struct {
		Transactions    u64 `json:"transactions"`
		ReceiptsSent    u64 `json:"receipts_sent"`
		ReceiptsClaimed u64 `json:"receipts_claimed"`
		ReceiptsPending u64 `json:"receipts_pending"`
		FraudProofsSeen u64 `json:"fraud_proofs_seen"`
	}
	if err := c.get(ctx, "/shardlab/v1/stats", &d); err != nil {
		return ShardStats{}, err
	}
	return ShardStats{uint64(d.Transactions), uint64(d.ReceiptsSent), uint64(d.ReceiptsClaimed), uint64(d.ReceiptsPending), uint64(d.FraudProofsSeen)}, nil
}

// Account returns the nonce and balance of an account in the shard's head
// state.
func (c *Client) Account(ctx context.Context, shard, index uint64) (nonce, balance uint64, err error) {
	var d struct {
		Nonce   u64 `json:"nonce"`
		Balance u64 `json:"balance"`
	}
	path := fmt.Sprintf("/shardlab/v1/shards/%d/accounts/%d", shard, index)
	if err := c.get(ctx, path, &d); err != nil {
		return 0, 0, err
	}
	return uint64(d.Nonce), uint64(d.Balance), nil
}

// SubmitTransaction posts a signed transaction as JSON; the node answers
// 202 when it pools it. A rejected transaction wraps ErrRejected.
func (c *Client) SubmitTransaction(ctx context.Context, tx *st.Transaction) error {
	body, err := beaconapi.EncodeJSON(tx)
	if err != nil {
		return fmt.Errorf("encode transaction: %w", err)
	}
	return c.do(ctx, http.MethodPost, "/shardlab/v1/shards/"+strconv.FormatUint(uint64(tx.Shard), 10)+"/transactions", body, nil)
}
