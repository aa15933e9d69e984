package node

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/p2p/p2ptest"
)

// debugNode builds a node hosting validators 0-15 with an HTTP API (not
// served: requests go to its handler), with or without the debug API.
func debugNode(t *testing.T, debug bool) *Node {
	t.Helper()
	tr, genesis, _ := testGenesis(t, 0)
	net, _ := p2ptest.NewMockNet(t, 1, p2ptest.Options{})
	c := TestConfig()
	c.Transition, c.Genesis, c.Network = tr, genesis, net.Nodes[0]
	c.Validators = ValidatorRange{Start: 0, Count: 16}
	c.HTTPPort, c.DebugAPI = 1, debug // never listened on
	n, err := New(c, testLogger(t, "debug"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	return n
}

// call sends a request to the node's API handler.
func call(n *Node, method, path, body string) (int, string) {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	rec := httptest.NewRecorder()
	n.API().Handler().ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// TestDebugAPIRoutes checks every debug route's answers to good and bad
// requests, and that the routes exist only with Config.DebugAPI.
func TestDebugAPIRoutes(t *testing.T) {
	t.Parallel()
	if code, _ := call(debugNode(t, false), "POST", DebugPathPrefix+"duties", `{"enabled": false}`); code != http.StatusNotFound && code != http.StatusMethodNotAllowed {
		t.Fatalf("duties without the debug API: %d, want 404", code)
	}
	n := debugNode(t, true)
	_, pub, _ := crypto.GenerateEd25519Key(nil)
	other, _ := peer.IDFromPublicKey(pub)
	tests := []struct {
		name, method, route, body string
		code                      int
		contains                  string
	}{
		{"duties off", "POST", "duties", `{"enabled": false}`, 200, `"enabled":false`},
		{"duties without enabled", "POST", "duties", `{}`, 400, "expected"},
		{"duties unknown field", "POST", "duties", `{"enabled": true, "x": 1}`, 400, "unknown field"},
		{"duties not json", "POST", "duties", `on`, 400, "decode"},
		{"block a bad peer id", "POST", "peers/block", `{"peers": ["nope"]}`, 400, "nope"},
		{"block itself", "POST", "peers/block", `{"peers": ["` + n.PeerID().String() + `"]}`, 400, "itself"},
		{"block nobody", "POST", "peers/block", `{"peers": []}`, 400, "no peers"},
		{"block a peer", "POST", "peers/block", `{"peers": ["` + other.String() + `"]}`, 200, other.String()},
		{"blocked list", "GET", "peers/blocked", ``, 200, other.String()},
		{"unblock all", "POST", "peers/unblock", `{"peers": []}`, 200, `"data":[]`},
		{"double vote of a validator hosted elsewhere", "POST", "double_vote", `{"validator": 40}`, 400, "not hosted"},
		{"double vote of no validator", "POST", "double_vote", `{"validator": 100000}`, 400, "no such validator"},
		{"double vote without validator", "POST", "double_vote", `{}`, 400, "expected"},
		{"double vote", "POST", "double_vote", `{"validator": 3}`, 200, `"slot"`},
		{"surround vote", "POST", "surround_vote", `{"validator": 4}`, 200, `"slot"`},
		{"equivocate in the past", "POST", "equivocate", `{"slot": 0}`, 400, "has begun"},
		{"equivocate", "POST", "equivocate", `{"slot": 100}`, 200, `"slot":"100"`},
		{"exit without validator", "POST", "exit", `{}`, 400, "expected"},
		{"exit of a validator hosted elsewhere", "POST", "exit", `{"validator": 40}`, 400, "not hosted"},
		{"exit before the persistent committee period", "POST", "exit", `{"validator": 3}`, 400, "exit validator 3"},
		{"validators offline", "POST", "validators/duties", `{"validators": [3, 5], "enabled": false}`, 200, `"offline":["3","5"]`},
		{"validators offline hosted elsewhere", "POST", "validators/duties", `{"validators": [40], "enabled": false}`, 400, "not hosted"},
		{"validators offline, none named", "POST", "validators/duties", `{"enabled": false}`, 400, "no validators"},
		{"validators without enabled", "POST", "validators/duties", `{"validators": [3]}`, 400, "expected"},
		{"validator back online", "POST", "validators/duties", `{"validators": [3], "enabled": true}`, 200, `"offline":["5"]`},
		{"wrong data root without share", "POST", "wrong_data_root", `{"shard": 1}`, 400, "expected"},
		{"wrong data root share over 1", "POST", "wrong_data_root", `{"shard": 1, "share": 2}`, 400, "share"},
		{"wrong data root of no shard", "POST", "wrong_data_root", `{"shard": 99, "share": 0.5}`, 400, "shard 99"},
		{"wrong data root", "POST", "wrong_data_root", `{"shard": 1, "share": 0.5}`, 200, `"voters":["`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := call(n, tc.method, DebugPathPrefix+tc.route, tc.body)
			if code != tc.code || !strings.Contains(body, tc.contains) {
				t.Fatalf("%s %s: %d %s, want %d with %q", tc.method, tc.route, code, body, tc.code, tc.contains)
			}
		})
	}
	var off bool
	n.do(func() { off = n.h.DutiesOff() })
	if !off {
		t.Fatal("duties still on after duties off")
	}
}

// TestDebugByzantineOffences runs four nodes and stages, through the debug
// hooks of real nodes, a double vote (validator 2 on node 0), a surround
// vote (validator 17 on node 1) and a double proposal (whoever proposes
// the slot armed); the slashers of the other nodes catch all three and
// the slashings are included on every node. Validators taken offline
// stop attesting and resume when put back online.
func TestDebugByzantineOffences(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		tr, genesis, _ := testGenesis(t, 6*time.Second)
		cfg := tr.Config()
		spe := cfg.SlotsPerEpoch
		net, _ := p2ptest.NewMockNet(t, 4, p2ptest.Options{})
		nodes := make([]*running, 4)
		for i := range nodes {
			n := testNode(t, tr, genesis, net.Nodes[i], ValidatorRange{Start: uint64(16 * i), Count: 16}, "", string(rune('a'+i)))
			nodes[i] = start(t, n)
		}
		connectAll(t, net, 0, 1, 2, 3)
		slots := nodes[0].Slots()

		// Offline validators: node 3 stops attesting for an epoch.
		waitSlots(t, cfg, 3*int(spe), "slot 4", func() bool { _, s := nodes[0].Chain().Head(); return s >= 4 })
		published := func() float64 { return testutilCounter(t, nodes[3].m.attestations.WithLabelValues("published")) }
		nodes[3].SetDuties(false)
		before := published()
		time.Sleep(time.Duration(spe*cfg.SecondsPerSlot) * time.Second)
		if got := published(); got != before {
			t.Fatalf("offline node published %v attestations", got-before)
		}
		nodes[3].SetDuties(true)
		waitSlots(t, cfg, int(spe), "attestations resume", func() bool { return published() > before })

		// The surround vote needs a justified source after genesis in the
		// previous epoch's votes.
		waitSlots(t, cfg, 6*int(spe), "justified epoch 1", func() bool { return nodes[0].Chain().Justified().Epoch >= 1 })
		cur, _ := slots.CurrentSlot()
		next := cur - cur%types.Slot(spe) + 2*types.Slot(spe)
		time.Sleep(time.Until(slots.SlotStart(next)) + time.Millisecond)
		if _, err := nodes[0].ScheduleByzantineVote(2, DoubleVote); err != nil {
			t.Fatal(err)
		}
		if _, err := nodes[1].ScheduleByzantineVote(17, SurroundVote); err != nil {
			t.Fatal(err)
		}
		if _, err := nodes[0].ScheduleByzantineVote(20, DoubleVote); err == nil {
			t.Fatal("node 0 voted for validator 20, hosted by node 1")
		}
		armed := next + 3
		for _, n := range nodes {
			n.equivocateAt.Store(uint64(armed) + 1)
		}
		waitSlots(t, cfg, int(armed-next)+1, "the armed slot's block", func() bool {
			_, s := nodes[0].Chain().Head()
			return s >= armed
		})
		_, root, ok := nodes[0].Chain().CanonicalBlock(armed)
		if !ok {
			t.Fatalf("no block at slot %d", armed)
		}
		post, _ := nodes[0].Chain().StateAt(root)
		proposer, err := tr.BeaconProposerIndex(post)
		if err != nil {
			t.Fatal(err)
		}
		want := []uint64{2, 17, uint64(proposer)}
		slices.Sort(want)
		slashed := func(n *running) []uint64 {
			var out []uint64
			for v, val := range n.Chain().HeadState().Validators {
				if val.Slashed {
					out = append(out, uint64(v))
				}
			}
			return out
		}
		waitSlots(t, cfg, 4*int(spe), "the three offenders slashed on every node", func() bool {
			for _, n := range nodes {
				if !slices.Equal(slashed(n), slices.Compact(want)) {
					return false
				}
			}
			return true
		})
		for _, n := range nodes {
			n.stop(t)
		}
	})
}
