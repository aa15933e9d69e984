package scenario

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/shardlab/shardlab/sim/netsim"
)

// netHead is a 4-node, 5-epoch network for the network action tests.
const netHead = "name: x\nnetwork:\n  nodes: 4\n  epochs: 5\n"

func TestNetActionParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src, want string
	}{
		{"late join out of range", netHead + "timeline:\n  - at: {slot: 1}\n    late_join: 4\n", "step 1 names node 4, expected 0..3"},
		{"skew without offset", netHead + "timeline:\n  - at: {slot: 1}\n    clock_skew: {nodes: [1]}\n", "expected nodes and offset"},
		{"bad skew", netHead + "timeline:\n  - at: {slot: 1}\n    clock_skew: {nodes: [1], offset: soon}\n", "clock_skew offset \"soon\""},
		{"unknown kind", netHead + "timeline:\n  - at: {slot: 1}\n    delay: {kinds: [blocks], by: 1s}\n", "unknown message kind \"blocks\", expected one of block, attestation"},
		{"delay of nothing", netHead + "timeline:\n  - at: {slot: 1}\n    delay: {kinds: [block]}\n", "expected by or loss"},
		{"delay to a missing node", netHead + "timeline:\n  - at: {slot: 1}\n    delay: {to: [7], by: 1s}\n", "step 1 names node 7"},
		{"bad delay", netHead + "timeline:\n  - at: {slot: 1}\n    delay: {by: 10ms~20ms}\n", "step 1: invalid simulation config"},
		{"delay loss 1", netHead + "timeline:\n  - at: {slot: 1}\n    delay: {loss: 1}\n", "delay loss 1, expected [0, 1)"},
		{"reorder without window", netHead + "timeline:\n  - at: {slot: 1}\n    reorder: {kinds: [attestation]}\n", "expected window"},
		{"reorder bad key", netHead + "timeline:\n  - at: {slot: 1}\n    reorder: {window: 1s, by: 1s}\n", "unknown key \"by\", expected one of kinds, from, to, window, slots"},
		{"synced without nodes", netHead + "expect:\n  - check: synced\n    at: {epoch: 1}\n", "expected nodes: the nodes that must reach the others' head"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(tc.src))
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestNetActionsRun runs clock skew, block delays and attestation
// reordering on the sim engine: the steps fire with their details, their
// windows are reported, the rules lapse after their slots, and the
// network still finalizes; a node whose messages all come more than a
// slot late for two epochs is not synced during them and is after. (A
// delay of blocks alone would not do: the attestations for a block it
// lacks make the node fetch it by root, a request.)
func TestNetActionsRun(t *testing.T) {
	t.Parallel()
	src := "name: x\nnetwork:\n  nodes: 4\n  epochs: 6\n" + `timeline:
  - at: {slot: 2}
    clock_skew: {nodes: [1], offset: 700ms}
  - at: {slot: 2}
    clock_skew: {nodes: [2], offset: -500ms}
  - name: slow
    at: {slot: 8}
    delay: {to: [3], by: 2500ms, slots: 16}
  - at: {slot: 8}
    reorder: {kinds: [attestation, aggregate], from: [0, 1], to: [2, 3], window: 600ms, slots: 16}
expect:
  - name: node 3 behind while its blocks come late
    check: synced
    nodes: [3]
    at: {after: slow, slot: 4}
  - name: node 3 synced after
    check: synced
    nodes: [3]
    at: {after: slow, epoch: 2}
    within: {epoch: 6}
  - name: finalized
    check: finalized
    op: ">="
    value: 2
    at: {epoch: 6}
`
	sc, err := Parse("x.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), sc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range rep.Expectations {
		t.Logf("%s: expected %s, observed %s, pass %v", o.Name, o.Expected, o.Observed, o.Pass)
	}
	if len(rep.Expectations) != 3 || rep.Expectations[0].Pass || !rep.Expectations[1].Pass || !rep.Expectations[2].Pass {
		t.Fatalf("expectations %+v, want the first to fail and the others to hold", rep.Expectations)
	}
	if len(rep.Steps) != 4 || !strings.Contains(rep.Steps[2].Detail, "all messages from any node to [3] by 2.5s") ||
		!strings.Contains(rep.Steps[3].Detail, "within 600ms") || !strings.Contains(rep.Steps[0].Detail, "700ms") {
		t.Fatalf("steps %+v", rep.Steps)
	}
	var delayWindow *Window
	for i, w := range rep.Windows {
		if strings.HasPrefix(w.Label, "delay") {
			delayWindow = &rep.Windows[i]
		}
	}
	if delayWindow == nil || delayWindow.From != 8 || delayWindow.To != 24 {
		t.Fatalf("windows %+v, want a delay window over slots 8..24", rep.Windows)
	}
}

// TestSchemaNetActions checks schema.json against the network actions:
// it lists every message kind netsim knows and accepts the test's file.
func TestSchemaNetActions(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Defs struct {
			Kinds struct {
				Items struct {
					Enum []string `json:"enum"`
				} `json:"items"`
			} `json:"kinds"`
			Step struct {
				Properties map[string]any `json:"properties"`
			} `json:"step"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(doc.Defs.Kinds.Items.Enum, netsim.MessageKinds) {
		t.Fatalf("schema kinds %v, netsim's %v", doc.Defs.Kinds.Items.Enum, netsim.MessageKinds)
	}
	for _, k := range netActionKeys {
		if _, ok := doc.Defs.Step.Properties[k]; !ok {
			t.Errorf("schema has no step key %s", k)
		}
	}
	src := netHead + "timeline:\n  - at: {slot: 1}\n    delay: {kinds: [block, claim], to: [1], by: 1s, slots: 4}\n" +
		"  - at: {slot: 1}\n    clock_skew: {nodes: [2], offset: -800ms}\n  - at: {slot: 2}\n    reorder: {window: 500ms}\n" +
		"  - at: {slot: 3}\n    late_join: [3]\nexpect:\n  - check: synced\n    nodes: [3]\n    at: {slot: 8}\n"
	if err := compileSchema(t).Validate(asJSON(t, []byte(src))); err != nil {
		t.Fatal(err)
	}
	bad := netHead + "timeline:\n  - at: {slot: 1}\n    delay: {kinds: [blocks], by: 1s}\n"
	if err := compileSchema(t).Validate(asJSON(t, []byte(bad))); err == nil {
		t.Fatal("schema accepts an unknown message kind")
	}
}
