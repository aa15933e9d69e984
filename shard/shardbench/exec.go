package shardbench

import (
	"crypto/ed25519"
	"fmt"

	bcore "github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// ExecFixture is a signed shard block of transfers on shard 0's genesis
// state, with the ed25519 work it carries laid out for the baseline.
type ExecFixture struct {
	Chain *Chain
	Pre   *st.ShardState // shard 0's genesis state, hashed; not modified
	Block *st.ShardBlock
	Cross int // cross-shard sends among the transfers

	pubs []ed25519.PublicKey
	msgs [][32]byte
	sigs [][]byte
}

// NewExecFixture builds a block of n transfers, crossPercent of them
// cross-shard sends.
func NewExecFixture(c *Chain, n, crossPercent int) (*ExecFixture, error) {
	pre, _, err := c.Shard(0)
	if err != nil {
		return nil, err
	}
	txs := c.NewTransfers(pre, 1).Mixed(n, crossPercent)
	built, err := c.buildBlock(0, txs)
	if err != nil {
		return nil, err
	}
	f := &ExecFixture{Chain: c, Pre: pre, Block: built.Block, Cross: len(built.Receipts)}
	for _, tx := range built.Block.Body.Transactions {
		pk := pre.Accounts[tx.From].Pubkey
		f.pubs = append(f.pubs, ed25519.PublicKey(pk[:]))
		f.msgs = append(f.msgs, core.TxMessage(c.Verifier.TxDomain(c.Cfg), tx))
		f.sigs = append(f.sigs, tx.Signature[:])
	}
	return f, nil
}

// Execute applies the block to s (a copy of Pre) as a node accepting it
// does, minus the header checks: execute, then the post-state root and the
// receipts root, which must be the ones the block commits to.
func (f *ExecFixture) Execute(s *st.ShardState, opts core.ExecOptions) error {
	receipts, err := core.ExecuteBlock(f.Chain.Cfg, core.FullView{S: s}, core.FullBeaconView{S: f.Chain.Beacon}, f.Block, opts)
	if err != nil {
		return err
	}
	return f.checkRoots(s, receipts)
}

func (f *ExecFixture) checkRoots(s *st.ShardState, receipts []st.Receipt) error {
	root, err := s.HashTreeRoot()
	if err != nil {
		return err
	}
	rr, err := st.ReceiptsRoot(receipts)
	if err != nil {
		return err
	}
	if root != f.Block.StateRoot || rr != f.Block.ReceiptsRoot {
		return fmt.Errorf("shard_exec: roots after execution differ from the block's")
	}
	return nil
}

// Process is the whole of a node's validation, core.ProcessBlock: the header
// checks (parent, beacon reference, proposer index, the proposer's BLS
// signature over the block root, which hashes the body), then Execute's work.
func (f *ExecFixture) Process(s *st.ShardState) error {
	ctx, err := f.Chain.Context(0)
	if err != nil {
		return err
	}
	_, err = core.ProcessBlock(f.Chain.Tr, ctx, s, f.Block, bcore.VerifySigs, f.Chain.Opts(false))
	return err
}

// ExecuteOnly executes the block on s with the roots left stale, and
// returns its receipts: the setup of Roots.
func (f *ExecFixture) ExecuteOnly(s *st.ShardState, opts core.ExecOptions) ([]st.Receipt, error) {
	return core.ExecuteBlock(f.Chain.Cfg, core.FullView{S: s}, core.FullBeaconView{S: f.Chain.Beacon}, f.Block, opts)
}

// Roots computes and checks the post-state root of s and the receipts root,
// after ExecuteOnly.
func (f *ExecFixture) Roots(s *st.ShardState, receipts []st.Receipt) error {
	return f.checkRoots(s, receipts)
}

// VerifySignatures is the baseline: ed25519.Verify of the block's messages
// and signatures, one after the other.
func (f *ExecFixture) VerifySignatures() error {
	for i := range f.msgs {
		if !ed25519.Verify(f.pubs[i], f.msgs[i][:], f.sigs[i]) {
			return fmt.Errorf("shard_exec baseline: signature %d does not verify", i)
		}
	}
	return nil
}

func benchExec(c *Chain, opts Options) ([]Result, error) {
	f, err := NewExecFixture(c, opts.Transfers, opts.CrossShardPercent)
	if err != nil {
		return nil, err
	}
	var s *st.ShardState
	var receipts []st.Receipt
	fresh := func() error { s = f.Pre.Copy(); return nil }
	executed := func() error {
		s = f.Pre.Copy()
		var err error
		receipts, err = f.ExecuteOnly(s, f.Chain.Opts(true))
		return err
	}
	samples, err := measureRounds(opts.Runs,
		timed{fresh, func() error { return f.Execute(s, f.Chain.Opts(false)) }},
		timed{nil, f.VerifySignatures},
		timed{fresh, func() error { return f.Execute(s, f.Chain.Opts(true)) }},
		timed{executed, func() error { return f.Roots(s, receipts) }},
		timed{fresh, func() error { return f.Process(s) }},
	)
	if err != nil {
		return nil, err
	}
	n := len(f.Block.Body.Transactions)
	shape := fmt.Sprintf("%d transfers (%d cross-shard), %d accounts, %s config", n, f.Cross, c.Cfg.Shard.Accounts, c.Cfg.Name)

	main := newResult("shard_exec", "execute + state root + receipts root, signatures verified, 1 core: "+shape, samples[0])
	main.WithBaseline("ed25519.Verify of the same messages, 1 core", samples[1])
	main.Target = "execution rate >= 80% of the verification rate (ratio <= 1.25)"
	main.TargetMet = main.Ratio <= 1.25
	main.Extra["transfers_per_s"] = perSecond(n, main.Median)
	main.Extra["verify_per_s"] = perSecond(n, main.Baseline)
	main.Extra["rate_vs_verify"] = 1 / main.Ratio
	main.Extra["overhead_us_per_transfer"] = float64(main.Median-main.Baseline) / 1e3 / float64(n)

	noSigs := newResult("shard_exec_no_sigs", "execute + state root + receipts root, signatures skipped: "+shape, samples[2])
	noSigs.WithBaseline("with signatures", samples[0])
	noSigs.Extra["transfers_per_s"] = perSecond(n, noSigs.Median)

	roots := newResult("shard_exec_roots", "post-state root + receipts root after the block alone: "+shape, samples[3])
	roots.WithBaseline("the whole shard_exec", samples[0])
	roots.Extra["receipts"] = float64(f.Cross)
	full := newResult("shard_exec_process_block", "core.ProcessBlock: shard_exec plus the header checks (proposer index, "+
		"BLS proposer signature over the block root, body hashed): "+shape, samples[4])
	full.WithBaseline("ed25519.Verify of the same messages, 1 core", samples[1])
	full.Extra["transfers_per_s"] = perSecond(n, full.Median)
	return []Result{main, noSigs, roots, full}, nil
}
