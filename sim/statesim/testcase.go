package statesim

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/types"
)

// A run is written in the v0.8.3 sanity/blocks test format
// (specs/test_formats/sanity/blocks.md), with raw (not snappy-compressed)
// SSZ parts as in the v0.8.3 vectors:
//
//	meta.yaml      blocks_count: N, bls_setting: 1 (signatures must be checked)
//	pre.ssz        the genesis state
//	blocks_<i>.ssz the i-th block, i = 0..N-1
//	post.ssz       the state after the last block

// caseMeta is the meta.yaml of a sanity/blocks case.
type caseMeta struct {
	BlocksCount int `yaml:"blocks_count"`
	BLSSetting  int `yaml:"bls_setting"`
}

// caseWriter writes a sanity/blocks case as the run goes.
type caseWriter struct {
	dir    string
	blocks int
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
func (w *caseWriter) block(b *types.BeaconBlock) error {
	buf, err := b.MarshalSSZ()
	if err != nil {
		return fmt.Errorf("encode block at slot %d: %w", b.Slot, err)
	}
	if err := w.write(fmt.Sprintf("blocks_%d.ssz", w.blocks), buf); err != nil {
		return err
	}
	w.blocks++
	return nil
}

// finish writes post.ssz and meta.yaml.
func (w *caseWriter) finish(post *types.BeaconState) error {
	if err := w.writeState("post.ssz", post); err != nil {
		return err
	}
	meta, err := yaml.Marshal(caseMeta{BlocksCount: w.blocks, BLSSetting: 1})
	if err != nil {
		return fmt.Errorf("encode meta.yaml: %w", err)
	}
	return w.write("meta.yaml", meta)
}

// Case is a sanity/blocks test case read back from disk.
type Case struct {
	Pre    *types.BeaconState
	Blocks []*types.BeaconBlock
	// Post is the raw post.ssz; nil when the case has none, meaning that
	// some block must be rejected.
	Post []byte
	// BLSSetting is meta.yaml's bls_setting (0 when absent).
	BLSSetting int
}

// ReadCase reads the sanity/blocks case in dir with tr's config.
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
	preBuf, err := os.ReadFile(filepath.Join(dir, "pre.ssz"))
	if err != nil {
		return nil, fmt.Errorf("read test case: %w", err)
	}
	pre, err := types.UnmarshalBeaconState(tr.Config(), preBuf)
	if err != nil {
		return nil, fmt.Errorf("read test case: decode pre.ssz: %w", err)
	}
	c := &Case{Pre: pre, BLSSetting: meta.BLSSetting}
	for i := range meta.BlocksCount {
		name := fmt.Sprintf("blocks_%d.ssz", i)
		buf, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("read test case: %w", err)
		}
		b := new(types.BeaconBlock)
		if err := b.UnmarshalSSZ(buf); err != nil {
			return nil, fmt.Errorf("read test case: decode %s: %w", name, err)
		}
		c.Blocks = append(c.Blocks, b)
	}
	c.Post, err = os.ReadFile(filepath.Join(dir, "post.ssz"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read test case: %w", err)
	}
	return c, nil
}

// VerifyCase replays the sanity/blocks case in dir as the v0.8.3 test runner
// does: state_transition(state, block, validate_state_root=True) for every
// block, with every signature verified. The result must encode to post.ssz;
// a case without post.ssz passes when a block is rejected (core.ErrInvalid).
func VerifyCase(tr *core.Transition, dir string) error {
	c, err := ReadCase(tr, dir)
	if err != nil {
		return err
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
	if c.Post == nil {
		return fmt.Errorf("%w: the case has no post.ssz, yet its %d blocks apply", ErrCaseMismatch, len(c.Blocks))
	}
	got, err := st.MarshalSSZ()
	if err != nil {
		return fmt.Errorf("encode replayed state: %w", err)
	}
	if !bytes.Equal(got, c.Post) {
		return fmt.Errorf("%w: replaying %d blocks does not give post.ssz", ErrCaseMismatch, len(c.Blocks))
	}
	return nil
}
