package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	beaconapi "github.com/shardlab/shardlab/beacon/api"
	bt "github.com/shardlab/shardlab/beacon/types"
	st "github.com/shardlab/shardlab/shard/types"
)

// Prefix is the path under which the shard API is mounted on the beacon
// server: srv.Mount(api.Prefix, api.New(...)).
const Prefix = "/shardlab/v1/"

// Config configures the shard endpoints.
type Config struct {
	// MaxBodyBytes caps request bodies (a larger one is a 413).
	MaxBodyBytes int64
	// DefaultReceiptLimit is the receipts endpoint's ?limit= default;
	// MaxReceiptLimit its largest accepted value.
	DefaultReceiptLimit int
	MaxReceiptLimit     int
	// MaxBatch caps the transactions of one batch submission.
	MaxBatch int
}

// DefaultConfig returns 1 MiB bodies, receipt pages of 100 (at most 1000)
// and batches of at most 1024 transactions.
func DefaultConfig() Config {
	return Config{MaxBodyBytes: 1 << 20, DefaultReceiptLimit: 100, MaxReceiptLimit: 1000, MaxBatch: 1024}
}

// Validate checks the config.
func (c Config) Validate() error {
	if c.MaxBodyBytes <= 0 {
		return fmt.Errorf("validate shard api config: max body bytes %d must be positive", c.MaxBodyBytes)
	}
	if c.MaxBatch < 1 {
		return fmt.Errorf("validate shard api config: max batch %d must be positive", c.MaxBatch)
	}
	if c.DefaultReceiptLimit < 1 || c.MaxReceiptLimit < c.DefaultReceiptLimit {
		return fmt.Errorf("validate shard api config: want 1 <= default receipt limit (%d) <= max receipt limit (%d)",
			c.DefaultReceiptLimit, c.MaxReceiptLimit)
	}
	return nil
}

// Handler serves the /shardlab/v1 endpoints.
type Handler struct {
	cfg    Config
	shards ShardBackend
	beacon BeaconReader
	router *beaconapi.Router
}

// New returns the shard API on shards (the shard node) and beacon (the
// beacon chain, for crosslinks). Zero config fields take their defaults;
// logger nil means no logging.
func New(cfg Config, shards ShardBackend, beacon BeaconReader, logger *slog.Logger) *Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	def := DefaultConfig()
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = def.MaxBodyBytes
	}
	if cfg.DefaultReceiptLimit <= 0 {
		cfg.DefaultReceiptLimit = def.DefaultReceiptLimit
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = def.MaxBatch
	}
	if cfg.MaxReceiptLimit < cfg.DefaultReceiptLimit {
		cfg.MaxReceiptLimit = max(def.MaxReceiptLimit, cfg.DefaultReceiptLimit)
	}
	h := &Handler{cfg: cfg, shards: shards, beacon: beacon, router: beaconapi.NewRouter(logger)}
	r := func(pattern string, fn beaconapi.HandlerFunc) { h.router.Handle(pattern, beaconapi.JSONOnly(fn)) }
	r("GET /shardlab/v1/shards", h.listShards)
	r("GET /shardlab/v1/shards/{shard}/head", h.shardHead)
	h.router.Handle("GET /shardlab/v1/shards/{shard}/blocks/{block_id}", h.shardBlock) // JSON or SSZ
	r("GET /shardlab/v1/shards/{shard}/accounts/{index}", h.account)
	r("GET /shardlab/v1/shards/{shard}/receipts", h.receipts)
	r("POST /shardlab/v1/shards/{shard}/transactions", h.submitTransaction)
	r("POST /shardlab/v1/shards/{shard}/transactions/batch", h.submitBatch)
	r("GET /shardlab/v1/crosslinks", h.crosslinks)
	r("GET /shardlab/v1/stats", h.stats)
	return h
}

// ServeHTTP serves the shard API.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.router.ServeHTTP(w, r) }

// pathShard parses the {shard} segment: below SHARD_COUNT (else 400) and
// served by the node (else 503).
func (h *Handler) pathShard(r *http.Request) (bt.Shard, error) {
	raw := r.PathValue("shard")
	v, err := beaconapi.ParseUint(raw)
	if err != nil {
		return 0, beaconapi.Errorf(http.StatusBadRequest, "invalid shard %q: want a decimal shard number", trunc(raw))
	}
	if n := h.beacon.Config().ShardCount; v >= n {
		return 0, beaconapi.Errorf(http.StatusBadRequest, "invalid shard %d: SHARD_COUNT is %d", v, n)
	}
	shard := bt.Shard(v)
	if !slices.Contains(h.shards.Shards(), shard) {
		return 0, beaconapi.Errorf(http.StatusServiceUnavailable, "shard %d is not served by this node", shard)
	}
	return shard, nil
}

// crosslinkData is a shard's current crosslink in the beacon head state,
// with the last header it covers when the shard node knows it.
type crosslinkData struct {
	Shard      bt.Shard
	ParentRoot bt.Root
	StartEpoch bt.Epoch
	EndEpoch   bt.Epoch
	DataRoot   bt.Root
	Header     *crosslinkHeader `json:",omitempty"`
}

type crosslinkHeader struct {
	Slot      bt.Slot
	Root      bt.Root
	StateRoot bt.Root
}

// crosslinked reports whether crosslink c, a shard's current crosslink,
// covers at least one epoch of the shard (end_epoch > 0): the genesis
// crosslink Crosslink() does not, and the shard is then not crosslinked
// yet.
func crosslinked(c bt.Crosslink) bool { return c.EndEpoch > 0 }

// headCrosslinks returns the current crosslinks of the beacon head state,
// or nil when the node has no head state yet.
func (h *Handler) headCrosslinks() ([]bt.Crosslink, error) {
	root, _ := h.beacon.Head()
	s, err := h.beacon.State(root)
	if errors.Is(err, beaconapi.ErrNotFound) || errors.Is(err, beaconapi.ErrUnavailable) || (err == nil && s == nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up the beacon head state: %w", err)
	}
	return s.CurrentCrosslinks, nil
}

// crosslinkOf describes c, the current crosslink of shard (its position in
// current_crosslinks). The shard is the position, never c.shard: a shard
// not crosslinked yet has the genesis crosslink Crosslink(), whose shard
// field is 0 for every shard. Such a crosslink, or any that covers no epoch
// (end_epoch 0), crosslinks no shard data: it has no header.
func (h *Handler) crosslinkOf(shard bt.Shard, c bt.Crosslink) (crosslinkData, error) {
	out := crosslinkData{Shard: shard, ParentRoot: c.ParentRoot, StartEpoch: c.StartEpoch, EndEpoch: c.EndEpoch, DataRoot: c.DataRoot}
	if !crosslinked(c) {
		return out, nil
	}
	hdr, err := h.shards.CrosslinkHeader(shard, c)
	switch {
	case err == nil:
		out.Header = &crosslinkHeader{Slot: hdr.Slot, Root: hdr.SigningRoot(), StateRoot: hdr.StateRoot}
	case errors.Is(err, beaconapi.ErrNotFound), errors.Is(err, beaconapi.ErrUnavailable):
	default:
		return out, fmt.Errorf("look up the crosslinked header of shard %d: %w", shard, err)
	}
	return out, nil
}

func (h *Handler) crosslinks(w http.ResponseWriter, r *http.Request) error {
	cls, err := h.headCrosslinks()
	if err != nil {
		return err
	}
	if cls == nil {
		return beaconapi.Errorf(http.StatusServiceUnavailable, "the beacon node has no head state yet")
	}
	out := make([]crosslinkData, 0, len(cls))
	for i, c := range cls {
		cd, err := h.crosslinkOf(bt.Shard(i), c)
		if err != nil {
			return err
		}
		out = append(out, cd)
	}
	return beaconapi.WriteData(w, out)
}

type shardInfo struct {
	Shard         bt.Shard
	HeadSlot      bt.Slot
	HeadRoot      bt.Root
	HeadStateRoot bt.Root
	// Crosslink is the shard's current crosslink in the beacon head state
	// (absent before the beacon node has one), with the slot and state root
	// of the last header it covers when known.
	Crosslink *crosslinkData `json:",omitempty"`
}

func (h *Handler) listShards(w http.ResponseWriter, r *http.Request) error {
	cls, err := h.headCrosslinks()
	if err != nil {
		return err
	}
	out := []shardInfo{}
	for _, shard := range h.shards.Shards() {
		head, err := h.shards.Head(shard)
		if err != nil {
			return fmt.Errorf("look up the head of shard %d: %w", shard, err)
		}
		info := shardInfo{Shard: shard, HeadSlot: head.Slot, HeadRoot: head.Root, HeadStateRoot: head.StateRoot}
		if uint64(shard) < uint64(len(cls)) {
			cd, err := h.crosslinkOf(shard, cls[shard])
			if err != nil {
				return err
			}
			info.Crosslink = &cd
		}
		out = append(out, info)
	}
	return beaconapi.WriteData(w, out)
}

func (h *Handler) shardHead(w http.ResponseWriter, r *http.Request) error {
	shard, err := h.pathShard(r)
	if err != nil {
		return err
	}
	head, err := h.shards.Head(shard)
	if err != nil {
		return fmt.Errorf("look up the head of shard %d: %w", shard, err)
	}
	return beaconapi.WriteData(w, head)
}

// shardBlockResponse carries the block's root and canonical flag beside
// the Beacon API's signed shape.
type shardBlockResponse struct {
	Root      bt.Root
	Canonical bool
	Data      json.RawMessage
}

// ParseShardBlockID parses a shard block id: head | <slot> | 0x<root>. A
// malformed one is a 400 that names these forms (not the beacon ids).
func ParseShardBlockID(s string) (beaconapi.BlockID, error) {
	id, err := beaconapi.ParseBlockID(s)
	if err != nil || (id.Kind != beaconapi.IDHead && id.Kind != beaconapi.IDSlot && id.Kind != beaconapi.IDRoot) {
		return beaconapi.BlockID{}, beaconapi.Errorf(http.StatusBadRequest, "invalid shard block id %q: want head, a slot or a 0x-prefixed 32-byte root", trunc(s))
	}
	return id, nil
}

func (h *Handler) shardBlock(w http.ResponseWriter, r *http.Request) error {
	shard, err := h.pathShard(r)
	if err != nil {
		return err
	}
	id, err := ParseShardBlockID(r.PathValue("block_id"))
	if err != nil {
		return err
	}
	enc, err := beaconapi.Negotiate(r, true)
	if err != nil {
		return err
	}
	var root bt.Root
	switch id.Kind {
	case beaconapi.IDHead:
		head, err := h.shards.Head(shard)
		if err != nil {
			return fmt.Errorf("look up the head of shard %d: %w", shard, err)
		}
		root = head.Root
	case beaconapi.IDSlot:
		root, err = h.shards.CanonicalRoot(shard, id.Slot)
		if errors.Is(err, beaconapi.ErrNotFound) {
			return beaconapi.Errorf(http.StatusNotFound, "no canonical block of shard %d at slot %d", shard, id.Slot)
		}
		if err != nil {
			return fmt.Errorf("look up the canonical block of shard %d at slot %d: %w", shard, id.Slot, err)
		}
	default:
		root = id.Root
	}
	blk, err := h.shards.Block(shard, root)
	if errors.Is(err, beaconapi.ErrNotFound) || (err == nil && blk == nil) {
		return beaconapi.Errorf(http.StatusNotFound, "block %s of shard %d not found", root, shard)
	}
	if err != nil {
		return fmt.Errorf("look up block %s of shard %d: %w", root, shard, err)
	}
	if enc == beaconapi.EncodingSSZ {
		body, err := blk.MarshalSSZ()
		if err != nil {
			return fmt.Errorf("encode block %s of shard %d: %w", root, shard, err)
		}
		beaconapi.WriteSSZ(w, "", body)
		return nil
	}
	data, err := beaconapi.EncodeSigned(blk)
	if err != nil {
		return err
	}
	canon, err := h.shards.CanonicalRoot(shard, blk.Slot)
	return beaconapi.WriteJSON(w, http.StatusOK, shardBlockResponse{Root: root, Canonical: err == nil && canon == root, Data: data})
}

type accountData struct {
	Index   uint64
	Pubkey  [32]byte
	Balance bt.Gwei
	Nonce   uint64
}

func (h *Handler) account(w http.ResponseWriter, r *http.Request) error {
	shard, err := h.pathShard(r)
	if err != nil {
		return err
	}
	raw := r.PathValue("index")
	index, err := beaconapi.ParseUint(raw)
	if err != nil {
		return beaconapi.Errorf(http.StatusBadRequest, "invalid account index %q: want a decimal index", trunc(raw))
	}
	var stateRoot *bt.Root
	if vals := r.URL.Query()["state_root"]; len(vals) > 0 {
		if len(vals) > 1 {
			return beaconapi.Errorf(http.StatusBadRequest, "query parameter state_root given %d times", len(vals))
		}
		sr, err := beaconapi.ParseRoot(vals[0])
		if err != nil {
			return beaconapi.Errorf(http.StatusBadRequest, "invalid state_root %q: %v", trunc(vals[0]), err)
		}
		stateRoot = &sr
	}
	if n := h.beacon.Config().Shard.Accounts; index >= n {
		return beaconapi.Errorf(http.StatusNotFound, "account %d not found: shard %d has %d accounts", index, shard, n)
	}
	acc, err := h.shards.Account(shard, index, stateRoot)
	if errors.Is(err, beaconapi.ErrNotFound) {
		if stateRoot != nil {
			return beaconapi.Errorf(http.StatusNotFound, "account %d of shard %d at state %s not found", index, shard, *stateRoot)
		}
		return beaconapi.Errorf(http.StatusNotFound, "account %d of shard %d not found", index, shard)
	}
	if err != nil {
		return fmt.Errorf("look up account %d of shard %d: %w", index, shard, err)
	}
	return beaconapi.WriteData(w, accountData{Index: index, Pubkey: acc.Pubkey, Balance: acc.Balance, Nonce: acc.Nonce})
}

type receiptData struct {
	SrcShard  bt.Shard
	DstShard  bt.Shard
	Nonce     uint64
	SrcSlot   bt.Slot
	Sender    uint64
	Recipient uint64
	Amount    bt.Gwei
	Status    ReceiptStatus
	BlockRoot bt.Root
}

type receiptsData struct {
	Sent     uint64
	Claimed  uint64
	Pending  uint64
	Received uint64
	Receipts []receiptData
}

func (h *Handler) receipts(w http.ResponseWriter, r *http.Request) error {
	shard, err := h.pathShard(r)
	if err != nil {
		return err
	}
	var q ReceiptQuery
	switch vals := r.URL.Query()["status"]; {
	case len(vals) > 1:
		return beaconapi.Errorf(http.StatusBadRequest, "query parameter status given %d times", len(vals))
	case len(vals) == 1:
		q.Status = ReceiptStatus(vals[0])
		if q.Status != ReceiptPending && q.Status != ReceiptClaimed {
			return beaconapi.Errorf(http.StatusBadRequest, "invalid status %q: want pending or claimed", trunc(vals[0]))
		}
	}
	q.Limit = h.cfg.DefaultReceiptLimit
	if v, ok, err := beaconapi.QueryUint(r, "limit"); err != nil {
		return err
	} else if ok {
		if v < 1 || v > uint64(h.cfg.MaxReceiptLimit) {
			return beaconapi.Errorf(http.StatusBadRequest, "invalid limit %d: want 1 to %d", v, h.cfg.MaxReceiptLimit)
		}
		q.Limit = int(v)
	}
	list, err := h.shards.Receipts(shard, q)
	if err != nil {
		return fmt.Errorf("list the receipts of shard %d: %w", shard, err)
	}
	out := receiptsData{Sent: list.Sent, Claimed: list.Claimed, Pending: list.Pending, Received: list.Received, Receipts: []receiptData{}}
	for _, ri := range list.Receipts {
		if len(out.Receipts) == q.Limit {
			break
		}
		if q.Status != "" && ri.Status != q.Status {
			continue
		}
		rc := ri.Receipt
		out.Receipts = append(out.Receipts, receiptData{
			SrcShard: rc.SrcShard, DstShard: rc.DstShard, Nonce: rc.Nonce, SrcSlot: rc.SrcSlot,
			Sender: rc.Sender, Recipient: rc.Recipient, Amount: rc.Amount, Status: ri.Status, BlockRoot: ri.BlockRoot,
		})
	}
	return beaconapi.WriteData(w, out)
}

type envelope struct {
	Data any
}

// shardBody reads what a submission route needs: the shard in the path,
// the body's encoding (JSON or SSZ) and the body, bounded by MaxBodyBytes.
func (h *Handler) shardBody(w http.ResponseWriter, r *http.Request) (bt.Shard, beaconapi.Encoding, []byte, error) {
	shard, err := h.pathShard(r)
	if err != nil {
		return 0, 0, nil, err
	}
	enc, err := beaconapi.RequestEncoding(r, true)
	if err != nil {
		return 0, 0, nil, err
	}
	body, err := beaconapi.ReadBody(w, r, h.cfg.MaxBodyBytes)
	if err != nil {
		return 0, 0, nil, err
	}
	return shard, enc, body, nil
}

type txAccepted struct {
	Root bt.Root
}

// submitTransaction accepts a signed transaction as JSON or SSZ and answers
// 202 with its hash_tree_root once the backend has validated it.
func (h *Handler) submitTransaction(w http.ResponseWriter, r *http.Request) error {
	shard, enc, body, err := h.shardBody(w, r)
	if err != nil {
		return err
	}
	tx, err := DecodeTransaction(body, enc)
	if err != nil {
		return beaconapi.Errorf(http.StatusBadRequest, "%v", err)
	}
	if tx.Shard != shard {
		return beaconapi.Errorf(http.StatusBadRequest, "transaction of shard %d posted to shard %d", tx.Shard, shard)
	}
	r32, err := tx.HashTreeRoot()
	if err != nil {
		return beaconapi.Errorf(http.StatusBadRequest, "hash transaction: %v", err)
	}
	root := bt.Root(r32)
	if err := h.shards.SubmitTransaction(r.Context(), tx); err != nil {
		code := beaconapi.StatusOf(err)
		if code == http.StatusInternalServerError {
			return fmt.Errorf("submit transaction %s: %w", root, err)
		}
		return beaconapi.Errorf(code, "transaction %s rejected: %v", root, err)
	}
	return beaconapi.WriteJSON(w, http.StatusAccepted, envelope{Data: txAccepted{Root: root}})
}

// DecodeTransaction decodes a transaction from a request body: the JSON of
// beacon/api.DecodeJSON ({"shard", "from", "nonce", "to_shard", "to",
// "amount", "signature"}) or canonical SSZ.
func DecodeTransaction(body []byte, enc beaconapi.Encoding) (*st.Transaction, error) {
	tx := new(st.Transaction)
	if enc == beaconapi.EncodingSSZ {
		if err := bt.Decode(tx, body); err != nil {
			return nil, fmt.Errorf("decode ssz transaction: %w", err)
		}
		return tx, nil
	}
	if err := beaconapi.DecodeJSON(body, tx); err != nil {
		return nil, fmt.Errorf("decode json transaction: %w", err)
	}
	return tx, nil
}

func (h *Handler) stats(w http.ResponseWriter, r *http.Request) error {
	return beaconapi.WriteData(w, h.shards.Stats())
}

func trunc(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return strings.ToValidUTF8(s, "?")
}
