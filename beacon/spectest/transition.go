package spectest

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/bls"
)

// Handlers of the state-transition runners: shuffling, operations,
// epoch_processing, sanity, genesis; and bls, delegated to crypto/bls.

// transitions keeps one core.Transition per preset, so cases of a preset
// share its caches.
type transitions struct {
	mu sync.Mutex
	m  map[string]*core.Transition
}

func (ts *transitions) get(c *Case) (*core.Transition, error) {
	if c.Cfg == nil {
		return nil, fmt.Errorf("case %s has no preset", c.Path())
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.m == nil {
		ts.m = make(map[string]*core.Transition)
	}
	tr, ok := ts.m[c.Config]
	if !ok {
		tr = core.New(c.Cfg)
		ts.m[c.Config] = tr
	}
	return tr, nil
}

// load returns the case's transition and its state file (file.ssz).
func (ts *transitions) load(c *Case, file string) (*core.Transition, *types.BeaconState, error) {
	tr, err := ts.get(c)
	if err != nil {
		return nil, nil, err
	}
	st, err := c.ReadState(file)
	if err != nil {
		return nil, nil, err
	}
	return tr, st, nil
}

// SigsFor maps meta.yaml's bls_setting to a signature policy. Cases with the
// default setting were generated with BLS off (their signatures are stubs), so
// only cases that require BLS verify signatures.
func SigsFor(c *Case) (core.Sigs, error) {
	m, err := c.Meta()
	if err != nil {
		return core.Sigs{}, err
	}
	if m.BLSSetting == BLSRequired {
		return core.VerifySigs, nil
	}
	return core.SkipSigs, nil
}

// expectPost compares the outcome of a transition with the case: with
// post.ssz the transition must succeed and produce it; without, it must fail
// with a consensus error (core.ErrInvalid), not any error.
func expectPost(c *Case, st *types.BeaconState, err error) error {
	if !c.Exists("post.ssz") {
		if err == nil {
			return errors.New("transition succeeded, but the case has no post state (it must fail)")
		}
		if !errors.Is(err, core.ErrInvalid) {
			return fmt.Errorf("transition failed with a non-consensus error: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("transition failed: %w", err)
	}
	want, err := c.ReadState("post")
	if err != nil {
		return err
	}
	return SameState(st, want)
}

// SameState compares two states by hash_tree_root and, when they differ,
// names the first fields that do.
func SameState(got, want *types.BeaconState) error {
	g, err := got.HashTreeRoot()
	if err != nil {
		return fmt.Errorf("hash result: %w", err)
	}
	w, err := want.HashTreeRoot()
	if err != nil {
		return fmt.Errorf("hash expected post: %w", err)
	}
	if g != w {
		return fmt.Errorf("post-state root %s, expected %s%s", g, w, stateDiff(got, want))
	}
	return nil
}

// stateDiff names the first fields that differ, to make failures readable.
func stateDiff(a, b *types.BeaconState) string {
	var d []string
	add := func(cond bool, f string, args ...any) {
		if cond && len(d) < 6 {
			d = append(d, fmt.Sprintf(f, args...))
		}
	}
	add(a.Slot != b.Slot, "slot %d vs %d", a.Slot, b.Slot)
	add(len(a.Validators) != len(b.Validators), "%d vs %d validators", len(a.Validators), len(b.Validators))
	for i := range min(len(a.Balances), len(b.Balances)) {
		add(a.Balances[i] != b.Balances[i], "balance[%d] %d vs %d", i, a.Balances[i], b.Balances[i])
	}
	for i := range min(len(a.Validators), len(b.Validators)) {
		add(a.Validators[i] != b.Validators[i], "validator[%d] differs", i)
	}
	add(a.FinalizedCheckpoint != b.FinalizedCheckpoint, "finalized checkpoint differs")
	add(a.CurrentJustifiedCheckpoint != b.CurrentJustifiedCheckpoint, "current justified checkpoint differs")
	add(a.JustificationBits != b.JustificationBits, "justification bits %04b vs %04b", a.JustificationBits, b.JustificationBits)
	for i := range a.CurrentCrosslinks {
		add(a.CurrentCrosslinks[i] != b.CurrentCrosslinks[i], "current_crosslinks[%d] differs", i)
	}
	if len(d) == 0 {
		return ""
	}
	return " (" + strings.Join(d, "; ") + ")"
}

func decodeInto(c *Case, name string, v types.Codec) error {
	b, err := c.ReadSSZ(name)
	if err != nil {
		return err
	}
	if err := types.Decode(v, b); err != nil {
		return fmt.Errorf("decode %s: %w", name, err)
	}
	return nil
}

// RegisterStateTransition registers shuffling, operations, epoch_processing,
// sanity and genesis.
func RegisterStateTransition(r *Registry) {
	ts := &transitions{}
	r.Register("shuffling", "core", func(c *Case) error { return runShuffling(c) })

	ops := map[string]opFn{
		"attestation":       op("attestation", (*core.Transition).ProcessAttestation),
		"attester_slashing": op("attester_slashing", (*core.Transition).ProcessAttesterSlashing),
		"block_header":      op("block", (*core.Transition).ProcessBlockHeader),
		"deposit":           op("deposit", (*core.Transition).ProcessDeposit),
		"proposer_slashing": op("proposer_slashing", (*core.Transition).ProcessProposerSlashing),
		"transfer":          op("transfer", (*core.Transition).ProcessTransfer),
		"voluntary_exit":    op("voluntary_exit", (*core.Transition).ProcessVoluntaryExit),
	}
	for name, fn := range ops {
		r.Register("operations", name, func(c *Case) error {
			tr, st, err := ts.load(c, "pre")
			if err != nil {
				return err
			}
			s, err := SigsFor(c)
			if err != nil {
				return err
			}
			return expectPost(c, st, fn(tr, st, c, s))
		})
	}

	epochSteps := map[string]func(*core.Transition, *types.BeaconState) error{
		"justification_and_finalization": (*core.Transition).ProcessJustificationAndFinalization,
		"crosslinks":                     (*core.Transition).ProcessCrosslinks,
		"registry_updates":               (*core.Transition).ProcessRegistryUpdates,
		"slashings":                      (*core.Transition).ProcessSlashings,
		"final_updates":                  (*core.Transition).ProcessFinalUpdates,
	}
	for name, fn := range epochSteps {
		r.Register("epoch_processing", name, func(c *Case) error {
			tr, st, err := ts.load(c, "pre")
			if err != nil {
				return err
			}
			return expectPost(c, st, fn(tr, st))
		})
	}

	r.Register("sanity", "slots", func(c *Case) error {
		tr, st, err := ts.load(c, "pre")
		if err != nil {
			return err
		}
		var n uint64
		if err := c.ReadYAML("slots", &n); err != nil {
			return err
		}
		return expectPost(c, st, tr.ProcessSlots(st, st.Slot+types.Slot(n)))
	})
	r.Register("sanity", "blocks", func(c *Case) error {
		tr, st, err := ts.load(c, "pre")
		if err != nil {
			return err
		}
		m, err := c.Meta()
		if err != nil {
			return err
		}
		s, err := SigsFor(c)
		if err != nil {
			return err
		}
		var terr error
		for i := 0; i < m.BlocksCount; i++ {
			var b types.BeaconBlock
			if err := decodeInto(c, fmt.Sprintf("blocks_%d", i), &b); err != nil {
				return err
			}
			if terr = tr.StateTransition(st, &b, s, true); terr != nil {
				break
			}
		}
		return expectPost(c, st, terr)
	})

	r.Register("genesis", "initialization", func(c *Case) error {
		tr, err := ts.get(c)
		if err != nil {
			return err
		}
		hashBytes, err := c.ReadSSZ("eth1_block_hash")
		if err != nil {
			return err
		}
		if len(hashBytes) != 32 {
			return fmt.Errorf("eth1_block_hash.ssz has %d bytes", len(hashBytes))
		}
		var ts uint64
		if err := c.ReadYAML("eth1_timestamp", &ts); err != nil {
			return err
		}
		var meta struct {
			DepositsCount int `yaml:"deposits_count"`
		}
		if err := c.ReadYAML("meta", &meta); err != nil {
			return err
		}
		deposits := make([]*types.Deposit, meta.DepositsCount)
		for i := range deposits {
			deposits[i] = new(types.Deposit)
			if err := decodeInto(c, fmt.Sprintf("deposits_%d", i), deposits[i]); err != nil {
				return err
			}
		}
		s, err := SigsFor(c)
		if err != nil {
			return err
		}
		st, err := tr.InitializeBeaconStateFromEth1(types.Root(hashBytes), ts, deposits, s)
		if err != nil {
			return err
		}
		want, err := c.ReadState("state")
		if err != nil {
			return err
		}
		return SameState(st, want)
	})
	r.Register("genesis", "validity", func(c *Case) error {
		tr, st, err := ts.load(c, "genesis")
		if err != nil {
			return err
		}
		var want bool
		if err := c.ReadYAML("is_valid", &want); err != nil {
			return err
		}
		if got := tr.IsValidGenesisState(st); got != want {
			return fmt.Errorf("is_valid_genesis_state = %v, expected %v", got, want)
		}
		return nil
	})
}

// opFn applies the operation stored in a case to a state.
type opFn func(tr *core.Transition, st *types.BeaconState, c *Case, s core.Sigs) error

// op decodes the operation of file (a container T) and applies it with apply.
func op[T any, P interface {
	*T
	types.Codec
}](file string, apply func(*core.Transition, *types.BeaconState, P, core.Sigs) error) opFn {
	return func(tr *core.Transition, st *types.BeaconState, c *Case, s core.Sigs) error {
		v := P(new(T))
		if err := decodeInto(c, file, v); err != nil {
			return err
		}
		return apply(tr, st, v, s)
	}
}

// runShuffling checks a shuffling/core case: mapping[i] is
// compute_shuffled_index(i, count, seed), computed both per index and for the
// whole list.
func runShuffling(c *Case) error {
	var m struct {
		Seed    string   `yaml:"seed"`
		Count   uint64   `yaml:"count"`
		Mapping []uint64 `yaml:"mapping"`
	}
	if err := c.ReadYAML("mapping", &m); err != nil {
		return err
	}
	seedBytes, err := hex.DecodeString(strings.TrimPrefix(m.Seed, "0x"))
	if err != nil || len(seedBytes) != 32 {
		return fmt.Errorf("bad seed %q", m.Seed)
	}
	if uint64(len(m.Mapping)) != m.Count || m.Count > 1<<32-1 {
		return fmt.Errorf("mapping has %d entries for count %d", len(m.Mapping), m.Count)
	}
	seed := types.Root(seedBytes)
	rounds := c.Cfg.ShuffleRoundCount
	perm := core.ShufflePositions(uint32(m.Count), seed, rounds)
	for i, want := range m.Mapping {
		if uint64(perm[i]) != want {
			return fmt.Errorf("whole-list shuffle: position %d maps to %d, expected %d", i, perm[i], want)
		}
		got, err := core.ComputeShuffledIndex(uint64(i), m.Count, seed, rounds)
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("compute_shuffled_index(%d) = %d, expected %d", i, got, want)
		}
	}
	return nil
}

// RegisterBLS registers the bls runner's handlers, implemented in crypto/bls.
func RegisterBLS(r *Registry) {
	for _, h := range bls.VectorHandlers() {
		r.Register("bls", h, func(c *Case) error { return bls.RunVectorCase(h, c.Dir) })
	}
}
