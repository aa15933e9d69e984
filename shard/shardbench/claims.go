package shardbench

import (
	"fmt"
	"time"

	"github.com/golang/snappy"

	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/hash"
	"github.com/shardlab/shardlab/shard/core"
	st "github.com/shardlab/shardlab/shard/types"
)

// ClaimFixture is a block of shard 1 claiming, in nonce order, the receipts
// of a block of shard 0 that sent to it, proved through a crosslink chain of
// ChainLength crosslinks: the first holds the source block's header, the
// last is shard 0's current crosslink in Beacon, the beacon state the block
// references. Each crosslink was written into the chain's state at the
// start of the epoch after its range (process_slots runs the epochs in
// between), and Beacon is SHARD_CHALLENGE_WINDOW epochs after the last one:
// the claims prove, against the root Beacon's state_roots recorded for the
// window slot, that it was current then (Window is that state).
type ClaimFixture struct {
	Chain       *Chain
	ChainLength int
	Pre         *st.ShardState // shard 1's genesis state, hashed; not modified
	Beacon      *bt.BeaconState
	Window      *bt.BeaconState // the state at Beacon's window slot
	Block       *st.ShardBlock
}

// NewClaimFixture builds the source block of n cross-shard sends and the
// claiming block, with a crosslink chain of length chainLength.
func NewClaimFixture(c *Chain, n, chainLength int) (*ClaimFixture, error) {
	src, _, err := c.Shard(0)
	if err != nil {
		return nil, err
	}
	dst, _, err := c.Shard(1)
	if err != nil {
		return nil, err
	}
	g := c.NewTransfers(src, 2)
	txs := make([]*st.Transaction, n)
	for i := range txs {
		txs[i] = g.Next(-1, 1)
	}
	built, err := c.buildBlock(0, txs)
	if err != nil {
		return nil, err
	}
	header, err := built.Block.Header()
	if err != nil {
		return nil, err
	}
	roots := []bt.Root{header.SigningRoot()}
	dataRoot, err := core.CrosslinkDataRoot(c.Cfg, roots)
	if err != nil {
		return nil, err
	}
	headerBranch, err := core.HeaderProof(c.Cfg, roots, 0)
	if err != nil {
		return nil, err
	}
	// The chain: the crosslink of epoch 0 holding the header, then one
	// crosslink per epoch on top of it; crosslink i (of epoch i) is written
	// at the first slot of epoch i+1.
	spe := bt.Slot(c.Cfg.SlotsPerEpoch)
	state := c.Beacon.Copy()
	links := make([]*bt.Crosslink, chainLength)
	for i := range links {
		parent := state.CurrentCrosslinks[0].TreeRoot()
		data := dataRoot
		if i > 0 {
			data = hash.Hash([]byte(fmt.Sprintf("crosslink data of epoch %d", i)))
		}
		links[i] = &bt.Crosslink{Shard: 0, ParentRoot: parent, StartEpoch: bt.Epoch(i), EndEpoch: bt.Epoch(i + 1), DataRoot: data}
		if err := c.Tr.ProcessSlots(state, bt.Slot(i+1)*spe); err != nil {
			return nil, err
		}
		state.CurrentCrosslinks[0] = *links[i]
	}
	window := state.Copy()
	beacon := state
	if err := c.Tr.ProcessSlots(beacon, window.Slot+bt.Slot(c.Cfg.Shard.ChallengeWindow)*spe); err != nil {
		return nil, err
	}
	if ws, ok := core.WindowSlot(c.Cfg, beacon.Slot); !ok || ws != window.Slot {
		return nil, fmt.Errorf("claim_verify: window slot of %d is not %d", beacon.Slot, window.Slot)
	}

	receiptBranches, err := st.ReceiptProofs(built.Receipts)
	if err != nil {
		return nil, err
	}
	claims := make([]*st.ReceiptClaim, len(built.Receipts))
	for i, r := range built.Receipts {
		claims[i], err = core.BuildClaim(c.Cfg, &core.ClaimSource{
			Receipt: r, ReceiptIndex: uint64(i), ReceiptBranch: receiptBranches[i],
			Header: header, HeaderIndex: 0, HeaderBranch: headerBranch,
			Chain: links,
		}, window)
		if err != nil {
			return nil, err
		}
	}
	b := &st.ShardBlock{Slot: beacon.Slot, Shard: 1, Body: st.ShardBlockBody{Claims: claims}}
	return &ClaimFixture{Chain: c, ChainLength: chainLength, Pre: dst, Beacon: beacon, Window: window, Block: b}, nil
}

// BlockBytes returns the SSZ size of the claiming block and its size as a
// gossip payload (one snappy block, as p2p's ssz_snappy gossip encoding):
// what the p2p gossip limits (1 MiB compressed by default) bound. Claims of
// one source block share their header, crosslinks and window branch, which
// snappy finds again in the previous claim.
func (f *ClaimFixture) BlockBytes() (size, compressed int, err error) {
	data, err := f.Block.MarshalSSZ()
	if err != nil {
		return 0, 0, fmt.Errorf("encode claiming block: %w", err)
	}
	return len(data), len(snappy.Encode(nil, data)), nil
}

// Claims is the number of claims in the block.
func (f *ClaimFixture) Claims() int { return len(f.Block.Body.Claims) }

// Execute applies the claiming block to s (a copy of Pre): every claim's
// proofs are verified and its amount credited.
func (f *ClaimFixture) Execute(s *st.ShardState) error {
	_, err := core.ExecuteBlock(f.Chain.Cfg, core.FullView{S: s}, core.FullBeaconView{S: f.Beacon}, f.Block, f.Chain.Opts(false))
	if err != nil {
		return err
	}
	if got := s.InboxNonces[0]; got != uint64(f.Claims()) {
		return fmt.Errorf("claim_verify: inbox nonce %d after %d claims", got, f.Claims())
	}
	return nil
}

func benchClaims(c *Chain, opts Options) ([]Result, error) {
	var out []Result
	var first []time.Duration
	for i, l := range opts.ChainLengths {
		name := fmt.Sprintf("claim_verify_chain%d", l)
		if i > 0 && !Selected(opts.Only, name) {
			continue // the first is the others' baseline
		}
		f, err := NewClaimFixture(c, opts.Claims, l)
		if err != nil {
			return nil, err
		}
		var s *st.ShardState
		samples, err := measureRounds(opts.Runs, timed{
			func() error { s = f.Pre.Copy(); return nil },
			func() error { return f.Execute(s) },
		})
		if err != nil {
			return nil, err
		}
		per := scale(samples[0], f.Claims())
		r := newResult(name,
			fmt.Sprintf("one receipt claim through a crosslink chain of %d (per claim, of a block of %d claims), %s config", l, f.Claims(), c.Cfg.Name), per)
		if first == nil {
			first = per
		} else {
			r.WithBaseline(fmt.Sprintf("chain of %d", opts.ChainLengths[0]), first)
		}
		r.Extra["claims_per_s"] = perSecond(1, r.Median)
		r.Extra["chain_length"] = float64(l)
		r.Extra["claim_bytes"] = float64(f.Block.Body.Claims[0].SizeSSZ())
		size, compressed, err := f.BlockBytes()
		if err != nil {
			return nil, err
		}
		r.Extra["block_bytes"] = float64(size)
		r.Extra["block_snappy_bytes"] = float64(compressed)
		out = append(out, r)
	}
	return out, nil
}
