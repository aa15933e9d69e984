package statesim

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
	st "github.com/shardlab/shardlab/shard/types"
)

// shardConfig is a small shard run: 64 minimal-preset validators, 8
// shards, 20 transactions per second (120 per slot), half cross-shard.
func shardConfig(seed uint64, epochs uint64) Config {
	cfg := DefaultConfig()
	cfg.Seed = seed
	cfg.Epochs = epochs
	cfg.Shards = 8
	cfg.TxRate = 20
	cfg.CrossShard = 0.5
	cfg.SkipDepositSignatures = true
	return cfg
}

// receiptKey names a receipt: (source shard, destination shard, nonce).
type receiptKey struct {
	src, dst types.Shard
	nonce    uint64
}

// checkShardInvariants re-derives the shard layer's bookkeeping from the
// canonical blocks alone and checks it against the run:
//   - the run's own conservation check held at every slot;
//   - the receipts are the blocks' cross-shard transactions, numbered per
//     (source, destination) in block order;
//   - every claim is on its receipt's destination shard, names a receipt
//     of a canonical block with the same amount and recipient, credits it
//     once and in nonce order, and was made in a block whose beacon block is
//     at a slot s such that the claim's crosslink (crosslinks[0]) had been
//     written into the canonical beacon state by the window slot s -
//     SHARD_CHALLENGE_WINDOW * SLOTS_PER_EPOCH, and crosslinks[window_index]
//     was the current crosslink at the window slot (from the run's record of
//     the canonical states, not from the relayer);
//   - final balances plus unclaimed receipts equal the genesis total;
//   - no claim names the fraudulent block (notFrom).
//
// It returns the receipts and which of them were claimed.
func checkShardInvariants(t *testing.T, cfg Config, res *Result, notFrom types.Root) (map[receiptKey]st.Receipt, map[receiptKey]bool) {
	t.Helper()
	chain := cfg.ChainConfig()
	sr := res.Shard
	spe := types.Slot(chain.SlotsPerEpoch)
	last := types.Slot(cfg.Epochs)*spe - 1
	if len(sr.Slots) != int(last) {
		t.Fatalf("%d slot checks for %d slots", len(sr.Slots), last)
	}
	for i, c := range sr.Slots {
		if c.Slot != types.Slot(i+1) || c.ConservationDiff != 0 {
			t.Fatalf("slot check %d: %+v", i, c)
		}
	}
	receipts := make(map[receiptKey]st.Receipt)
	headers := make(map[types.Root]bool)
	next := make(map[[2]types.Shard]uint64)
	for s, c := range sr.Chains {
		for _, b := range c.Blocks {
			if b.Shard != types.Shard(s) {
				t.Fatalf("shard %d's chain has a block of shard %d", s, b.Shard)
			}
			root, err := b.SigningRoot()
			if err != nil {
				t.Fatal(err)
			}
			headers[root] = true
			for _, tx := range b.Body.Transactions {
				if tx.ToShard == tx.Shard {
					continue
				}
				k := [2]types.Shard{tx.Shard, tx.ToShard}
				receipts[receiptKey{tx.Shard, tx.ToShard, next[k]}] = st.Receipt{
					SrcShard: tx.Shard, DstShard: tx.ToShard, Nonce: next[k], SrcSlot: b.Slot,
					Sender: tx.From, Recipient: tx.To, Amount: tx.Amount,
				}
				next[k]++
			}
		}
	}
	if len(sr.CurrentCrosslinks) != int(last)+1 {
		t.Fatalf("current crosslinks of %d slots for %d slots", len(sr.CurrentCrosslinks), last+1)
	}
	// writtenAt is the first slot whose canonical beacon state had the
	// crosslink as a current crosslink.
	writtenAt := make(map[types.Crosslink]types.Slot)
	for slot, cls := range sr.CurrentCrosslinks {
		for _, cl := range cls {
			if _, ok := writtenAt[cl]; !ok {
				writtenAt[cl] = types.Slot(slot)
			}
		}
	}
	back := types.Slot(chain.Shard.ChallengeWindow) * spe
	claimed := make(map[receiptKey]bool)
	inbox := make(map[[2]types.Shard]uint64)
	for s, c := range sr.Chains {
		for i, b := range c.Blocks {
			ref := c.BeaconSlots[i]
			for _, cl := range b.Body.Claims {
				r := cl.Receipt
				k := receiptKey{r.SrcShard, r.DstShard, r.Nonce}
				switch want, ok := receipts[k]; {
				case r.DstShard != types.Shard(s):
					t.Fatalf("shard %d claimed a receipt for shard %d", s, r.DstShard)
				case !ok || want != r:
					t.Fatalf("shard %d slot %d claims %+v, which no canonical block sent (%+v)", s, b.Slot, r, want)
				case claimed[k]:
					t.Fatalf("receipt %+v claimed twice", k)
				case inbox[[2]types.Shard{r.SrcShard, r.DstShard}] != r.Nonce:
					t.Fatalf("receipt %+v claimed out of order", k)
				case ref < back:
					t.Fatalf("receipt %+v claimed in a block referencing slot %d, before the chain is a window old", k, ref)
				case len(cl.Crosslinks) == 0 || cl.WindowIndex >= uint64(len(cl.Crosslinks)):
					t.Fatalf("receipt %+v claimed with window index %d of a chain of %d", k, cl.WindowIndex, len(cl.Crosslinks))
				case *cl.Crosslinks[cl.WindowIndex] != sr.CurrentCrosslinks[ref-back][r.SrcShard]:
					t.Fatalf("receipt %+v claimed in a block referencing slot %d: crosslinks[%d] was not shard %d's current crosslink at the window slot %d",
						k, ref, cl.WindowIndex, r.SrcShard, ref-back)
				case !wasWritten(writtenAt, *cl.Crosslinks[0], ref-back):
					t.Fatalf("receipt %+v claimed in a block referencing slot %d: its crosslink %+v was not written by the window slot %d",
						k, ref, *cl.Crosslinks[0], ref-back)
				case !headers[cl.Header.SigningRoot()]:
					t.Fatalf("receipt %+v claimed with a header that is not canonical", k)
				case cl.Header.SigningRoot() == notFrom:
					t.Fatalf("a receipt of the fraudulent block was claimed")
				}
				claimed[k] = true
				inbox[[2]types.Shard{r.SrcShard, r.DstShard}]++
			}
		}
	}
	var total, unclaimed uint64
	for _, c := range sr.Chains {
		for _, a := range c.Head.Accounts {
			total += uint64(a.Balance)
		}
	}
	for k, r := range receipts {
		if !claimed[k] {
			unclaimed += uint64(r.Amount)
		}
	}
	genesis := uint64(len(sr.Chains)) * chain.Shard.Accounts * chain.Shard.GenesisBalance
	if total+unclaimed != genesis {
		t.Fatalf("balances %d + unclaimed %d != genesis total %d", total, unclaimed, genesis)
	}
	sum := sr.Summary
	if sum.ReceiptsSent != uint64(len(receipts)) || sum.ReceiptsClaimed != uint64(len(claimed)) || !sum.ConservationOK {
		t.Fatalf("summary %+v, derived %d receipts, %d claimed", sum, len(receipts), len(claimed))
	}
	return receipts, claimed
}

// wasWritten reports whether crosslink c was a current crosslink of the
// canonical beacon state at some slot at or before slot.
func wasWritten(writtenAt map[types.Crosslink]types.Slot, c types.Crosslink, slot types.Slot) bool {
	w, ok := writtenAt[c]
	return ok && w <= slot
}

// TestShardRunInvariants runs the shard layer with several seeds, one at
// 90% participation, and checks the invariants, that every shard was
// crosslinked, every receipt sent before the last four epochs claimed, and
// the chain finalized.
func TestShardRunInvariants(t *testing.T) {
	t.Parallel()
	for _, seed := range []uint64{1, 2, 3} {
		cfg := shardConfig(seed, 7)
		if seed == 3 {
			cfg.Participation = 0.9
		}
		res := runSim(t, cfg)
		receipts, claimed := checkShardInvariants(t, cfg, res, types.Root{})
		sum := res.Shard.Summary
		t.Logf("seed %d: %s", seed, &sum)
		if len(receipts) < 1000 || len(claimed) < len(receipts)/3 {
			t.Errorf("seed %d: %d receipts, %d claimed", seed, len(receipts), len(claimed))
		}
		if sum.ShardsCrosslinked != 8 || sum.SentBeforeLastEpochs == 0 || sum.ClaimedBeforeLastEpochs != sum.SentBeforeLastEpochs {
			t.Errorf("seed %d: summary %+v", seed, sum)
		}
		if sum.FinalizedEpoch < cfg.Epochs-3 || sum.MissedSlots != 0 || sum.FraudProofs != 0 || len(sum.Slashed) != 0 {
			t.Errorf("seed %d: summary %+v", seed, sum)
		}
		// Every slot has a block on every shard, and every transaction
		// made it into one.
		for s, c := range res.Shard.Chains {
			if len(c.Blocks) != int(cfg.Epochs*8-1) {
				t.Errorf("seed %d: shard %d has %d blocks", seed, s, len(c.Blocks))
			}
		}
		if want := uint64(cfg.TxRate * 6 * float64(cfg.Epochs*8-1)); sum.Transactions != want {
			t.Errorf("seed %d: %d transactions, want %d", seed, sum.Transactions, want)
		}
		for _, r := range res.Reports {
			if r.Shard == nil || !r.Shard.ConservationOK || len(r.Shard.Shards) != 8 {
				t.Fatalf("seed %d: report %s", seed, r)
			}
		}
	}
}

// TestShardFraud runs the fraud scenario: a shard block with a wrong state
// root at slot 20 (epoch 2), crosslinked by the shard's committee of epoch
// 3. The shard handler's fisherman proves it at once (the proof lands at
// slot 22, slashing the proposer) and, after epoch 3 wrote the crosslink,
// at the start of epoch 4 with the votes as evidence (slashing the voters,
// rolling the crosslink back). The run is
// also written and replayed, fraud proofs included.
func TestShardFraud(t *testing.T) {
	t.Parallel()
	cfg := shardConfig(4, 7)
	cfg.FraudAt = 20
	cfg.OutDir = filepath.Join(t.TempDir(), "case")
	res := runSim(t, cfg)
	f := res.Shard.Summary.Fraud
	if f == nil {
		t.Fatal("no fraud report")
	}
	t.Logf("%s", &res.Shard.Summary)
	// The block is not part of shard 0's chain.
	for _, b := range res.Shard.Chains[0].Blocks {
		if b.Slot == 20 {
			t.Fatal("shard 0 has a block at the fraud slot")
		}
	}
	// Every shard has a block at every slot but those of slashed
	// proposers; shard 0 also lacks the fraudulent one.
	missed := 0
	for s, c := range res.Shard.Chains {
		want := int(cfg.Epochs*8-1) - len(c.Missed)
		if s == 0 {
			want--
		}
		if len(c.Blocks) != want {
			t.Errorf("shard %d: %d blocks, %d slots missed", s, len(c.Blocks), len(c.Missed))
		}
		missed += len(c.Missed)
	}
	if missed != res.Shard.Summary.ShardSlotsMissed {
		t.Errorf("%d shard slots missed, summary says %d", missed, res.Shard.Summary.ShardSlotsMissed)
	}
	rootBytes, err := hex.DecodeString(strings.TrimPrefix(f.BlockRoot, "0x"))
	if err != nil || len(rootBytes) != 32 {
		t.Fatalf("block root %q: %v", f.BlockRoot, err)
	}
	checkShardInvariants(t, cfg, res, types.Root(rootBytes))
	if f.ReceiptsClaimed != 0 || f.Receipts == 0 {
		t.Errorf("the fraudulent block's %d receipts were claimed %d times", f.Receipts, f.ReceiptsClaimed)
	}
	cc := f.ComplicitCrosslink
	if f.ComplicitSlot/8 != 3 || len(f.ComplicitAttesters) == 0 || !f.CrosslinkWritten || cc == nil ||
		cc.Shard != 0 || cc.StartEpoch > 2 || cc.EndEpoch != 3 || len(f.IncludedSlots) == 0 {
		t.Fatalf("complicit vote: %+v", f)
	}
	if len(f.Proofs) != 2 {
		t.Fatalf("%d proofs: %+v", len(f.Proofs), f.Proofs)
	}
	// The shard handler's fisherman builds the first proof when the block
	// arrives (slot 20) and submits it once the beacon head is past the
	// block's beacon reference (slot 21's block): the block of slot 22
	// includes it.
	p1, p2 := f.Proofs[0], f.Proofs[1]
	if p1.Kind != "proposer" || p1.Built != 20 || p1.Landed != 22 || !slices.Equal(p1.Slashed, []uint64{f.Proposer}) || p1.Rollback != nil {
		t.Errorf("first proof %+v", p1)
	}
	// Built at the first slot of the epoch after the one that included the
	// votes (so after the epoch processing that wrote the crosslink), at
	// the handler's slot start, after that slot's beacon block; submitted
	// at the next beacon block, included in the one after.
	included := f.IncludedSlots[len(f.IncludedSlots)-1]
	if p2.Kind != "crosslinkers" || p2.Built/8 != included/8+1 || p2.Built%8 != 0 || p2.Landed != p2.Built+2 || p2.Evidence == 0 || p2.Rollback == nil {
		t.Errorf("second proof %+v (votes included at %v)", p2, f.IncludedSlots)
	}
	// Every complicit attester is slashed by the second proof (the
	// proposer, if it was one of them, by the first), the fisherman is
	// not, and nobody else is.
	want := slices.Clone(f.ComplicitAttesters)
	want = append(want, f.Proposer)
	slices.Sort(want)
	want = slices.Compact(want)
	got := append(slices.Clone(p1.Slashed), p2.Slashed...)
	slices.Sort(got)
	if !slices.Equal(got, want) || !slices.Equal(res.Shard.Summary.Slashed, want) {
		t.Errorf("slashed %v (state: %v), want %v", got, res.Shard.Summary.Slashed, want)
	}
	if slices.Contains(want, f.Fisherman) {
		t.Errorf("the fisherman %d was slashed", f.Fisherman)
	}
	// The rollback went from the complicit crosslink back to its parent;
	// the shard was crosslinked again since.
	if rb := p2.Rollback; rb.From != *cc || rb.Chain != 1 || rb.To.Shard != 0 || rb.To.EndEpoch != cc.StartEpoch {
		t.Errorf("rollback %+v", p2.Rollback)
	}
	if cl := res.Final.CurrentCrosslinks[0]; cl.EndEpoch < 5 {
		t.Errorf("shard 0 is crosslinked only to epoch %d after the rollback", cl.EndEpoch)
	}
	// The rollback landed before the crosslink had been in the state for a
	// whole challenge window, so no claim through it was ever valid; the
	// complicit votes were still pending then (their voters are slashed as
	// the evidence's signers, so the rollback rule finds nobody left).
	w := cfg.ChainConfig().Shard.ChallengeWindow * 8
	if f.WrittenSlot == 0 || f.WindowEnd != f.WrittenSlot+w || f.RollbackLanded != p2.Landed || !f.RollbackInWindow ||
		f.RollbackLanded < f.WrittenSlot || f.RollbackLanded > f.WindowEnd {
		t.Errorf("rollback at slot %d of a crosslink written at slot %d (window end %d, in window %v)",
			f.RollbackLanded, f.WrittenSlot, f.WindowEnd, f.RollbackInWindow)
	}
	if p2.PendingVotes == 0 || len(p2.PendingVoters) != 0 {
		t.Errorf("second proof: %d pending votes for the voided crosslink, voters slashed by the rollback rule %v", p2.PendingVotes, p2.PendingVoters)
	}
	if !res.Shard.Summary.ConservationOK || res.Shard.Summary.ClaimedBeforeLastEpochs != res.Shard.Summary.SentBeforeLastEpochs {
		t.Errorf("summary %+v", res.Shard.Summary)
	}
	// The written case replays: beacon blocks with their fraud proofs,
	// shard blocks against the beacon states they reference.
	chain, err := CaseConfig(cfg.OutDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyCase(core.New(chain), cfg.OutDir); err != nil {
		t.Fatal(err)
	}
}

func TestShardDeterministic(t *testing.T) {
	t.Parallel()
	cfg := shardConfig(7, 3)
	cfg.Participation = 0.9
	a, b := runSim(t, cfg), runSim(t, cfg)
	if diff := cmp.Diff(a.Deterministic(), b.Deterministic()); diff != "" {
		t.Fatalf("same seed, different reports (-first +second):\n%s", diff)
	}
	if a.HeadRoot != b.HeadRoot || !cmp.Equal(a.Shard.Summary, b.Shard.Summary) {
		t.Fatal("same seed, different chains")
	}
	for i := range a.Shard.Chains {
		ra, _ := a.Shard.Chains[i].Head.HashTreeRoot()
		rb, _ := b.Shard.Chains[i].Head.HashTreeRoot()
		if ra != rb {
			t.Fatalf("same seed, shard %d heads differ", i)
		}
	}
	cfg.Seed = 8
	c := runSim(t, cfg)
	if c.HeadRoot == a.HeadRoot || c.Reports[2].Shard.Shards[0].HeadRoot == a.Reports[2].Shard.Shards[0].HeadRoot {
		t.Fatal("different seeds gave the same chain")
	}
}

// TestShardWriteCase writes a shard run and replays it; a tampered shard
// block, beacon block or shard post-state fails the replay.
func TestShardWriteCase(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "case")
	cfg := shardConfig(5, 3)
	cfg.OutDir = dir
	res := runSim(t, cfg)
	meta, err := os.ReadFile(filepath.Join(dir, "meta.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "blocks_count: 23\nbls_setting: 1\nfork: shard\n"; string(meta) != want {
		t.Fatalf("meta.yaml = %q, want %q", meta, want)
	}
	chain, err := CaseConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	if chain.ShardCount != 8 || !chain.Shard.Enabled() {
		t.Fatalf("config.yaml: %d shards, fork epoch %d", chain.ShardCount, chain.Shard.ForkEpoch)
	}
	tr := core.New(chain)
	c, err := ReadCase(tr, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.ShardBeaconBlocks) != res.Blocks || len(c.Shards) != 8 || c.Fork != "shard" {
		t.Fatalf("case: %d blocks, %d shards, fork %q", len(c.ShardBeaconBlocks), len(c.Shards), c.Fork)
	}
	for i, sc := range c.Shards {
		if len(sc.Blocks) != len(res.Shard.Chains[i].Blocks) {
			t.Fatalf("shard %d: %d blocks written, %d made", i, len(sc.Blocks), len(res.Shard.Chains[i].Blocks))
		}
	}
	if err := VerifyCase(tr, dir); err != nil {
		t.Fatal(err)
	}
	// Reading with a different config is refused.
	other := params.Minimal()
	other.ShardCount = 16
	if _, err := ReadCase(core.New(other.WithShards()), dir); err == nil {
		t.Fatal("read an 8-shard case with a 16-shard config")
	}
	tamper := func(name string, fn func([]byte), check func(error) bool) {
		t.Helper()
		path := filepath.Join(dir, name)
		orig, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		bad := bytes.Clone(orig)
		fn(bad)
		if err := os.WriteFile(path, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := VerifyCase(tr, dir); !check(err) {
			t.Errorf("tampered %s: err = %v", name, err)
		}
		if err := os.WriteFile(path, orig, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rejected := func(err error) bool { return err != nil }
	// A shard block's last signature byte, a shard block's first transaction amount.
	tamper("shards/3/blocks_10.ssz", func(b []byte) { b[len(b)-1] ^= 1 }, rejected)
	tamper("shards/3/blocks_10.ssz", func(b []byte) { b[0] ^= 1 }, rejected)
	tamper("blocks_5.ssz", func(b []byte) { b[len(b)-1] ^= 1 }, rejected)
	tamper("shards/6/post.ssz", func(b []byte) { b[len(b)-1] ^= 1 }, func(err error) bool { return errors.Is(err, ErrCaseMismatch) })
	if err := VerifyCase(tr, dir); err != nil {
		t.Fatalf("restored case: %v", err)
	}
}

// TestCrosslinkReportShard: a crosslink is reported for the shard it is
// given, also the genesis crosslink (whose shard field is 0) that a rollback
// of another shard returns to.
func TestCrosslinkReportShard(t *testing.T) {
	tests := []struct {
		name  string
		shard types.Shard
		c     types.Crosslink
	}{
		{"genesis crosslink of shard 3", 3, types.Crosslink{}},
		{"genesis crosslink of shard 0", 0, types.Crosslink{}},
		{"crosslink of shard 5", 5, types.Crosslink{Shard: 5, StartEpoch: 1, EndEpoch: 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := crosslinkReport(tc.shard, tc.c)
			if r.Shard != uint64(tc.shard) || r.StartEpoch != uint64(tc.c.StartEpoch) || r.EndEpoch != uint64(tc.c.EndEpoch) {
				t.Fatalf("report %+v of shard %d's %+v", r, tc.shard, tc.c)
			}
		})
	}
}
