package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	beaconapi "github.com/shardlab/shardlab/beacon/api"
	"github.com/shardlab/shardlab/beacon/api/apitest"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/shard/api"
	st "github.com/shardlab/shardlab/shard/types"
)

func itoa[T ~uint64](v T) string { return strconv.FormatUint(uint64(v), 10) }

func TestShards(t *testing.T) {
	t.Parallel()
	h, f, _ := newHandler(t)
	beacon := f.beacon.HeadState()
	m := decode(t, get(t, h, "/shardlab/v1/shards"))
	data := at(t, m, "data").([]any)
	if len(data) != 2 {
		t.Fatalf("%d shards, want 2", len(data))
	}
	for i, shard := range []bt.Shard{0, 1} {
		sc := f.chains[shard]
		cl := beacon.CurrentCrosslinks[shard]
		s := data[i]
		if str(t, s, "shard") != itoa(shard) || str(t, s, "head_slot") != itoa(sc.head.Slot) ||
			str(t, s, "head_root") != sc.head.Root.String() || str(t, s, "head_state_root") != sc.head.StateRoot.String() ||
			str(t, s, "crosslink", "end_epoch") != itoa(cl.EndEpoch) || str(t, s, "crosslink", "data_root") != cl.DataRoot.String() {
			t.Errorf("shard %d: %v", shard, s)
		}
		if cl.EndEpoch == 0 {
			t.Fatalf("shard %d was never crosslinked: the test chain is too short", shard)
		}
		hdr, err := f.CrosslinkHeader(shard, cl)
		if err != nil {
			t.Fatal(err)
		}
		if str(t, s, "crosslink", "header", "state_root") != hdr.StateRoot.String() ||
			str(t, s, "crosslink", "header", "root") != hdr.SigningRoot().String() {
			t.Errorf("shard %d crosslinked header: %v", shard, at(t, s, "crosslink"))
		}
	}
	// The last block of shard 0 is the crosslinked one.
	if str(t, data[0], "crosslink", "header", "state_root") != f.chains[0].head.StateRoot.String() {
		t.Errorf("shard 0's crosslinked state root is not its head's")
	}
}

func TestCrosslinks(t *testing.T) {
	t.Parallel()
	h, f, be := newHandler(t)
	beacon := f.beacon.HeadState()
	m := decode(t, get(t, h, "/shardlab/v1/crosslinks"))
	data := at(t, m, "data").([]any)
	if len(data) != len(beacon.CurrentCrosslinks) {
		t.Fatalf("%d crosslinks, want %d", len(data), len(beacon.CurrentCrosslinks))
	}
	for i, cl := range beacon.CurrentCrosslinks {
		c := data[i].(map[string]any)
		if str(t, c, "shard") != itoa(uint64(i)) || str(t, c, "start_epoch") != itoa(cl.StartEpoch) ||
			str(t, c, "end_epoch") != itoa(cl.EndEpoch) || str(t, c, "parent_root") != cl.ParentRoot.String() {
			t.Errorf("crosslink %d: %v", i, c)
		}
		_, known := c["header"]
		if known != (i < 2) {
			t.Errorf("crosslink %d: header known = %v", i, known)
		}
	}
	be.SetGenesisKnown(false) // no effect: the head state is still there
	if rec := get(t, h, "/shardlab/v1/crosslinks"); rec.Code != 200 {
		t.Errorf("crosslinks: %d", rec.Code)
	}
	be.SetFailure(fmt.Errorf("db closed"))
	checkError(t, get(t, h, "/shardlab/v1/crosslinks"), 500, "db closed")
}

func TestShardHead(t *testing.T) {
	t.Parallel()
	h, f, _ := newHandler(t)
	m := decode(t, get(t, h, "/shardlab/v1/shards/0/head"))
	head := f.chains[0].head
	if str(t, m, "data", "slot") != "4" || str(t, m, "data", "root") != head.Root.String() ||
		str(t, m, "data", "state_root") != head.StateRoot.String() || str(t, m, "data", "beacon_block_root") != head.BeaconBlockRoot.String() {
		t.Errorf("head %v", m)
	}
	for path, want := range map[string]struct {
		code int
		msg  string
	}{
		"/shardlab/v1/shards/2/head":                    {503, "shard 2 is not served"},
		"/shardlab/v1/shards/8/head":                    {400, "SHARD_COUNT is 8"},
		"/shardlab/v1/shards/x/head":                    {400, "invalid shard"},
		"/shardlab/v1/shards/-1/head":                   {400, "invalid shard"},
		"/shardlab/v1/shards/18446744073709551616/head": {400, "invalid shard"},
		"/shardlab/v1/nope":                             {404, "no endpoint"},
		"/shardlab/v1/shards/0/heads":                   {404, "no endpoint"},
	} {
		checkError(t, get(t, h, path), want.code, want.msg)
	}
	rec := do(t, h, request{method: http.MethodDelete, path: "/shardlab/v1/shards/0/head"})
	checkError(t, rec, 405, "not allowed")
	rec = do(t, h, request{path: "/shardlab/v1/shards/0/head", header: map[string]string{"Accept": "application/octet-stream"}})
	checkError(t, rec, 406, "application/json")
}

func TestShardBlocks(t *testing.T) {
	t.Parallel()
	h, f, _ := newHandler(t)
	sc := f.chains[0]
	tests := []struct {
		id   string
		root bt.Root
		code int
	}{
		{"head", sc.head.Root, 200},
		{"1", sc.canonical[1], 200},
		{"4", sc.canonical[4], 200},
		{sc.canonical[2].String(), sc.canonical[2], 200},
		{"5", bt.Root{}, 404},
		{"0", bt.Root{}, 404}, // the genesis header has no block
		{sc.genesis.SigningRoot().String(), bt.Root{}, 404},
		{(bt.Root{7}).String(), bt.Root{}, 404},
		{"genesis", bt.Root{}, 400},
		{"finalized", bt.Root{}, 400},
		{"0x1234", bt.Root{}, 400},
		{"x", bt.Root{}, 400},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			rec := get(t, h, "/shardlab/v1/shards/0/blocks/"+tc.id)
			if tc.code == 400 {
				// The shard's ids, not the beacon's (genesis, finalized...).
				checkError(t, rec, tc.code, "want head, a slot or a 0x-prefixed 32-byte root")
				return
			}
			if tc.code != 200 {
				checkError(t, rec, tc.code, "")
				return
			}
			if rec.Code != 200 {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			blk := sc.blocks[tc.root]
			var resp struct {
				Root      string
				Canonical bool
				Data      json.RawMessage
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
				t.Fatal(err)
			}
			if resp.Root != tc.root.String() || !resp.Canonical {
				t.Fatalf("root %s canonical %v", resp.Root, resp.Canonical)
			}
			var back st.ShardBlock
			if err := beaconapi.DecodeSigned(resp.Data, &back); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(blk, &back, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("decoded block differs:\n%s", diff)
			}
			m := decode(t, rec)
			if str(t, m, "data", "message", "body", "transactions", "1", "to_shard") != "1" ||
				str(t, m, "data", "message", "proposer_index") != itoa(blk.ProposerIndex) {
				t.Fatalf("block JSON %v", at(t, m, "data", "message"))
			}
			// SSZ.
			rec = do(t, h, request{path: "/shardlab/v1/shards/0/blocks/" + tc.id, header: map[string]string{"Accept": beaconapi.MediaSSZ}})
			if rec.Code != 200 || rec.Header().Get("Content-Type") != beaconapi.MediaSSZ {
				t.Fatalf("ssz: %d %q", rec.Code, rec.Header().Get("Content-Type"))
			}
			var sszBlock st.ShardBlock
			if err := bt.Decode(&sszBlock, rec.Body.Bytes()); err != nil {
				t.Fatal(err)
			}
			if root, err := sszBlock.SigningRoot(); err != nil || root != tc.root {
				t.Fatalf("ssz block root %s (%v)", root, err)
			}
		})
	}
	checkError(t, get(t, h, "/shardlab/v1/shards/3/blocks/head"), 503, "not served")
	rec := do(t, h, request{path: "/shardlab/v1/shards/0/blocks/head", header: map[string]string{"Accept": "text/plain"}})
	checkError(t, rec, 406, "")
}

func TestAccounts(t *testing.T) {
	t.Parallel()
	h, f, _ := newHandler(t)
	cfg := f.beacon.Config
	sc := f.chains[0]
	genesisRoot := sc.genesis.StateRoot
	afterSlot2 := sc.blocks[sc.canonical[2]].StateRoot
	tests := []struct {
		path    string
		code    int
		balance bt.Gwei
		nonce   uint64
	}{
		// Account 0 sends 10 per block (4 blocks), account 1 receives them,
		// account 2 sends 5 per block to shard 1.
		{"/shardlab/v1/shards/0/accounts/0", 200, bt.Gwei(cfg.Shard.GenesisBalance) - 40, 4},
		{"/shardlab/v1/shards/0/accounts/1", 200, bt.Gwei(cfg.Shard.GenesisBalance) + 40, 0},
		{"/shardlab/v1/shards/0/accounts/2", 200, bt.Gwei(cfg.Shard.GenesisBalance) - 20, 4},
		{"/shardlab/v1/shards/0/accounts/0?state_root=" + genesisRoot.String(), 200, bt.Gwei(cfg.Shard.GenesisBalance), 0},
		{"/shardlab/v1/shards/0/accounts/0?state_root=" + afterSlot2.String(), 200, bt.Gwei(cfg.Shard.GenesisBalance) - 20, 2},
		{"/shardlab/v1/shards/0/accounts/0?state_root=" + (bt.Root{1}).String(), 404, 0, 0},
		{"/shardlab/v1/shards/0/accounts/" + itoa(cfg.Shard.Accounts), 404, 0, 0},
		{"/shardlab/v1/shards/0/accounts/x", 400, 0, 0},
		{"/shardlab/v1/shards/0/accounts/0?state_root=0x12", 400, 0, 0},
		{"/shardlab/v1/shards/0/accounts/0?state_root=" + genesisRoot.String() + "&state_root=" + genesisRoot.String(), 400, 0, 0},
		{"/shardlab/v1/shards/5/accounts/0", 503, 0, 0},
	}
	for _, tc := range tests {
		rec := get(t, h, tc.path)
		if tc.code != 200 {
			checkError(t, rec, tc.code, "")
			continue
		}
		m := decode(t, rec)
		if rec.Code != 200 || str(t, m, "data", "balance") != itoa(tc.balance) || str(t, m, "data", "nonce") != strconv.FormatUint(tc.nonce, 10) {
			t.Errorf("%s: %d %v, want balance %d nonce %d", tc.path, rec.Code, m, tc.balance, tc.nonce)
		}
	}
	m := decode(t, get(t, h, "/shardlab/v1/shards/1/accounts/7"))
	if str(t, m, "data", "index") != "7" || str(t, m, "data", "pubkey") != "0x"+fmt.Sprintf("%x", f.chains[1].headState.Accounts[7].Pubkey) {
		t.Errorf("account 7 of shard 1: %v", m)
	}
}

func TestReceipts(t *testing.T) {
	t.Parallel()
	h, f, _ := newHandler(t)
	sc := f.chains[0]
	tests := []struct {
		query  string
		code   int
		n      int
		status string
	}{
		{"", 200, 4, ""},
		{"?status=pending", 200, 3, "pending"},
		{"?status=claimed", 200, 1, "claimed"},
		{"?limit=2", 200, 2, ""},
		{"?status=pending&limit=1", 200, 1, "pending"},
		{"?limit=1000", 200, 4, ""},
		{"?limit=0", 400, 0, ""},
		{"?limit=1001", 400, 0, ""},
		{"?limit=x", 400, 0, ""},
		{"?status=lost", 400, 0, ""},
		{"?status=pending&status=claimed", 400, 0, ""},
	}
	for _, tc := range tests {
		rec := get(t, h, "/shardlab/v1/shards/0/receipts"+tc.query)
		if tc.code != 200 {
			checkError(t, rec, tc.code, "")
			continue
		}
		m := decode(t, rec)
		if str(t, m, "data", "sent") != "4" || str(t, m, "data", "claimed") != "1" || str(t, m, "data", "pending") != "3" {
			t.Errorf("%q: counts %v", tc.query, m)
		}
		rs := at(t, m, "data", "receipts").([]any)
		if len(rs) != tc.n {
			t.Errorf("%q: %d receipts, want %d", tc.query, len(rs), tc.n)
		}
		for _, r := range rs {
			if tc.status != "" && str(t, r, "status") != tc.status {
				t.Errorf("%q: receipt %v", tc.query, r)
			}
			if str(t, r, "src_shard") != "0" || str(t, r, "dst_shard") != "1" || str(t, r, "amount") != "5" || str(t, r, "recipient") != "3" {
				t.Errorf("%q: receipt %v", tc.query, r)
			}
		}
	}
	first := at(t, decode(t, get(t, h, "/shardlab/v1/shards/0/receipts?limit=1")), "data", "receipts", "0")
	if str(t, first, "block_root") != sc.canonical[1].String() || str(t, first, "nonce") != "0" || str(t, first, "src_slot") != "1" {
		t.Errorf("first receipt %v", first)
	}
}

func TestStats(t *testing.T) {
	t.Parallel()
	h, _, _ := newHandler(t)
	m := decode(t, get(t, h, "/shardlab/v1/stats"))
	want := map[string]string{"transactions": "10", "receipts_sent": "5", "receipts_claimed": "1", "receipts_pending": "4", "fraud_proofs_seen": "1"}
	for k, v := range want {
		if str(t, m, "data", k) != v {
			t.Errorf("stats %s = %v, want %s", k, at(t, m, "data", k), v)
		}
	}
}

func txJSON(t *testing.T, tx *st.Transaction) []byte {
	t.Helper()
	js, err := beaconapi.EncodeJSON(tx)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func TestSubmitTransaction(t *testing.T) {
	t.Parallel()
	h, f, _ := newHandler(t)
	good := signedTx(f, 0, 5, 0, 1, 9, 100)
	goodSSZ, _ := good.MarshalSSZ()
	goodRoot, _ := good.HashTreeRoot()
	badSig := *good
	badSig.Amount = 101
	badNonce := signedTx(f, 0, 5, 3, 0, 9, 100)
	otherShard := signedTx(f, 1, 5, 0, 1, 9, 100)
	unserved := signedTx(f, 4, 5, 0, 1, 9, 100)
	internal := signedTx(f, 0, 5, 0, 1, 9, 13)
	js := txJSON(t, good)
	jsonCT := map[string]string{"Content-Type": "application/json"}
	sszCT := map[string]string{"Content-Type": beaconapi.MediaSSZ}
	tests := []struct {
		name   string
		shard  string
		header map[string]string
		body   []byte
		code   int
		msg    string
	}{
		{"json", "0", jsonCT, js, 202, ""},
		{"json without content type", "0", nil, js, 202, ""},
		{"ssz", "0", sszCT, goodSSZ, 202, ""},
		{"other shard in path", "1", jsonCT, js, 400, "transaction of shard 0 posted to shard 1"},
		{"bad signature", "0", jsonCT, txJSON(t, &badSig), 400, "bad signature of account 5"},
		{"bad nonce", "0", jsonCT, txJSON(t, badNonce), 400, "nonce 3, account 5 expects 0"},
		{"valid on shard 1", "1", jsonCT, txJSON(t, otherShard), 202, ""},
		{"unserved shard", "4", jsonCT, txJSON(t, unserved), 503, "not served"},
		{"shard out of range", "8", jsonCT, js, 400, "SHARD_COUNT"},
		{"backend failure", "0", jsonCT, txJSON(t, internal), 500, "pool exploded"},
		{"malformed json", "0", jsonCT, []byte(`{"shard":`), 400, "decode json transaction"},
		{"missing signature", "0", jsonCT, bytes.Replace(js, []byte(`,"signature"`), []byte(`,"sig"`), 1), 400, `unknown field "sig"`},
		{"number not string", "0", jsonCT, bytes.Replace(js, []byte(`"amount":"100"`), []byte(`"amount":100`), 1), 400, "amount: want an unsigned integer as a decimal string"},
		{"short signature", "0", jsonCT, append(append([]byte{}, js[:bytes.Index(js, []byte(`"signature":`))]...), `"signature":"0x00"}`...), 400, "signature: want 64 bytes"},
		{"empty body", "0", jsonCT, []byte{}, 400, "decode json transaction"},
		{"array", "0", jsonCT, []byte(`[` + string(js) + `]`), 400, "want an object"},
		{"short ssz", "0", sszCT, goodSSZ[:50], 400, "decode ssz transaction"},
		{"long ssz", "0", sszCT, append(append([]byte{}, goodSSZ...), 0), 400, "decode ssz transaction"},
		{"json as ssz", "0", sszCT, js, 400, "decode ssz transaction"},
		{"wrong content type", "0", map[string]string{"Content-Type": "text/plain"}, js, 415, "unsupported Content-Type"},
		{"bad content type", "0", map[string]string{"Content-Type": ";;"}, js, 415, "unsupported Content-Type"},
		{"oversized", "0", jsonCT, bytes.Repeat([]byte(" "), 1<<20+1), 413, "exceeds"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := do(t, h, request{method: http.MethodPost, path: "/shardlab/v1/shards/" + tc.shard + "/transactions", header: tc.header, body: tc.body})
			if tc.code != 202 {
				checkError(t, rec, tc.code, tc.msg)
				return
			}
			if rec.Code != 202 {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if tc.shard == "0" && str(t, decode(t, rec), "data", "root") != bt.Root(goodRoot).String() {
				t.Fatalf("root %s, want %s", rec.Body, bt.Root(goodRoot))
			}
		})
	}
	pooled := f.pooled()
	if len(pooled) != 4 || !reflect.DeepEqual(pooled[0], good) {
		t.Fatalf("pool has %d transactions", len(pooled))
	}
	if rec := do(t, h, request{path: "/shardlab/v1/shards/0/transactions"}); rec.Code != 405 {
		t.Errorf("GET transactions: %d", rec.Code)
	}
}

// TestShardJSONRoundTrip round-trips every shard container through the
// JSON codec (and checks the SSZ encodings agree).
func TestShardJSONRoundTrip(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 6))
	type codec interface {
		MarshalSSZ() ([]byte, error)
	}
	for _, proto := range []any{
		new(st.Account), new(st.Transaction), new(st.Receipt), new(st.ShardBlockHeader), new(st.ShardBlockBody),
		new(st.ShardBlock), new(st.ReceiptClaim), new(st.Multiproof), new(st.CrosslinkEvidence),
		new(st.CrosslinkRollback), new(st.ShardFraudProof),
	} {
		typ := reflect.TypeOf(proto).Elem()
		t.Run(typ.Name(), func(t *testing.T) {
			for range 20 {
				v := reflect.New(typ).Interface()
				apitest.Fill(r, v)
				js, err := beaconapi.EncodeJSON(v)
				if err != nil {
					t.Fatal(err)
				}
				back := reflect.New(typ).Interface()
				if err := beaconapi.DecodeJSON(js, back); err != nil {
					t.Fatalf("decode %s: %v", js, err)
				}
				if diff := cmp.Diff(v, back); diff != "" {
					t.Fatalf("round trip:\n%s", diff)
				}
				want, err1 := v.(codec).MarshalSSZ()
				got, err2 := back.(codec).MarshalSSZ()
				if err1 != nil || err2 != nil || !bytes.Equal(want, got) {
					t.Fatalf("ssz: %v %v", err1, err2)
				}
			}
		})
	}
	// The transaction's keys are the protocol's names.
	js, _ := beaconapi.EncodeJSON(&st.Transaction{})
	want := `{"shard":"0","from":"0","nonce":"0","to_shard":"0","to":"0","amount":"0","signature":"0x` + strings.Repeat("00", 64) + `"}`
	if string(js) != want {
		t.Fatalf("transaction JSON %s", js)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	if err := api.DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []api.Config{
		{MaxBodyBytes: 0, DefaultReceiptLimit: 1, MaxReceiptLimit: 1},
		{MaxBodyBytes: 1, DefaultReceiptLimit: 0, MaxReceiptLimit: 1},
		{MaxBodyBytes: 1, DefaultReceiptLimit: 5, MaxReceiptLimit: 1},
		{MaxBodyBytes: 1, DefaultReceiptLimit: 1, MaxReceiptLimit: 1, MaxBatch: 0},
	} {
		if c.Validate() == nil {
			t.Errorf("%+v is valid", c)
		}
	}
}

// TestConcurrentShardRequests reads and submits from many goroutines (run
// with -race).
func TestConcurrentShardRequests(t *testing.T) {
	t.Parallel()
	h, f, _ := newHandler(t)
	ts := httptest.NewServer(h)
	defer ts.Close()
	paths := []string{
		"/shardlab/v1/shards", "/shardlab/v1/crosslinks", "/shardlab/v1/shards/0/head",
		"/shardlab/v1/shards/0/blocks/head", "/shardlab/v1/shards/1/blocks/2", "/shardlab/v1/shards/0/accounts/3",
		"/shardlab/v1/shards/0/receipts?status=pending", "/shardlab/v1/stats", "/eth/v1/beacon/headers/head",
	}
	body := txJSON(t, signedTx(f, 0, 6, 0, 0, 1, 1))
	var wg sync.WaitGroup
	for g := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2 * len(paths) {
				var res *http.Response
				var err error
				if (g+i)%5 == 0 {
					res, err = ts.Client().Post(ts.URL+"/shardlab/v1/shards/0/transactions", "application/json", bytes.NewReader(body))
				} else {
					res, err = ts.Client().Get(ts.URL + paths[(g+i)%len(paths)])
				}
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, res.Body)
				_ = res.Body.Close()
				if res.StatusCode != 200 && res.StatusCode != 202 {
					t.Errorf("%s: %d", res.Request.URL.Path, res.StatusCode)
				}
			}
		}()
	}
	wg.Wait()
}
