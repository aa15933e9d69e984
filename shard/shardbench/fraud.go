package shardbench

import (
	"fmt"

	bcore "github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/corebench"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/bls"
	"github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// FraudFixture is a signed block of shard 0 whose transfers are all valid
// but whose state root is wrong, and the beacon state (a few slots later)
// that verifies proofs against it.
type FraudFixture struct {
	Chain         *Chain
	Pre           *st.ShardState // shard 0's genesis state: the block's pre-state; not modified
	Parent        *st.ShardBlockHeader
	Block         *st.ShardBlock
	Verifier      *bt.BeaconState // the beacon state that processes the proof
	Whistleblower bt.ValidatorIndex
	key           *bls.SecretKey
}

// NewFraudFixture builds the fraudulent block of n transfers, crossPercent
// of them cross-shard sends.
func NewFraudFixture(c *Chain, n, crossPercent int) (*FraudFixture, error) {
	pre, parent, err := c.Shard(0)
	if err != nil {
		return nil, err
	}
	txs := c.NewTransfers(pre, 3).Mixed(n, crossPercent)
	built, err := c.buildBlock(0, txs)
	if err != nil {
		return nil, err
	}
	b := built.Block
	b.StateRoot[7] ^= 0x5a
	sk, err := c.ProposerKey(0, b.Slot)
	if err != nil {
		return nil, err
	}
	if err := core.SignBlock(c.Tr, b, sk); err != nil {
		return nil, err
	}
	v := c.Beacon.Copy()
	if err := c.Tr.ProcessSlots(v, b.Slot+2); err != nil {
		return nil, err
	}
	wb := (b.ProposerIndex + 1) % bt.ValidatorIndex(len(c.Beacon.Validators))
	wsk, ok := c.Keys.SecretKey(uint64(wb))
	if !ok {
		return nil, fmt.Errorf("no key for validator %d", wb)
	}
	return &FraudFixture{Chain: c, Pre: pre, Parent: parent, Block: b, Verifier: v, Whistleblower: wb, key: wsk}, nil
}

// Build is the fisherman's work: build and sign the proof, and encode it.
func (f *FraudFixture) Build() ([]byte, error) {
	c := f.Chain
	p, err := c.Verifier.BuildFraudProof(c.Tr, f.Pre, f.Parent, f.Block, &c.BeaconHeader, c.Beacon, core.FraudEvidence{}, f.Whistleblower, f.key)
	if err != nil {
		return nil, err
	}
	return p.MarshalSSZ()
}

// Verify is the beacon chain's work: verify the encoded proof statelessly;
// the verdict must name the block's proposer.
func (f *FraudFixture) Verify(data []byte, sigs bcore.Sigs) error {
	v, err := f.Chain.Verifier.VerifyFraudProof(f.Chain.Tr, f.Verifier, data, sigs)
	if err != nil {
		return err
	}
	if len(v.Offenders) != 1 || v.Offenders[0] != f.Block.ProposerIndex || v.Whistleblower != f.Whistleblower {
		return fmt.Errorf("fraud_proof: unexpected verdict %+v", v)
	}
	return nil
}

// Reexecute is the baseline: a full node re-executes the block on s (a copy
// of Pre), signatures verified, and finds that the roots differ.
func (f *FraudFixture) Reexecute(s *st.ShardState) error {
	receipts, err := core.ExecuteBlock(f.Chain.Cfg, core.FullView{S: s}, core.FullBeaconView{S: f.Chain.Beacon}, f.Block, f.Chain.Opts(false))
	if err != nil {
		return err
	}
	root, err := s.HashTreeRoot()
	if err != nil {
		return err
	}
	rr, err := st.ReceiptsRoot(receipts)
	if err != nil {
		return err
	}
	if root == f.Block.StateRoot && rr == f.Block.ReceiptsRoot {
		return fmt.Errorf("fraud_proof baseline: the block re-executes to its roots")
	}
	return nil
}

func benchFraud(c *Chain, opts Options) ([]Result, error) {
	f, err := NewFraudFixture(c, opts.FraudTransfers, opts.CrossShardPercent)
	if err != nil {
		return nil, err
	}
	data, err := f.Build()
	if err != nil {
		return nil, err
	}
	var p st.ShardFraudProof
	if err := bt.Decode(&p, data); err != nil {
		return nil, err
	}
	var s *st.ShardState
	samples, err := measureRounds(opts.Runs,
		timed{nil, func() error { _, err := f.Build(); return err }},
		timed{nil, func() error { return f.Verify(data, bcore.VerifySigs) }},
		timed{nil, func() error { return f.Verify(data, bcore.SkipSigs) }},
		timed{func() error { s = f.Pre.Copy(); return nil }, func() error { return f.Reexecute(s) }},
	)
	if err != nil {
		return nil, err
	}
	n := len(f.Block.Body.Transactions)
	shape := fmt.Sprintf("block of %d transfers with a wrong state root, %d accounts, %s config", n, c.Cfg.Shard.Accounts, c.Cfg.Name)
	extra := func(r *Result) {
		r.Extra["proof_bytes"] = float64(len(data))
		r.Extra["witness_leaves"] = float64(len(p.StateWitness.Indices))
		r.Extra["witness_helpers"] = float64(len(p.StateWitness.Helpers))
	}
	build := newResult("fraud_proof_build", "re-execute recording, multiproof witness, BLS sign, SSZ encode: "+shape, samples[0])
	build.WithBaseline("re-execution on a full state", samples[3])
	extra(&build)
	verify := newResult("fraud_proof_verify", "stateless verification, BLS signatures checked (proposer, whistleblower): "+shape, samples[1])
	verify.WithBaseline("re-execution on a full state", samples[3])
	extra(&verify)
	verify.Extra["verify_no_bls_ms"] = ms(corebench.Median(samples[2]))
	verify.Extra["reexecute_ms"] = ms(corebench.Median(samples[3]))
	return []Result{build, verify}, nil
}
