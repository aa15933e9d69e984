package scenario

import (
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/sim/testnet"
)

// TestTestnetPreparation checks what the testnet engine derives from a
// file before it starts: the late joiners held back, network.config as a
// chain config file for the genesis, and the registry checks' samples.
func TestTestnetPreparation(t *testing.T) {
	t.Parallel()
	const head = "name: x\nnetwork:\n  nodes: 4\n  epochs: 4\n"
	t.Run("late nodes", func(t *testing.T) {
		sc, err := Parse("x.yaml", []byte(head+"timeline:\n  - at: {slot: 9}\n    late_join: [3, 1]\n  - at: {slot: 12}\n    crash: [2]\n"))
		if err != nil {
			t.Fatal(err)
		}
		if late, err := lateNodes(sc); err != nil || !slices.Equal(late, []int{1, 3}) {
			t.Fatalf("lateNodes = %v, %v, want [1 3]", late, err)
		}
		twice, err := Parse("x.yaml", []byte(head+"timeline:\n  - at: {slot: 9}\n    late_join: [3]\n  - at: {slot: 12}\n    late_join: [3]\n"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := lateNodes(twice); !errors.Is(err, ErrInvalid) {
			t.Fatalf("a node joining twice: %v, want ErrInvalid", err)
		}
	})
	t.Run("chain config", func(t *testing.T) {
		sc, err := Parse("x.yaml", []byte(head+"  config:\n    PERSISTENT_COMMITTEE_PERIOD: 0\n"))
		if err != nil {
			t.Fatal(err)
		}
		path, remove, err := writeChainConfig(sc.Network)
		if err != nil || path == "" {
			t.Fatalf("writeChainConfig = %q, %v", path, err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		c, err := params.Parse(b)
		if err != nil || c.PersistentCommitteePeriod != 0 || c.SlotsPerEpoch != params.Minimal().SlotsPerEpoch {
			t.Fatalf("the written config reads as %+v, %v", c, err)
		}
		remove()
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("the config file is left after remove: %v", err)
		}
		plain, _ := Parse("x.yaml", []byte(head))
		if path, _, err := writeChainConfig(plain.Network); path != "" || err != nil {
			t.Fatalf("without overrides: %q, %v, want no file", path, err)
		}
	})
	t.Run("watched validators", func(t *testing.T) {
		sc, err := Parse("x.yaml", []byte(head+"expect:\n  - check: exited\n    validators: [1, 5]\n    at: {epoch: 3}\n"))
		if err != nil {
			t.Fatal(err)
		}
		r := &tnRun{run: &run{sc: sc, watch: watchedValidators(sc)}}
		far := uint64(types.FarFutureEpoch)
		vs := []testnet.ValidatorInfo{{Index: 0, ExitEpoch: far}, {Index: 1, ActivationEpoch: 0, ExitEpoch: 3, Balance: 7}, {Index: 2, ExitEpoch: far}}
		var ns NodeSample
		r.watchOf(&ns, vs, 3*slotsPerEpoch)
		if ns.Registry != 3 || !ns.Watch[1].ExitedNow || ns.Watch[1].ActiveNow || ns.Watch[1].Balance != 7 || ns.Watch[5].Exists {
			t.Fatalf("sample %+v", ns)
		}
		if out, ok := holdsRegistry(sc.Expect[0], []NodeSample{ns}); ok {
			t.Fatalf("exited [1 5] holds with 5 not deposited: %s", out)
		}
	})
}
