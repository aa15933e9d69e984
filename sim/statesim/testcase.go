package statesim

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"gopkg.in/yaml.v3"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
	shardcore "github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// A run is written in the v0.8.3 sanity/blocks test format
// (specs/test_formats/sanity/blocks.md), with raw (not snappy-compressed)
// SSZ parts as in the v0.8.3 vectors:
//
//	meta.yaml      blocks_count: N, bls_setting: 1 (signatures must be checked)
//	pre.ssz        the genesis state
//	blocks_<i>.ssz the i-th block, i = 0..N-1
//	post.ssz       the state after the last block
//
// A shard run writes its beacon blocks as ShardBeaconBlocks, adds
// "fork: shard" to meta.yaml, the chain config (config.yaml, params
// format), and the shard chains:
//
//	shards/<n>/meta.yaml      blocks_count: K
//	shards/<n>/genesis.ssz    the shard's genesis state
//	shards/<n>/blocks_<i>.ssz its canonical blocks, i = 0..K-1
//	shards/<n>/post.ssz       its state after the last block

// forkShard is meta.yaml's fork of shard-run cases.
const forkShard = "shard"

// caseMeta is the meta.yaml of a sanity/blocks case.
type caseMeta struct {
	BlocksCount int    `yaml:"blocks_count"`
	BLSSetting  int    `yaml:"bls_setting"`
	Fork        string `yaml:"fork,omitempty"`
}

// shardMeta is the meta.yaml of a shard's directory.
type shardMeta struct {
	BlocksCount int `yaml:"blocks_count"`
}

// caseWriter writes a sanity/blocks case as the run goes.
type caseWriter struct {
	dir    string
	blocks int
	// shardBlocks counts each shard's blocks; nil for a phase 0 run.
	shardBlocks []int
}

// newCaseWriter creates dir (which must not exist or be empty) and writes
// pre.ssz.
func newCaseWriter(dir string, pre *types.BeaconState) (*caseWriter, error) {
	entries, err := os.ReadDir(dir)
	switch {
	case err == nil && len(entries) > 0:
		return nil, fmt.Errorf("create test case: directory %s is not empty", dir)
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("create test case: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create test case: %w", err)
	}
	w := &caseWriter{dir: dir}
	if err := w.writeState("pre.ssz", pre); err != nil {
		return nil, err
	}
	return w, nil
}

// shardLayer writes config.yaml and every shard's genesis state.
func (w *caseWriter) shardLayer(cfg *params.Config, genesis []*st.ShardState) error {
	if err := w.write("config.yaml", cfg.MarshalYAML()); err != nil {
		return err
	}
	w.shardBlocks = make([]int, len(genesis))
	for i, g := range genesis {
		if err := os.MkdirAll(w.shardDir(i), 0o755); err != nil {
			return fmt.Errorf("create test case: %w", err)
		}
		buf, err := g.MarshalSSZ()
		if err != nil {
			return fmt.Errorf("encode shard %d genesis: %w", i, err)
		}
		if err := w.write(filepath.Join("shards", strconv.Itoa(i), "genesis.ssz"), buf); err != nil {
			return err
		}
	}
	return nil
}

func (w *caseWriter) shardDir(i int) string { return filepath.Join(w.dir, "shards", strconv.Itoa(i)) }

func (w *caseWriter) writeState(name string, st *types.BeaconState) error {
	buf, err := st.MarshalSSZ()
	if err != nil {
		return fmt.Errorf("encode %s: %w", name, err)
	}
	return w.write(name, buf)
}

func (w *caseWriter) write(name string, buf []byte) error {
	if err := os.WriteFile(filepath.Join(w.dir, name), buf, 0o644); err != nil {
		return fmt.Errorf("write test case: %w", err)
	}
	return nil
}

// block writes the next blocks_<i>.ssz.
func (w *caseWriter) block(b types.AnyBlock) error {
	buf, err := b.MarshalSSZ()
	if err != nil {
		return fmt.Errorf("encode block at slot %d: %w", b.GetSlot(), err)
	}
	if err := w.write(fmt.Sprintf("blocks_%d.ssz", w.blocks), buf); err != nil {
		return err
	}
	w.blocks++
	return nil
}

// shardBlock writes shard i's next blocks_<k>.ssz.
func (w *caseWriter) shardBlock(i int, b *st.ShardBlock) error {
	buf, err := b.MarshalSSZ()
	if err != nil {
		return fmt.Errorf("encode shard %d block at slot %d: %w", i, b.Slot, err)
	}
	name := filepath.Join("shards", strconv.Itoa(i), fmt.Sprintf("blocks_%d.ssz", w.shardBlocks[i]))
	if err := w.write(name, buf); err != nil {
		return err
	}
	w.shardBlocks[i]++
	return nil
}

// finish writes post.ssz and meta.yaml.
func (w *caseWriter) finish(post *types.BeaconState) error {
	if err := w.writeState("post.ssz", post); err != nil {
		return err
	}
	m := caseMeta{BlocksCount: w.blocks, BLSSetting: 1}
	if w.shardBlocks != nil {
		m.Fork = forkShard
	}
	meta, err := yaml.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode meta.yaml: %w", err)
	}
	return w.write("meta.yaml", meta)
}

// finishShards writes every shard's post.ssz (its head state) and meta.yaml.
func (w *caseWriter) finishShards(heads []*st.ShardState) error {
	for i, h := range heads {
		buf, err := h.MarshalSSZ()
		if err != nil {
			return fmt.Errorf("encode shard %d post-state: %w", i, err)
		}
		dir := filepath.Join("shards", strconv.Itoa(i))
		if err := w.write(filepath.Join(dir, "post.ssz"), buf); err != nil {
			return err
		}
		meta, err := yaml.Marshal(shardMeta{BlocksCount: w.shardBlocks[i]})
		if err != nil {
			return fmt.Errorf("encode shard meta.yaml: %w", err)
		}
		if err := w.write(filepath.Join(dir, "meta.yaml"), meta); err != nil {
			return err
		}
	}
	return nil
}

// Case is a sanity/blocks test case read back from disk.
type Case struct {
	Pre *types.BeaconState
	// Blocks are the blocks of a phase 0 case; ShardBeaconBlocks those of a
	// shard case (Fork == "shard").
	Blocks            []*types.BeaconBlock
	ShardBeaconBlocks []*types.ShardBeaconBlock
	// Post is the raw post.ssz; nil when the case has none, meaning that
	// some block must be rejected.
	Post []byte
	// BLSSetting is meta.yaml's bls_setting (0 when absent).
	BLSSetting int
	// Fork is meta.yaml's fork: "" (phase 0) or "shard".
	Fork string
	// Shards are the shard chains of a shard case, by shard.
	Shards []ShardCase
}

// ShardCase is one shard chain of a shard case.
type ShardCase struct {
	Genesis *st.ShardState
	Blocks  []*st.ShardBlock
	// Post is the raw post.ssz, nil when absent.
	Post []byte
}

// CaseConfig reads the chain config a shard case was written with
// (config.yaml), for building the transition to read and replay it.
func CaseConfig(dir string) (*params.Config, error) {
	buf, err := os.ReadFile(filepath.Join(dir, "config.yaml"))
	if err != nil {
		return nil, fmt.Errorf("read test case config: %w", err)
	}
	cfg, err := params.Parse(buf)
	if err != nil {
		return nil, fmt.Errorf("read test case config: %w", err)
	}
	return cfg, nil
}

// ReadCase reads the sanity/blocks case in dir with tr's config. A shard
// case's config.yaml must describe the same chain as tr's config.
func ReadCase(tr *core.Transition, dir string) (*Case, error) {
	metaBuf, err := os.ReadFile(filepath.Join(dir, "meta.yaml"))
	if err != nil {
		return nil, fmt.Errorf("read test case: %w", err)
	}
	var meta caseMeta
	if err := yaml.Unmarshal(metaBuf, &meta); err != nil {
		return nil, fmt.Errorf("read test case: decode meta.yaml: %w", err)
	}
	if meta.BlocksCount < 0 {
		return nil, fmt.Errorf("read test case: blocks_count %d", meta.BlocksCount)
	}
	if meta.Fork != "" && meta.Fork != forkShard {
		return nil, fmt.Errorf("read test case: unknown fork %q", meta.Fork)
	}
	if meta.Fork == forkShard {
		if err := checkCaseConfig(tr.Config(), dir); err != nil {
			return nil, err
		}
	}
	preBuf, err := os.ReadFile(filepath.Join(dir, "pre.ssz"))
	if err != nil {
		return nil, fmt.Errorf("read test case: %w", err)
	}
	pre, err := types.UnmarshalBeaconState(tr.Config(), preBuf)
	if err != nil {
		return nil, fmt.Errorf("read test case: decode pre.ssz: %w", err)
	}
	c := &Case{Pre: pre, BLSSetting: meta.BLSSetting, Fork: meta.Fork}
	for i := range meta.BlocksCount {
		name := fmt.Sprintf("blocks_%d.ssz", i)
		buf, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("read test case: %w", err)
		}
		if meta.Fork == forkShard {
			b := new(types.ShardBeaconBlock)
			if err := types.Decode(b, buf); err != nil {
				return nil, fmt.Errorf("read test case: decode %s: %w", name, err)
			}
			c.ShardBeaconBlocks = append(c.ShardBeaconBlocks, b)
			continue
		}
		b := new(types.BeaconBlock)
		if err := b.UnmarshalSSZ(buf); err != nil {
			return nil, fmt.Errorf("read test case: decode %s: %w", name, err)
		}
		c.Blocks = append(c.Blocks, b)
	}
	c.Post, err = readOptional(filepath.Join(dir, "post.ssz"))
	if err != nil {
		return nil, fmt.Errorf("read test case: %w", err)
	}
	if meta.Fork == forkShard {
		for i := range tr.Config().ShardCount {
			sc, err := readShardCase(filepath.Join(dir, "shards", strconv.FormatUint(i, 10)))
			if err != nil {
				return nil, fmt.Errorf("read test case: shard %d: %w", i, err)
			}
			c.Shards = append(c.Shards, *sc)
		}
	}
	return c, nil
}

// checkCaseConfig checks that dir's config.yaml describes cfg.
func checkCaseConfig(cfg *params.Config, dir string) error {
	want, err := CaseConfig(dir)
	if err != nil {
		return err
	}
	got := cfg.Copy()
	got.Name = want.Name
	if !bytes.Equal(got.MarshalYAML(), want.MarshalYAML()) {
		return fmt.Errorf("read test case: config.yaml differs from the %s config given (build the transition from CaseConfig)", cfg.Name)
	}
	return nil
}

// readShardCase reads a shard's directory of a shard case.
func readShardCase(dir string) (*ShardCase, error) {
	metaBuf, err := os.ReadFile(filepath.Join(dir, "meta.yaml"))
	if err != nil {
		return nil, err
	}
	var meta shardMeta
	if err := yaml.Unmarshal(metaBuf, &meta); err != nil {
		return nil, fmt.Errorf("decode meta.yaml: %w", err)
	}
	if meta.BlocksCount < 0 {
		return nil, fmt.Errorf("blocks_count %d", meta.BlocksCount)
	}
	buf, err := os.ReadFile(filepath.Join(dir, "genesis.ssz"))
	if err != nil {
		return nil, err
	}
	g, err := st.UnmarshalShardState(buf)
	if err != nil {
		return nil, fmt.Errorf("decode genesis.ssz: %w", err)
	}
	sc := &ShardCase{Genesis: g}
	for i := range meta.BlocksCount {
		name := fmt.Sprintf("blocks_%d.ssz", i)
		buf, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		b := new(st.ShardBlock)
		if err := types.Decode(b, buf); err != nil {
			return nil, fmt.Errorf("decode %s: %w", name, err)
		}
		sc.Blocks = append(sc.Blocks, b)
	}
	if sc.Post, err = readOptional(filepath.Join(dir, "post.ssz")); err != nil {
		return nil, err
	}
	return sc, nil
}

// readOptional reads a file, nil if it does not exist.
func readOptional(path string) ([]byte, error) {
	buf, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return buf, err
}

// VerifyCase replays the sanity/blocks case in dir as the v0.8.3 test runner
// does: state_transition(state, block, validate_state_root=True) for every
// block, with every signature verified. The result must encode to post.ssz;
// a case without post.ssz passes when a block is rejected (core.ErrInvalid).
//
// A shard case (see ReadCase; tr's config must be the case's, CaseConfig)
// is replayed with StateTransitionShard and the shard layer's fraud-proof
// verifier (a transition of tr's config with shard/core.FraudVerifier of
// the case's genesis, its pre-state), and
// every shard's blocks are replayed with full validation (ProcessBlock,
// every signature checked) against the post-states of the beacon blocks
// they reference; each shard must end at its post.ssz.
func VerifyCase(tr *core.Transition, dir string) error {
	c, err := ReadCase(tr, dir)
	if err != nil {
		return err
	}
	if c.Fork == forkShard {
		return verifyShardCase(tr.Config(), c)
	}
	st := c.Pre
	for i, b := range c.Blocks {
		err := tr.StateTransition(st, b, core.VerifySigs, true)
		switch {
		case err != nil && c.Post == nil && errors.Is(err, core.ErrInvalid):
			return nil
		case err != nil:
			return fmt.Errorf("replay block %d (slot %d): %w", i, b.Slot, err)
		}
	}
	return checkPost(st, c.Post, len(c.Blocks))
}

// checkPost compares the replayed state with post.ssz.
func checkPost(st *types.BeaconState, post []byte, blocks int) error {
	if post == nil {
		return fmt.Errorf("%w: the case has no post.ssz, yet its %d blocks apply", ErrCaseMismatch, blocks)
	}
	got, err := st.MarshalSSZ()
	if err != nil {
		return fmt.Errorf("encode replayed state: %w", err)
	}
	if !bytes.Equal(got, post) {
		return fmt.Errorf("%w: replaying %d blocks does not give post.ssz", ErrCaseMismatch, blocks)
	}
	return nil
}

// shardReplay is one shard chain being replayed.
type shardReplay struct {
	c      *ShardCase
	next   int
	state  *st.ShardState
	parent st.ShardBlockHeader
}

// verifyShardCase replays a shard case: after each beacon block, the shard
// blocks before the next beacon block's slot (which can only reference
// beacon blocks already applied). The case's pre-state is its chain's
// genesis, which transaction signatures are bound to.
func verifyShardCase(cfg *params.Config, c *Case) error {
	bst := c.Pre
	genesisRoot, err := bst.HashTreeRoot()
	if err != nil {
		return fmt.Errorf("hash pre-state: %w", err)
	}
	fv := shardcore.FraudVerifier{GenesisRoot: genesisRoot}
	tr := core.New(cfg).WithShardFork(fv)
	opts := shardcore.ExecOptions{TxDomain: fv.TxDomain(cfg)}
	hdr := bst.LatestBlockHeader
	hdr.StateRoot = genesisRoot
	// Post-states of the recent beacon blocks, by root.
	type ref struct {
		slot  types.Slot
		state *types.BeaconState
	}
	refs := map[types.Root]ref{hdr.SigningRoot(): {bst.Slot, bst.Copy()}}
	shards := make([]*shardReplay, len(c.Shards))
	for i := range c.Shards {
		sc := &c.Shards[i]
		if sc.Genesis.Shard != types.Shard(i) {
			return fmt.Errorf("%w: shards/%d holds the genesis of shard %d", ErrCaseMismatch, i, sc.Genesis.Shard)
		}
		h, err := shardcore.GenesisHeader(sc.Genesis)
		if err != nil {
			return err
		}
		shards[i] = &shardReplay{c: sc, state: sc.Genesis.Copy(), parent: h}
	}
	// replayShards applies every shard block with a slot before until.
	replayShards := func(until types.Slot) error {
		for i, r := range shards {
			for ; r.next < len(r.c.Blocks) && r.c.Blocks[r.next].Slot < until; r.next++ {
				b := r.c.Blocks[r.next]
				ref, ok := refs[b.BeaconBlockRoot]
				if !ok {
					return fmt.Errorf("%w: shard %d block %d (slot %d) references an unknown or too old beacon block %s",
						ErrCaseMismatch, i, r.next, b.Slot, b.BeaconBlockRoot)
				}
				ctx := shardcore.BlockContext{Parent: &r.parent, BeaconRoot: b.BeaconBlockRoot, Beacon: ref.state}
				if _, err := shardcore.ProcessBlock(tr, ctx, r.state, b, core.VerifySigs, opts); err != nil {
					return fmt.Errorf("replay shard %d block %d (slot %d): %w", i, r.next, b.Slot, err)
				}
				if r.parent, err = b.Header(); err != nil {
					return err
				}
			}
		}
		return nil
	}
	spe := types.Slot(cfg.SlotsPerEpoch)
	for i, b := range c.ShardBeaconBlocks {
		if err := replayShards(b.Slot); err != nil {
			return err
		}
		err := tr.StateTransitionShard(bst, b, core.VerifySigs, true)
		switch {
		case err != nil && c.Post == nil && errors.Is(err, core.ErrInvalid):
			return nil
		case err != nil:
			return fmt.Errorf("replay block %d (slot %d): %w", i, b.Slot, err)
		}
		root, err := b.SigningRoot()
		if err != nil {
			return err
		}
		refs[root] = ref{b.Slot, bst.Copy()}
		for r, v := range refs {
			if v.slot+spe < b.Slot {
				delete(refs, r)
			}
		}
	}
	if err := replayShards(types.Slot(1<<63 - 1)); err != nil {
		return err
	}
	if err := checkPost(bst, c.Post, len(c.ShardBeaconBlocks)); err != nil {
		return err
	}
	for i, r := range shards {
		if r.c.Post == nil {
			continue
		}
		got, err := r.state.MarshalSSZ()
		if err != nil {
			return fmt.Errorf("encode replayed shard %d: %w", i, err)
		}
		if !bytes.Equal(got, r.c.Post) {
			return fmt.Errorf("%w: replaying shard %d's %d blocks does not give its post.ssz", ErrCaseMismatch, i, len(r.c.Blocks))
		}
	}
	return nil
}
