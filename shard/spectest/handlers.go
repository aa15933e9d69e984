package spectest

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"sync"

	bcore "github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	bspec "github.com/shardlab/shardlab/beacon/spectest"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/hash"
	"github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// The runners and handlers of the shard vectors.
const (
	RunnerShardBlock = "shard_block"
	RunnerCrosslink  = "crosslink"
	RunnerFraudProof = "fraud_proof"

	HandlerProcess  = "process"
	HandlerClaims   = "claims"
	HandlerDataRoot = "data_root"
	HandlerVerify   = "verify"
)

// Register registers the handlers of the shard vectors in r:
// shard_block/process, shard_block/claims, crosslink/data_root and
// fraud_proof/verify. None of them collides with a v0.8.3 runner. BLS
// signatures are verified as the official runner does (bspec.SigsFor: only
// with bls_setting 1); shard transaction signatures (ed25519) always are.
func Register(r *bspec.Registry) {
	r.Register(RunnerShardBlock, HandlerProcess, handleShardBlock)
	r.Register(RunnerShardBlock, HandlerClaims, handleShardBlock)
	r.Register(RunnerCrosslink, HandlerDataRoot, handleDataRoot)
	r.Register(RunnerFraudProof, HandlerVerify, handleFraudProof)
}

// env is the config of a fork directory, its transition (whose fraud-proof
// verifier has the directory's genesis root) and the execution options of
// that chain.
type env struct {
	cfg  *params.Config
	tr   *bcore.Transition
	opts core.ExecOptions
}

var envs = struct {
	mu sync.Mutex
	m  map[string]*env
}{m: make(map[string]*env)}

// forkDir returns the <fork> directory of a case:
// <fork>/<runner>/<handler>/<suite>/<case>.
func forkDir(c *bspec.Case) string {
	return filepath.Dir(filepath.Dir(filepath.Dir(filepath.Dir(c.Dir))))
}

// envFor loads (once per fork directory) the config.yaml and genesis.yaml of
// the case's fork directory. The shard vectors do not use c.Cfg: the official runner derives
// it from the config directory's name (the plain minimal preset, shard fork
// off), while the shard vectors need the fork on and their SHARD_* values.
func envFor(c *bspec.Case) (*env, error) {
	dir := forkDir(c)
	envs.mu.Lock()
	defer envs.mu.Unlock()
	if e, ok := envs.m[dir]; ok {
		return e, nil
	}
	cfg, err := LoadConfig(dir)
	if err != nil {
		return nil, err
	}
	root, err := LoadGenesisRoot(dir)
	if err != nil {
		return nil, err
	}
	fv := core.FraudVerifier{GenesisRoot: root}
	e := &env{cfg: cfg, tr: bcore.New(cfg).WithShardFork(fv), opts: core.ExecOptions{TxDomain: fv.TxDomain(cfg)}}
	envs.m[dir] = e
	return e, nil
}

// BeaconBlockRoot is the root of the beacon block whose post-state is s:
// signing_root(s.latest_block_header), with a zero state_root replaced by
// hash_tree_root(s), as process_slot does. A shard block's context is
// (beacon.ssz, BeaconBlockRoot(beacon.ssz)).
func BeaconBlockRoot(s *bt.BeaconState) (bt.Root, error) {
	h, err := BeaconBlockHeader(s)
	if err != nil {
		return bt.Root{}, err
	}
	return h.SigningRoot(), nil
}

// BeaconBlockHeader is s.latest_block_header with its state root filled in.
func BeaconBlockHeader(s *bt.BeaconState) (bt.BeaconBlockHeader, error) {
	h := s.LatestBlockHeader
	if h.StateRoot == (bt.Root{}) {
		r, err := s.HashTreeRoot()
		if err != nil {
			return h, fmt.Errorf("hash beacon state: %w", err)
		}
		h.StateRoot = r
	}
	return h, nil
}

func readBeacon(c *bspec.Case, e *env, name string) (*bt.BeaconState, error) {
	b, err := c.ReadSSZ(name)
	if err != nil {
		return nil, err
	}
	s, err := bt.UnmarshalBeaconState(e.cfg, b)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", name, err)
	}
	return s, nil
}

func readShardState(c *bspec.Case, name string) (*st.ShardState, error) {
	b, err := c.ReadSSZ(name)
	if err != nil {
		return nil, err
	}
	s, err := st.UnmarshalShardState(b)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", name, err)
	}
	return s, nil
}

func readSSZ(c *bspec.Case, name string, v bt.Codec) error {
	b, err := c.ReadSSZ(name)
	if err != nil {
		return err
	}
	if err := bt.Decode(v, b); err != nil {
		return fmt.Errorf("decode %s: %w", name, err)
	}
	return nil
}

// expect checks the outcome of the operation under test: a case with a post
// file must succeed (then check compares the result), one without must fail
// with a consensus error (beacon/core.ErrInvalid).
func expect(c *bspec.Case, post string, err error, check func() error) error {
	if !c.Exists(post) {
		if err == nil {
			return fmt.Errorf("succeeded, but the case has no %s (it must fail)", post)
		}
		if !errors.Is(err, bcore.ErrInvalid) {
			return fmt.Errorf("failed with a non-consensus error: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed: %w", err)
	}
	return check()
}

// handleShardBlock runs shard_block/process and shard_block/claims:
// ProcessBlock of block.ssz on pre.ssz, with parent.ssz as the parent header
// and beacon.ssz as the referenced beacon post-state.
func handleShardBlock(c *bspec.Case) error {
	e, err := envFor(c)
	if err != nil {
		return err
	}
	sigs, err := bspec.SigsFor(c)
	if err != nil {
		return err
	}
	beacon, err := readBeacon(c, e, "beacon.ssz")
	if err != nil {
		return err
	}
	var parent st.ShardBlockHeader
	if err := readSSZ(c, "parent.ssz", &parent); err != nil {
		return err
	}
	var block st.ShardBlock
	if err := readSSZ(c, "block.ssz", &block); err != nil {
		return err
	}
	state, err := readShardState(c, "pre.ssz")
	if err != nil {
		return err
	}
	root, err := BeaconBlockRoot(beacon)
	if err != nil {
		return err
	}
	ctx := core.BlockContext{Parent: &parent, BeaconRoot: root, Beacon: beacon}
	_, err = core.ProcessBlock(e.tr, ctx, state, &block, sigs, e.opts)
	return expect(c, "post.ssz", err, func() error {
		want, err := readShardState(c, "post.ssz")
		if err != nil {
			return err
		}
		return sameShardState(state, want)
	})
}

func sameShardState(got, want *st.ShardState) error {
	g, err := got.MarshalSSZ()
	if err != nil {
		return err
	}
	w, err := want.MarshalSSZ()
	if err != nil {
		return err
	}
	gr, err := got.HashTreeRoot()
	if err != nil {
		return err
	}
	wr, err := want.HashTreeRoot()
	if err != nil {
		return err
	}
	if bytes.Equal(g, w) && gr == wr {
		return nil
	}
	return fmt.Errorf("post shard state root %s, expected %s%s", gr, wr, shardStateDiff(got, want))
}

func shardStateDiff(a, b *st.ShardState) string {
	var d []string
	add := func(cond bool, f string, args ...any) {
		if cond && len(d) < 6 {
			d = append(d, fmt.Sprintf(f, args...))
		}
	}
	add(a.Shard != b.Shard, "shard %d vs %d", a.Shard, b.Shard)
	add(a.Slot != b.Slot, "slot %d vs %d", a.Slot, b.Slot)
	add(a.BeaconSlot != b.BeaconSlot, "beacon slot %d vs %d", a.BeaconSlot, b.BeaconSlot)
	add(len(a.Accounts) != len(b.Accounts), "%d vs %d accounts", len(a.Accounts), len(b.Accounts))
	for i := range min(len(a.Accounts), len(b.Accounts)) {
		add(a.Accounts[i] != b.Accounts[i], "account %d: %d/%d vs %d/%d (balance/nonce)", i,
			a.Accounts[i].Balance, a.Accounts[i].Nonce, b.Accounts[i].Balance, b.Accounts[i].Nonce)
	}
	for i := range min(len(a.OutboxNonces), len(b.OutboxNonces)) {
		add(a.OutboxNonces[i] != b.OutboxNonces[i], "outbox[%d] %d vs %d", i, a.OutboxNonces[i], b.OutboxNonces[i])
	}
	for i := range min(len(a.InboxNonces), len(b.InboxNonces)) {
		add(a.InboxNonces[i] != b.InboxNonces[i], "inbox[%d] %d vs %d", i, a.InboxNonces[i], b.InboxNonces[i])
	}
	if len(d) == 0 {
		return ""
	}
	return fmt.Sprintf(" (%v)", d)
}

// DataRoot is the data_root.yaml of a crosslink/data_root case.
type DataRoot struct {
	DataRoot    string     `yaml:"data_root"`
	HeaderRoots []string   `yaml:"header_roots"`
	Branches    [][]string `yaml:"branches"`
}

// handleDataRoot runs crosslink/data_root: compute_crosslink_data_root of
// the headers in headers.ssz (the SSZ encoding of a List[ShardBlockHeader],
// the concatenation of the fixed-size headers), and HeaderProof of each.
// A case without data_root.yaml must fail (more headers than
// MAX_CROSSLINK_HEADERS); CrosslinkDataRoot's error is not a consensus error,
// so any error passes.
func handleDataRoot(c *bspec.Case) error {
	e, err := envFor(c)
	if err != nil {
		return err
	}
	list, err := c.ReadSSZ("headers.ssz")
	if err != nil {
		return err
	}
	size := (&st.ShardBlockHeader{}).SizeSSZ()
	if len(list)%size != 0 {
		return fmt.Errorf("headers.ssz: %d bytes is not a list of %d-byte headers", len(list), size)
	}
	roots := make([]bt.Root, len(list)/size)
	for i := range roots {
		var h st.ShardBlockHeader
		if err := bt.Decode(&h, list[i*size:(i+1)*size]); err != nil {
			return fmt.Errorf("headers.ssz: header %d: %w", i, err)
		}
		roots[i] = h.SigningRoot()
	}
	got, err := core.CrosslinkDataRoot(e.cfg, roots)
	if !c.Exists("data_root.yaml") {
		if err == nil {
			return fmt.Errorf("data root %s computed, but the case has no data_root.yaml (it must fail)", got)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed: %w", err)
	}
	var want DataRoot
	if err := c.ReadYAML("data_root.yaml", &want); err != nil {
		return err
	}
	if got.String() != want.DataRoot {
		return fmt.Errorf("data root %s, expected %s", got, want.DataRoot)
	}
	if len(want.HeaderRoots) != len(roots) || len(want.Branches) != len(roots) {
		return fmt.Errorf("data_root.yaml has %d header roots and %d branches for %d headers", len(want.HeaderRoots), len(want.Branches), len(roots))
	}
	for i, r := range roots {
		if r.String() != want.HeaderRoots[i] {
			return fmt.Errorf("header %d: signing root %s, expected %s", i, r, want.HeaderRoots[i])
		}
		branch, err := core.HeaderProof(e.cfg, roots, i)
		if err != nil {
			return fmt.Errorf("header %d: proof: %w", i, err)
		}
		if len(branch) != len(want.Branches[i]) {
			return fmt.Errorf("header %d: branch of %d roots, expected %d", i, len(branch), len(want.Branches[i]))
		}
		leaves := make([][32]byte, len(branch))
		for k, b := range branch {
			if b.String() != want.Branches[i][k] {
				return fmt.Errorf("header %d: branch[%d] %s, expected %s", i, k, b, want.Branches[i][k])
			}
			leaves[k] = b
		}
		if !hash.IsValidMerkleBranch(r, leaves, uint64(len(leaves)), uint64(i), got) {
			return fmt.Errorf("header %d: branch does not verify against the data root", i)
		}
	}
	return nil
}

// handleFraudProof runs fraud_proof/verify: process_shard_fraud_proof of
// proof.ssz (the raw ShardFraudProof encoding, as a beacon block carries it)
// on pre.ssz.
func handleFraudProof(c *bspec.Case) error {
	e, err := envFor(c)
	if err != nil {
		return err
	}
	sigs, err := bspec.SigsFor(c)
	if err != nil {
		return err
	}
	state, err := readBeacon(c, e, "pre.ssz")
	if err != nil {
		return err
	}
	proof, err := c.ReadSSZ("proof.ssz")
	if err != nil {
		return err
	}
	err = e.tr.ProcessShardFraudProof(state, proof, sigs)
	return expect(c, "post.ssz", err, func() error {
		want, err := readBeacon(c, e, "post.ssz")
		if err != nil {
			return err
		}
		return bspec.SameState(state, want)
	})
}
