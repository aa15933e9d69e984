package api_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/shardlab/shardlab/beacon/api"
	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/types"
)

// stateIDCase is a state id with the root of the state it names.
type stateIDCase struct {
	id        string
	root      types.Root
	code      int
	indexOnly bool // found only through api.StateRootIndex
}

func stateIDCases(t *testing.T) []stateIDCase {
	c := testChain(t)
	head := c.HeadState()
	sphr := uint64(len(head.StateRoots))
	at := func(slot uint64) types.Root { return head.StateRoots[slot%sphr] }
	fin := head.FinalizedCheckpoint
	just := head.CurrentJustifiedCheckpoint
	spe := c.Config.SlotsPerEpoch
	orphanState := c.Blocks[c.Orphan].GetStateRoot()
	return []stateIDCase{
		{id: "head", root: c.Blocks[c.HeadRoot].GetStateRoot(), code: 200},
		{id: "genesis", root: c.Blocks[c.GenesisRoot].GetStateRoot(), code: 200},
		// The checkpoint states: at the first slot of the checkpoint epoch.
		{id: "finalized", root: at(uint64(fin.Epoch) * spe), code: 200},
		{id: "justified", root: at(uint64(just.Epoch) * spe), code: 200},
		{id: "0", root: c.Blocks[c.GenesisRoot].GetStateRoot(), code: 200},
		{id: "9", root: c.Blocks[c.Canonical[9]].GetStateRoot(), code: 200},
		{id: "5", root: at(5), code: 200}, // a skipped slot: the state advanced to it
		{id: "43", root: c.Blocks[c.HeadRoot].GetStateRoot(), code: 200},
		{id: c.Canonical[9].String(), root: c.Blocks[c.Canonical[9]].GetStateRoot(), code: 200}, // a block root
		{id: c.Blocks[c.Canonical[9]].GetStateRoot().String(), root: c.Blocks[c.Canonical[9]].GetStateRoot(), code: 200},
		{id: at(5).String(), root: at(5), code: 200},
		{id: c.Blocks[c.HeadRoot].GetStateRoot().String(), root: c.Blocks[c.HeadRoot].GetStateRoot(), code: 200},
		{id: c.Orphan.String(), root: orphanState, code: 200},
		{id: orphanState.String(), root: orphanState, code: 200, indexOnly: true},
		{id: "44", code: 404},
		{id: (types.Root{0xbe, 0xef}).String(), code: 404},
		{id: "latest", code: 400},
		{id: "0x" + strings.Repeat("00", 31), code: 400},
		{id: "-5", code: 400},
	}
}

func TestStateIDs(t *testing.T) {
	t.Parallel()
	_, be := newServer(t)
	for _, indexed := range []bool{false, true} {
		var b api.Backend = be
		if indexed {
			b = be.WithStateRootIndex()
		}
		h := api.NewServer(api.DefaultServerConfig(), b, be, slog.New(slog.DiscardHandler)).Handler()
		for _, tc := range stateIDCases(t) {
			t.Run(tc.id+"/indexed="+strconv.FormatBool(indexed), func(t *testing.T) {
				code := tc.code
				if tc.indexOnly && !indexed {
					code = 404
				}
				rec := get(t, h, "/eth/v1/beacon/states/"+tc.id+"/root")
				if rec.Code != code {
					t.Fatalf("status %d, want %d: %s", rec.Code, code, rec.Body)
				}
				if code != 200 {
					checkError(t, rec, code)
					return
				}
				if got := str(t, decode(t, rec), "data", "root"); got != tc.root.String() {
					t.Fatalf("root %s, want %s", got, tc.root)
				}
				// The SSZ state hashes to the same root.
				rec = do(t, h, request{path: "/eth/v1/debug/beacon/states/" + tc.id, header: map[string]string{"Accept": api.MediaSSZ}})
				if rec.Code != 200 || rec.Header().Get("Content-Type") != api.MediaSSZ {
					t.Fatalf("ssz state: %d %s", rec.Code, rec.Header().Get("Content-Type"))
				}
				st, err := types.UnmarshalBeaconState(be.Chain().Config, rec.Body.Bytes())
				if err != nil {
					t.Fatal(err)
				}
				if root, err := st.HashTreeRoot(); err != nil || root != tc.root {
					t.Fatalf("decoded SSZ state root %s, want %s (%v)", root, tc.root, err)
				}
			})
		}
	}
}

func TestDebugStateJSON(t *testing.T) {
	t.Parallel()
	srv, be := newServer(t)
	h := srv.Handler()
	c := be.Chain()
	for _, path := range []string{"/eth/v1/debug/beacon/states/head", "/eth/v2/debug/beacon/states/head"} {
		rec := get(t, h, path)
		if rec.Code != 200 || rec.Header().Get(api.VersionHeader) != "shard" {
			t.Fatalf("%s: %d %q", path, rec.Code, rec.Header().Get(api.VersionHeader))
		}
		var env struct {
			Version string
			Data    json.RawMessage
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Version != "shard" {
			t.Fatalf("envelope: %v %q", err, env.Version)
		}
		st := types.NewBeaconState(c.Config)
		if err := api.DecodeJSON(env.Data, st); err != nil {
			t.Fatal(err)
		}
		if root, err := st.HashTreeRoot(); err != nil || root != c.Blocks[c.HeadRoot].GetStateRoot() {
			t.Fatalf("decoded JSON state root %s (%v)", root, err)
		}
	}
}

func TestStateFinalityAndFork(t *testing.T) {
	t.Parallel()
	srv, be := newServer(t)
	h := srv.Handler()
	c := be.Chain()
	for _, id := range []string{"head", "genesis", "finalized", "20"} {
		rec := get(t, h, "/eth/v1/beacon/states/"+id+"/root")
		root, _ := api.ParseRoot(str(t, decode(t, rec), "data", "root"))
		var st *types.BeaconState
		for br, s := range c.States {
			if c.Blocks[br].GetStateRoot() == root {
				st = s
			}
		}
		if id == "finalized" { // the checkpoint state: advance the block's state
			cp := c.HeadState().FinalizedCheckpoint
			st = c.States[cp.Root].Copy()
			if err := c.Transition.ProcessSlots(st, core.ComputeStartSlotOfEpoch(c.Config, cp.Epoch)); err != nil {
				t.Fatal(err)
			}
		}
		if st == nil {
			t.Fatalf("%s: no state with root %s", id, root)
		}
		m := decode(t, get(t, h, "/eth/v1/beacon/states/"+id+"/finality_checkpoints"))
		for key, cp := range map[string]types.Checkpoint{
			"previous_justified": st.PreviousJustifiedCheckpoint,
			"current_justified":  st.CurrentJustifiedCheckpoint,
			"finalized":          st.FinalizedCheckpoint,
		} {
			if str(t, m, "data", key, "epoch") != strconv.FormatUint(uint64(cp.Epoch), 10) || str(t, m, "data", key, "root") != cp.Root.String() {
				t.Errorf("%s %s: %v, want %+v", id, key, at(t, m, "data", key), cp)
			}
		}
		m = decode(t, get(t, h, "/eth/v1/beacon/states/"+id+"/fork"))
		if str(t, m, "data", "current_version") != st.Fork.CurrentVersion.String() ||
			str(t, m, "data", "previous_version") != st.Fork.PreviousVersion.String() ||
			str(t, m, "data", "epoch") != strconv.FormatUint(uint64(st.Fork.Epoch), 10) {
			t.Errorf("%s fork %v", id, m)
		}
	}
	// The chain finalized something: the test exercises real checkpoints.
	if c.HeadState().FinalizedCheckpoint.Epoch == 0 {
		t.Fatal("the test chain did not finalize")
	}
}

func TestValidators(t *testing.T) {
	t.Parallel()
	srv, be := newServer(t)
	h := srv.Handler()
	c := be.Chain()
	head := c.HeadState()
	pk5 := head.Validators[5].Pubkey.String()
	indices := func(m map[string]any) []string {
		var out []string
		for _, v := range at(t, m, "data").([]any) {
			out = append(out, str(t, v, "index"))
		}
		return out
	}
	tests := []struct {
		query string
		code  int
		want  []string // nil: all 64
	}{
		{"", 200, nil},
		{"?id=1,2&id=" + pk5, 200, []string{"1", "2", "5"}},
		{"?id=2,1,2", 200, []string{"1", "2"}},
		{"?id=99", 200, []string{}},
		{"?id=0x" + strings.Repeat("00", 48), 200, []string{}},
		{"?status=active", 200, nil},
		{"?status=active_ongoing,pending", 200, nil},
		{"?status=pending_queued", 200, []string{}},
		{"?status=withdrawal&id=3", 200, []string{}},
		{"?status=active&id=3", 200, []string{"3"}},
		{"?status=bogus", 400, nil},
		{"?id=0x12", 400, nil},
		{"?id=abc", 400, nil},
	}
	for _, tc := range tests {
		rec := get(t, h, "/eth/v1/beacon/states/head/validators"+tc.query)
		if rec.Code != tc.code {
			t.Errorf("%q: status %d, want %d: %s", tc.query, rec.Code, tc.code, rec.Body)
			continue
		}
		m := decode(t, rec)
		if tc.code != 200 {
			continue
		}
		got := indices(m)
		want := tc.want
		if want == nil {
			for i := range head.Validators {
				want = append(want, strconv.Itoa(i))
			}
		}
		if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("%q: indices %v, want %v", tc.query, got, want)
		}
	}
	// One validator, in full.
	m := decode(t, get(t, h, "/eth/v1/beacon/states/head/validators/"+pk5))
	v := head.Validators[5]
	if str(t, m, "data", "index") != "5" || str(t, m, "data", "status") != "active_ongoing" ||
		str(t, m, "data", "balance") != strconv.FormatUint(uint64(head.Balances[5]), 10) ||
		str(t, m, "data", "validator", "pubkey") != pk5 ||
		str(t, m, "data", "validator", "effective_balance") != strconv.FormatUint(uint64(v.EffectiveBalance), 10) ||
		str(t, m, "data", "validator", "exit_epoch") != "18446744073709551615" ||
		at(t, m, "data", "validator", "slashed") != false {
		t.Errorf("validator 5: %v", m)
	}
	for path, code := range map[string]int{
		"/eth/v1/beacon/states/head/validators/7":                                   200,
		"/eth/v1/beacon/states/genesis/validators/63":                               200,
		"/eth/v1/beacon/states/head/validators/64":                                  404,
		"/eth/v1/beacon/states/head/validators/0x" + strings.Repeat("11", 48):       404,
		"/eth/v1/beacon/states/head/validators/abc":                                 400,
		"/eth/v1/beacon/states/head/validators/0x11":                                400,
		"/eth/v1/beacon/states/nowhere/validators/1":                                400,
		"/eth/v1/beacon/states/head/validator_balances?id=1,3":                      200,
		"/eth/v1/beacon/states/head/validator_balances?id=x":                        400,
		"/eth/v1/beacon/states/" + (types.Root{9}).String() + "/validators/1":       404,
		"/eth/v1/beacon/states/" + (types.Root{9}).String() + "/validator_balances": 404,
	} {
		rec := get(t, h, path)
		if rec.Code != code {
			t.Errorf("%s: status %d, want %d", path, rec.Code, code)
		} else if code != 200 {
			checkError(t, rec, code)
		}
	}
	m = decode(t, get(t, h, "/eth/v1/beacon/states/head/validator_balances?id=1,3"))
	if str(t, m, "data", "1", "index") != "3" || str(t, m, "data", "1", "balance") != strconv.FormatUint(uint64(head.Balances[3]), 10) {
		t.Errorf("balances %v", m)
	}
}

func TestValidatorsPost(t *testing.T) {
	t.Parallel()
	srv, be := newServer(t)
	h := srv.Handler()
	pk := be.Chain().HeadState().Validators[9].Pubkey.String()
	jsonCT := map[string]string{"Content-Type": "application/json"}
	tests := []struct {
		name   string
		header map[string]string
		body   string
		code   int
		count  int
	}{
		{"ids and statuses", jsonCT, `{"ids":["1","` + pk + `"],"statuses":["active"]}`, 200, 2},
		{"ids only", jsonCT, `{"ids":["4"]}`, 200, 1},
		{"empty object", jsonCT, `{}`, 200, 64},
		{"empty body", jsonCT, ``, 200, 64},
		{"no content type", nil, `{"ids":["4"]}`, 200, 1},
		{"charset", map[string]string{"Content-Type": "application/json; charset=utf-8"}, `{"ids":["4"]}`, 200, 1},
		{"malformed json", jsonCT, `{"ids":[`, 400, 0},
		{"unknown field", jsonCT, `{"idz":["1"]}`, 400, 0},
		{"ids not strings", jsonCT, `{"ids":[1]}`, 400, 0},
		{"bad id", jsonCT, `{"ids":["0x1"]}`, 400, 0},
		{"bad status", jsonCT, `{"statuses":["sleeping"]}`, 400, 0},
		{"wrong content type", map[string]string{"Content-Type": "text/plain"}, `{}`, 415, 0},
		{"form", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, `ids=1`, 415, 0},
		{"ssz not accepted", map[string]string{"Content-Type": api.MediaSSZ}, `{}`, 415, 0},
		{"oversized", jsonCT, `{"ids":["` + strings.Repeat("1", 1<<20) + `"]}`, 413, 0},
	}
	for _, tc := range tests {
		rec := do(t, h, request{method: http.MethodPost, path: "/eth/v1/beacon/states/head/validators", header: tc.header, body: tc.body})
		if rec.Code != tc.code {
			t.Errorf("%s: status %d, want %d: %s", tc.name, rec.Code, tc.code, rec.Body)
			continue
		}
		if tc.code != 200 {
			checkError(t, rec, tc.code)
			continue
		}
		if n := len(at(t, decode(t, rec), "data").([]any)); n != tc.count {
			t.Errorf("%s: %d validators, want %d", tc.name, n, tc.count)
		}
	}
}

// TestBalancesPost: the standard POST form of validator_balances, a JSON
// array of ids.
func TestBalancesPost(t *testing.T) {
	t.Parallel()
	srv, be := newServer(t)
	h := srv.Handler()
	pk := be.Chain().HeadState().Validators[9].Pubkey.String()
	jsonCT := map[string]string{"Content-Type": "application/json"}
	for _, tc := range []struct {
		name   string
		header map[string]string
		body   string
		code   int
		count  int
	}{
		{"ids", jsonCT, `["1","` + pk + `"]`, 200, 2},
		{"empty array", jsonCT, `[]`, 200, 64},
		{"empty body", jsonCT, ``, 200, 64},
		{"not an array", jsonCT, `{"ids":["1"]}`, 400, 0},
		{"bad id", jsonCT, `["0x1"]`, 400, 0},
		{"wrong content type", map[string]string{"Content-Type": "text/plain"}, `[]`, 415, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := do(t, h, request{method: http.MethodPost, path: "/eth/v1/beacon/states/head/validator_balances", header: tc.header, body: tc.body})
			if rec.Code != tc.code {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.code, rec.Body)
			}
			if tc.code != 200 {
				checkError(t, rec, tc.code)
				return
			}
			if n := len(at(t, decode(t, rec), "data").([]any)); n != tc.count {
				t.Errorf("%d balances, want %d", n, tc.count)
			}
		})
	}
}

func TestCommittees(t *testing.T) {
	t.Parallel()
	srv, be := newServer(t)
	h := srv.Handler()
	c := be.Chain()
	head := c.HeadState()
	epoch := c.Transition.CurrentEpoch(head)
	for _, e := range []types.Epoch{epoch - 1, epoch, epoch + 1} {
		ec, err := c.Transition.Committees(head, e)
		if err != nil {
			t.Fatal(err)
		}
		m := decode(t, get(t, h, "/eth/v1/beacon/states/head/committees?epoch="+strconv.FormatUint(uint64(e), 10)))
		data := at(t, m, "data").([]any)
		if len(data) != len(ec.Shards) {
			t.Fatalf("epoch %d: %d committees, want %d", e, len(data), len(ec.Shards))
		}
		seen := map[string]bool{}
		for k, cm := range data {
			if str(t, cm, "index") != strconv.FormatUint(uint64(ec.Shards[k]), 10) ||
				str(t, cm, "slot") != strconv.FormatUint(uint64(ec.Slot(c.Config, k)), 10) {
				t.Errorf("epoch %d committee %d: %v", e, k, cm)
			}
			vals := at(t, cm, "validators").([]any)
			if len(vals) != len(ec.Committees[k]) {
				t.Errorf("epoch %d committee %d: %d members", e, k, len(vals))
			}
			for i, v := range vals {
				if v.(string) != strconv.FormatUint(uint64(ec.Committees[k][i]), 10) {
					t.Errorf("epoch %d committee %d member %d: %v", e, k, i, v)
				}
				seen[v.(string)] = true
			}
		}
		if len(seen) != len(head.Validators) {
			t.Errorf("epoch %d: committees cover %d validators, want all %d", e, len(seen), len(head.Validators))
		}
	}
	slot := uint64(epoch)*c.Config.SlotsPerEpoch + 2
	ec, _ := c.Transition.Committees(head, epoch)
	shard := strconv.FormatUint(uint64(ec.Shards[3]), 10)
	for _, tc := range []struct {
		query string
		code  int
		n     int
	}{
		{"", 200, len(ec.Shards)},
		{"?slot=" + strconv.FormatUint(slot, 10), 200, 1},
		{"?index=" + shard, 200, 1},
		{"?index=" + shard + "&slot=" + strconv.FormatUint(slot, 10), 200, 0},
		{"?slot=" + strconv.FormatUint(slot+8, 10), 200, 1}, // next epoch
		{"?epoch=" + strconv.FormatUint(uint64(epoch), 10) + "&slot=" + strconv.FormatUint(slot+8, 10), 400, 0},
		{"?epoch=" + strconv.FormatUint(uint64(epoch)-2, 10), 400, 0},
		{"?epoch=" + strconv.FormatUint(uint64(epoch)+2, 10), 400, 0},
		{"?index=8", 400, 0},
		{"?epoch=x", 400, 0},
		{"?slot=-1", 400, 0},
	} {
		rec := get(t, h, "/eth/v1/beacon/states/head/committees"+tc.query)
		if rec.Code != tc.code {
			t.Errorf("%q: status %d, want %d: %s", tc.query, rec.Code, tc.code, rec.Body)
			continue
		}
		if tc.code == 200 {
			if n := len(at(t, decode(t, rec), "data").([]any)); n != tc.n {
				t.Errorf("%q: %d committees, want %d", tc.query, n, tc.n)
			}
		} else {
			checkError(t, rec, tc.code)
		}
	}
	// The genesis state's committees.
	if rec := get(t, h, "/eth/v1/beacon/states/genesis/committees"); rec.Code != 200 {
		t.Errorf("genesis committees: %d", rec.Code)
	}
}

func TestConfigEndpoints(t *testing.T) {
	t.Parallel()
	srv, be := newServer(t)
	h := srv.Handler()
	cfg := be.Chain().Config
	m := decode(t, get(t, h, "/eth/v1/config/spec"))
	spec := at(t, m, "data").(map[string]any)
	sc := bufio.NewScanner(bytes.NewReader(cfg.MarshalYAML()))
	n := 0
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ": ")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		n++
		if spec[k] != v {
			t.Errorf("spec %s = %v, want %q", k, spec[k], v)
		}
	}
	if n < 50 {
		t.Fatalf("only %d config keys", n)
	}
	for k, v := range map[string]string{
		"SLOTS_PER_EPOCH": "8", "SHARD_COUNT": "8", "DOMAIN_BEACON_PROPOSER": "0x00000000",
		"SHARD_FORK_EPOCH": "0", "SHARD_FORK_VERSION": "0x01000000", "CONFIG_NAME": "minimal",
		"FAR_FUTURE_EPOCH": "18446744073709551615",
	} {
		if spec[k] != v {
			t.Errorf("spec %s = %v, want %s", k, spec[k], v)
		}
	}
	m = decode(t, get(t, h, "/eth/v1/config/fork_schedule"))
	forks := at(t, m, "data").([]any)
	if len(forks) != 2 || str(t, forks, "0", "current_version") != "0x00000000" ||
		str(t, forks, "1", "current_version") != "0x01000000" || str(t, forks, "1", "previous_version") != "0x00000000" ||
		str(t, forks, "1", "epoch") != "0" {
		t.Errorf("fork schedule %v", forks)
	}
}
