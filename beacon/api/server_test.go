package api_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	ssz "github.com/ferranbt/fastssz"

	"github.com/shardlab/shardlab/beacon/api"
	"github.com/shardlab/shardlab/beacon/types"
)

func TestNodeEndpoints(t *testing.T) {
	t.Parallel()
	srv, be := newServer(t)
	h := srv.Handler()
	tests := []struct {
		path  string
		code  int
		check func(t *testing.T, m map[string]any)
	}{
		{"/eth/v1/node/identity", 200, func(t *testing.T, m map[string]any) {
			if str(t, m, "data", "peer_id") != be.PeerID() || str(t, m, "data", "enr") != "" ||
				str(t, m, "data", "p2p_addresses", "0") != be.Addrs()[0] ||
				str(t, m, "data", "metadata", "seq_number") != "0" || len(at(t, m, "data", "discovery_addresses").([]any)) != 0 {
				t.Errorf("identity %v", m)
			}
		}},
		{"/eth/v1/node/peers", 200, func(t *testing.T, m map[string]any) {
			if len(at(t, m, "data").([]any)) != 2 || at(t, m, "meta", "count").(interface{ String() string }).String() != "2" ||
				str(t, m, "data", "0", "state") != "connected" || str(t, m, "data", "0", "last_seen_p2p_address") != "/ip4/127.0.0.1/tcp/9001" {
				t.Errorf("peers %v", m)
			}
		}},
		{"/eth/v1/node/peers?direction=inbound", 200, func(t *testing.T, m map[string]any) {
			if d := at(t, m, "data").([]any); len(d) != 1 || str(t, d, "0", "direction") != "inbound" {
				t.Errorf("inbound peers %v", m)
			}
		}},
		{"/eth/v1/node/peers?state=connected,connecting&direction=outbound", 200, func(t *testing.T, m map[string]any) {
			if d := at(t, m, "data").([]any); len(d) != 1 {
				t.Errorf("outbound peers %v", m)
			}
		}},
		{"/eth/v1/node/peers?state=disconnected", 200, func(t *testing.T, m map[string]any) {
			if d := at(t, m, "data").([]any); len(d) != 0 {
				t.Errorf("disconnected peers %v", m)
			}
		}},
		{"/eth/v1/node/peers?state=bogus", 400, nil},
		{"/eth/v1/node/peers?direction=sideways", 400, nil},
		{"/eth/v1/node/peers/16Uiu2HAmPeerTwo", 200, func(t *testing.T, m map[string]any) {
			if str(t, m, "data", "peer_id") != "16Uiu2HAmPeerTwo" {
				t.Errorf("peer %v", m)
			}
		}},
		{"/eth/v1/node/peers/unknown", 404, nil},
		{"/eth/v1/node/peer_count", 200, func(t *testing.T, m map[string]any) {
			if str(t, m, "data", "connected") != "2" || str(t, m, "data", "disconnected") != "0" {
				t.Errorf("peer count %v", m)
			}
		}},
		{"/eth/v1/node/syncing", 200, func(t *testing.T, m map[string]any) {
			if str(t, m, "data", "head_slot") != "43" || str(t, m, "data", "sync_distance") != "0" || at(t, m, "data", "is_syncing") != false {
				t.Errorf("syncing %v", m)
			}
		}},
		{"/eth/v1/node/version", 200, func(t *testing.T, m map[string]any) {
			if str(t, m, "data", "version") != "shardlab/test/apitest" {
				t.Errorf("version %v", m)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			rec := get(t, h, tc.path)
			if rec.Code != tc.code {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.code, rec.Body)
			}
			m := decode(t, rec)
			if tc.code != 200 {
				checkError(t, rec, tc.code)
				return
			}
			tc.check(t, m)
		})
	}
}

// checkError checks the Beacon API error body.
func checkError(t *testing.T, rec interface {
	Result() *http.Response
}, code int) {
	t.Helper()
	res := rec.Result()
	if ct := res.Header.Get("Content-Type"); ct != api.MediaJSON {
		t.Errorf("error Content-Type %q", ct)
	}
	var body struct {
		Code    int
		Message string
	}
	if err := jsonDecode(res, &body); err != nil {
		t.Fatalf("error body: %v", err)
	}
	if body.Code != code || body.Message == "" {
		t.Errorf("error body %+v, want code %d and a message", body, code)
	}
}

func TestNodeHealth(t *testing.T) {
	t.Parallel()
	srv, be := newServer(t)
	h := srv.Handler()
	tests := []struct {
		name   string
		status api.SyncStatus
		query  string
		code   int
	}{
		{"ready", api.SyncStatus{Ready: true}, "", 200},
		{"syncing", api.SyncStatus{Ready: true, IsSyncing: true, SyncDistance: 9}, "", 206},
		{"syncing custom code", api.SyncStatus{Ready: true, IsSyncing: true}, "?syncing_status=299", 299},
		{"ready ignores custom code", api.SyncStatus{Ready: true}, "?syncing_status=299", 200},
		{"not ready", api.SyncStatus{IsSyncing: true}, "", 503},
		{"bad code", api.SyncStatus{Ready: true}, "?syncing_status=abc", 400},
		{"code out of range", api.SyncStatus{Ready: true}, "?syncing_status=600", 400},
	}
	for _, tc := range tests {
		be.SetSync(tc.status)
		rec := get(t, h, "/eth/v1/node/health"+tc.query)
		if rec.Code != tc.code {
			t.Errorf("%s: status %d, want %d", tc.name, rec.Code, tc.code)
		}
		if tc.code != 400 && rec.Body.Len() != 0 {
			t.Errorf("%s: health has a body %q", tc.name, rec.Body)
		}
	}
	be.SetSync(api.SyncStatus{Ready: true, IsSyncing: true, HeadSlot: 7, SyncDistance: 9})
	m := decode(t, get(t, h, "/eth/v1/node/syncing"))
	if str(t, m, "data", "head_slot") != "7" || str(t, m, "data", "sync_distance") != "9" || at(t, m, "data", "is_syncing") != true {
		t.Errorf("syncing %v", m)
	}
}

// listRoot is hash_tree_root(List[Validator, limit]) computed with the SSZ
// library's hasher, independently of api.ValidatorsRoot.
func listRoot(t *testing.T, vals []types.Validator, limit uint64) types.Root {
	t.Helper()
	hh := ssz.DefaultHasherPool.Get()
	defer ssz.DefaultHasherPool.Put(hh)
	idx := hh.Index()
	for i := range vals {
		if err := vals[i].HashTreeRootWith(hh); err != nil {
			t.Fatal(err)
		}
	}
	hh.MerkleizeWithMixin(idx, uint64(len(vals)), limit)
	r, err := hh.HashRoot()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestGenesis(t *testing.T) {
	t.Parallel()
	srv, be := newServer(t)
	h := srv.Handler()
	c := be.Chain()
	m := decode(t, get(t, h, "/eth/v1/beacon/genesis"))
	want := listRoot(t, c.Genesis.Validators, c.Config.ValidatorRegistryLimit)
	if str(t, m, "data", "genesis_time") != strconv.FormatUint(c.Genesis.GenesisTime, 10) ||
		str(t, m, "data", "genesis_validators_root") != want.String() ||
		str(t, m, "data", "genesis_fork_version") != "0x00000000" {
		t.Fatalf("genesis %v, want validators root %s", m, want)
	}

	// Before genesis: /genesis is 404, chain endpoints 503.
	be.SetGenesisKnown(false)
	for path, code := range map[string]int{
		"/eth/v1/beacon/genesis":              404,
		"/eth/v1/beacon/headers/head":         503,
		"/eth/v1/beacon/headers":              503,
		"/eth/v1/beacon/blocks/head":          503,
		"/eth/v1/beacon/states/head/root":     503,
		"/eth/v1/debug/beacon/states/genesis": 503,
	} {
		rec := get(t, h, path)
		if rec.Code != code {
			t.Errorf("%s before genesis: %d, want %d", path, rec.Code, code)
		}
		checkError(t, rec, code)
	}
}

// blockIDCases are the block ids of the test chain with the block they
// name (zero root: an error status).
func blockIDCases(t *testing.T) []struct {
	id   string
	root types.Root
	code int
} {
	c := testChain(t)
	head := c.HeadState()
	unknown := types.Root{0xde, 0xad}
	return []struct {
		id   string
		root types.Root
		code int
	}{
		{"head", c.HeadRoot, 200},
		{"genesis", c.GenesisRoot, 200},
		{"finalized", head.FinalizedCheckpoint.Root, 200},
		{"justified", head.CurrentJustifiedCheckpoint.Root, 200},
		{"0", c.GenesisRoot, 200},
		{"9", c.Canonical[9], 200},
		{"43", c.HeadRoot, 200},
		{c.Canonical[20].String(), c.Canonical[20], 200},
		{c.Orphan.String(), c.Orphan, 200},
		{"5", types.Root{}, 404},  // skipped slot
		{"44", types.Root{}, 404}, // after the head
		{unknown.String(), types.Root{}, 404},
		{"abc", types.Root{}, 400},
		{"Head", types.Root{}, 400},
		{"-1", types.Root{}, 400},
		{"+1", types.Root{}, 400},
		{"0x12", types.Root{}, 400},
		{"0x" + strings.Repeat("zz", 32), types.Root{}, 400},
		{"18446744073709551616", types.Root{}, 400},
		{"1.5", types.Root{}, 400},
	}
}

func TestBlockIDs(t *testing.T) {
	t.Parallel()
	srv, be := newServer(t)
	h := srv.Handler()
	c := be.Chain()
	for _, tc := range blockIDCases(t) {
		t.Run(tc.id, func(t *testing.T) {
			for _, path := range []string{"/eth/v1/beacon/blocks/%s/root", "/eth/v1/beacon/headers/%s", "/eth/v1/beacon/blocks/%s"} {
				rec := get(t, h, strings.Replace(path, "%s", tc.id, 1))
				if rec.Code != tc.code {
					t.Fatalf("%s: status %d, want %d: %s", path, rec.Code, tc.code, rec.Body)
				}
				m := decode(t, rec)
				if tc.code != 200 {
					checkError(t, rec, tc.code)
					continue
				}
				blk := c.Blocks[tc.root]
				switch path {
				case "/eth/v1/beacon/blocks/%s/root":
					if str(t, m, "data", "root") != tc.root.String() {
						t.Fatalf("root %v, want %s", m, tc.root)
					}
				case "/eth/v1/beacon/headers/%s":
					msg := at(t, m, "data", "header", "message").(map[string]any)
					canonical := tc.root != c.Orphan
					if str(t, m, "data", "root") != tc.root.String() || at(t, m, "data", "canonical") != canonical ||
						str(t, msg, "slot") != strconv.FormatUint(uint64(blk.GetSlot()), 10) ||
						str(t, msg, "parent_root") != blk.GetParentRoot().String() ||
						str(t, msg, "state_root") != blk.GetStateRoot().String() {
						t.Fatalf("header %v", m)
					}
					_, hasProposer := msg["proposer_index"]
					if hasProposer != (tc.root != c.GenesisRoot) {
						t.Fatalf("proposer_index present = %v for %s", hasProposer, tc.id)
					}
				default:
					wantVersion := "shard"
					if tc.root == c.GenesisRoot {
						wantVersion = "phase0"
					}
					if str(t, m, "version") != wantVersion || rec.Header().Get(api.VersionHeader) != wantVersion ||
						str(t, m, "data", "message", "state_root") != blk.GetStateRoot().String() {
						t.Fatalf("block %v", m)
					}
					if _, ok := at(t, m, "data", "message").(map[string]any)["signature"]; ok {
						t.Fatal("the message carries the signature")
					}
				}
			}
		})
	}
}

// TestHeaderProposer checks proposer_index against the proposer of the
// block's pre-state at its slot.
func TestHeaderProposer(t *testing.T) {
	t.Parallel()
	srv, be := newServer(t)
	h := srv.Handler()
	c := be.Chain()
	for _, slot := range []types.Slot{1, 6, 8, 9, 43} {
		root := c.Canonical[slot]
		blk := c.Blocks[root]
		pre := c.States[blk.GetParentRoot()].Copy()
		if err := c.Transition.ProcessSlots(pre, slot); err != nil {
			t.Fatal(err)
		}
		want, err := c.Transition.BeaconProposerIndex(pre)
		if err != nil {
			t.Fatal(err)
		}
		m := decode(t, get(t, h, "/eth/v1/beacon/headers/"+strconv.FormatUint(uint64(slot), 10)))
		if got := str(t, m, "data", "header", "message", "proposer_index"); got != strconv.FormatUint(uint64(want), 10) {
			t.Errorf("slot %d: proposer %s, want %d", slot, got, want)
		}
	}
}

func TestHeadersList(t *testing.T) {
	t.Parallel()
	srv, be := newServer(t)
	h := srv.Handler()
	c := be.Chain()
	tests := []struct {
		query string
		code  int
		roots []types.Root
	}{
		{"", 200, []types.Root{c.HeadRoot}},
		{"?slot=9", 200, []types.Root{c.Canonical[9]}},
		{"?slot=0", 200, []types.Root{c.GenesisRoot}},
		{"?slot=5", 200, nil},
		{"?slot=99", 200, nil},
		{"?slot=9&parent_root=" + c.Canonical[8].String(), 200, []types.Root{c.Canonical[9]}},
		{"?slot=9&parent_root=" + c.Canonical[7].String(), 200, nil},
		{"?parent_root=" + c.Canonical[4].String(), 200, []types.Root{c.Canonical[6]}}, // 5 is skipped
		{"?parent_root=" + c.HeadRoot.String(), 200, nil},
		{"?parent_root=" + (types.Root{1}).String(), 200, nil},
		{"?slot=x", 400, nil},
		{"?slot=1&slot=2", 400, nil},
		{"?parent_root=0x12", 400, nil},
	}
	for _, tc := range tests {
		rec := get(t, h, "/eth/v1/beacon/headers"+tc.query)
		if rec.Code != tc.code {
			t.Errorf("%q: status %d, want %d: %s", tc.query, rec.Code, tc.code, rec.Body)
			continue
		}
		m := decode(t, rec)
		if tc.code != 200 {
			continue
		}
		data := at(t, m, "data").([]any)
		if len(data) != len(tc.roots) {
			t.Errorf("%q: %d headers, want %d", tc.query, len(data), len(tc.roots))
			continue
		}
		for i, r := range tc.roots {
			if str(t, data, strconv.Itoa(i), "root") != r.String() {
				t.Errorf("%q: header %d is %s, want %s", tc.query, i, str(t, data, strconv.Itoa(i), "root"), r)
			}
		}
	}
}

func TestBlockSSZ(t *testing.T) {
	t.Parallel()
	srv, be := newServer(t)
	h := srv.Handler()
	c := be.Chain()
	tests := []struct {
		id      string
		accept  string
		wantSSZ bool
		code    int
	}{
		{"head", api.MediaSSZ, true, 200},
		{"genesis", api.MediaSSZ, true, 200},
		{"9", "application/json;q=0.5, application/octet-stream", true, 200},
		{"9", "application/octet-stream;q=0.2, application/json", false, 200},
		{"9", "*/*", false, 200},
		{"9", "application/*", false, 200},
		{"9", "application/octet-stream;q=0, application/json", false, 200},
		{"9", "text/html", false, 406},
		{"9", "application/octet-stream;q=0", false, 406},
		{"9", "garbage", false, 406},
	}
	for _, tc := range tests {
		rec := do(t, h, request{path: "/eth/v1/beacon/blocks/" + tc.id, header: map[string]string{"Accept": tc.accept}})
		if rec.Code != tc.code {
			t.Errorf("%s %q: status %d, want %d", tc.id, tc.accept, rec.Code, tc.code)
			continue
		}
		if tc.code != 200 {
			checkError(t, rec, tc.code)
			continue
		}
		ct := rec.Header().Get("Content-Type")
		if tc.wantSSZ != (ct == api.MediaSSZ) {
			t.Errorf("%s %q: Content-Type %q", tc.id, tc.accept, ct)
			continue
		}
		if !tc.wantSSZ {
			continue
		}
		var blk types.AnyBlock = new(types.ShardBeaconBlock)
		if tc.id == "genesis" {
			blk = new(types.BeaconBlock)
		}
		if err := types.Decode(blk, rec.Body.Bytes()); err != nil {
			t.Fatalf("%s: decode SSZ: %v", tc.id, err)
		}
		root, err := blk.SigningRoot()
		want := c.HeadRoot
		if tc.id == "genesis" {
			want = c.GenesisRoot
		} else if tc.id == "9" {
			want = c.Canonical[9]
		}
		if err != nil || root != want {
			t.Errorf("%s: decoded block root %s, want %s (%v)", tc.id, root, want, err)
		}
		if v := rec.Header().Get(api.VersionHeader); v == "" {
			t.Errorf("%s: no %s header", tc.id, api.VersionHeader)
		}
	}
	// JSON-only endpoints refuse an SSZ-only Accept.
	rec := do(t, h, request{path: "/eth/v1/beacon/headers/head", header: map[string]string{"Accept": api.MediaSSZ}})
	if rec.Code != http.StatusNotAcceptable {
		t.Errorf("headers with Accept SSZ: %d, want 406", rec.Code)
	}
	// The v2 path serves the same.
	if rec := get(t, h, "/eth/v2/beacon/blocks/head"); rec.Code != 200 || rec.Body.String() != get(t, h, "/eth/v1/beacon/blocks/head").Body.String() {
		t.Errorf("v2 block: %d", rec.Code)
	}
}
