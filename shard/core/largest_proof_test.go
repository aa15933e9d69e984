package core

import (
	"crypto/ed25519"
	"fmt"
	"testing"

	bcore "github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/params"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/beacon/validator"
	"github.com/shardlab/shardlab/crypto/hash"
	st "github.com/shardlab/shardlab/shard/types"
)

// TestLargestFraudProof builds the largest fraud proof the limits allow and
// checks that it fits MAX_SHARD_FRAUD_PROOF_BYTES, so that every invalid
// block can be proven (beacon/params/shard.go).
//
// The config is mainnet's with the shard fork and SHARD_ACCOUNTS = 4096:
// mainnet has the longest fixed branches (CROSSLINK_HEADERS_DEPTH 12, a
// current_crosslinks vector of 1024 shards) and lets the claims come from
// 1023 source shards, which maximises the beacon witness. The block has
//
//   - MAX_SHARD_TRANSACTIONS intra-shard transfers, each touching two
//     accounts no other transfer touches, spread evenly over the account
//     tree (every other account) so that each one's sibling is a witness
//     helper;
//   - MAX_SHARD_CLAIMS claims, round-robin over the 1023 other shards as
//     sources, each through a chain of MAX_CROSSLINK_CHAIN crosslinks,
//     crediting accounts no transfer touches;
//   - a wrong state root.
//
// Two shapes of it are proven and verified:
//
//   - valid claims: every branch has the exact length the rules require, so
//     the whole block executes and the witnesses cover every transfer and
//     every claim (the largest witness);
//   - SSZ-maximal claims: every branch has MAX_MERKLE_BRANCH entries (the
//     largest block); the first claim fails its length check, so the
//     witness covers the transfers only.
//
// The test also checks a bound on any proof of such a block: the SSZ-maximal
// block with the valid shape's witnesses and a rollback of the longest
// chain, which no single proof reaches. Evidence (crosslink attestations)
// is left out: it is optional and may be split over several proofs of the
// same block, each slashing the signers it names (docs/protocol.md §6.6).
// largestVerifier verifies the proofs of TestLargestFraudProof, whose beacon
// states are made up: any genesis root serves.
var largestVerifier = FraudVerifier{GenesisRoot: hash.Hash([]byte("largest fraud proof chain"))}

func TestLargestFraudProof(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and verifies two fraud proofs of full blocks")
	}
	cfg := params.Mainnet().WithShards()
	cfg.Shard.Accounts = largestProofAccounts
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	tr := bcore.New(cfg).WithShardFork(largestVerifier)
	limit := params.MaxShardFraudProofBytes

	valid := buildLargest(t, tr, false)
	maximal := buildLargest(t, tr, true)
	for _, p := range []*largest{valid, maximal} {
		t.Logf("%s: proof %d bytes (%.1f%% of MAX_SHARD_FRAUD_PROOF_BYTES %d): block %d, state witness %d (%d leaves, %d helpers), beacon witness %d (%d leaves, %d helpers)",
			p.name, p.size, 100*float64(p.size)/float64(limit), limit, p.blockSize,
			p.proof.StateWitness.SizeSSZ(), len(p.proof.StateWitness.Indices), len(p.proof.StateWitness.Helpers),
			p.proof.BeaconWitness.SizeSSZ(), len(p.proof.BeaconWitness.Indices), len(p.proof.BeaconWitness.Helpers))
		if p.size > limit {
			t.Errorf("%s: the proof of %d bytes exceeds MAX_SHARD_FRAUD_PROOF_BYTES (%d)", p.name, p.size, limit)
		}
	}
	if maximal.blockSize <= valid.blockSize || valid.witnessSize() <= maximal.witnessSize() {
		t.Errorf("shapes: block %d vs %d bytes, witnesses %d vs %d bytes", maximal.blockSize, valid.blockSize, maximal.witnessSize(), valid.witnessSize())
	}
	// A rollback of the longest chain, its branch at the list limit.
	rb := &st.CrosslinkRollback{HeaderBranch: make([]bt.Root, params.MaxMerkleBranch)}
	for range params.MaxCrosslinkChain {
		rb.Chain = append(rb.Chain, &bt.Crosslink{})
	}
	// Each element of the rollbacks list adds its own size and a 4-byte offset.
	bound := valid.size - valid.blockSize + maximal.blockSize + rb.SizeSSZ() + 4
	t.Logf("bound on any proof of such a block (SSZ-maximal block, full witnesses, a longest rollback): %d bytes (%.1f%%)",
		bound, 100*float64(bound)/float64(limit))
	if bound > limit {
		t.Errorf("the bound of %d bytes exceeds MAX_SHARD_FRAUD_PROOF_BYTES (%d)", bound, limit)
	}
	// For the record: the evidence a single proof could carry at most.
	ia := &st.CrosslinkEvidence{
		Attestation: bt.IndexedAttestation{
			CustodyBit0Indices: make([]uint64, cfg.MaxValidatorsPerCommittee),
			CustodyBit1Indices: make([]uint64, cfg.MaxValidatorsPerCommittee),
		},
		HeaderBranch: make([]bt.Root, params.MaxMerkleBranch),
	}
	t.Logf("evidence at its limits (%d attestations of 2 x %d indices): %d bytes more",
		params.MaxFraudEvidence, cfg.MaxValidatorsPerCommittee, params.MaxFraudEvidence*(ia.SizeSSZ()+4))
}

// largestProofAccounts is SHARD_ACCOUNTS of TestLargestFraudProof. The
// witness grows with the depth at which the touched accounts' paths in the
// account tree part: about 32 bytes per touched account (2,176 of them) and
// level, so a proof of the same block over more accounts is larger.
const largestProofAccounts = 4096

// largest is one built proof.
type largest struct {
	name            string
	proof           *st.ShardFraudProof
	size, blockSize int
}

func (l *largest) witnessSize() int {
	return l.proof.StateWitness.SizeSSZ() + l.proof.BeaconWitness.SizeSSZ()
}

// buildLargest builds, signs, verifies (BLS included) and measures the
// proof of the largest block; maximal pads every claim branch to
// MAX_MERKLE_BRANCH.
func buildLargest(t *testing.T, tr *bcore.Transition, maximal bool) *largest {
	t.Helper()
	cfg := tr.Config()
	spe := bt.Slot(cfg.SlotsPerEpoch)
	keys, err := validator.NewInteropKeys(0, 2)
	if err != nil {
		t.Fatal(err)
	}
	const proposer, fisherman = 0, 1

	// The shard: shard 0's genesis with SHARD_ACCOUNTS accounts, the
	// touched ones stride apart: transfer i moves value from account
	// 2i*stride to account (2i+1)*stride, claim i credits 2i*stride +
	// stride/2. Only the senders need their interop keys.
	stride := cfg.Shard.Accounts / (2 * params.MaxShardTransactions)
	if stride < 2 {
		t.Fatalf("SHARD_ACCOUNTS %d: at least %d are needed", cfg.Shard.Accounts, 4*params.MaxShardTransactions)
	}
	pubkeys := make([][32]byte, cfg.Shard.Accounts)
	for i := range uint64(params.MaxShardTransactions) {
		copy(pubkeys[2*i*stride][:], AccountKey(0, 2*i*stride).Public().(ed25519.PublicKey))
	}
	pre, err := st.GenesisState(cfg, 0, pubkeys)
	if err != nil {
		t.Fatal(err)
	}
	parent, err := GenesisHeader(pre)
	if err != nil {
		t.Fatal(err)
	}

	// The beacon state the block references, with the claims' crosslink
	// chains and the state of the window slot recorded in state_roots.
	beacon := bt.NewBeaconState(cfg)
	for i := range uint64(2) {
		pk, _ := keys.Pubkey(i)
		beacon.Validators = append(beacon.Validators, bt.Validator{Pubkey: pk, EffectiveBalance: bt.Gwei(cfg.MaxEffectiveBalance),
			ExitEpoch: bt.Epoch(params.FarFutureEpoch), WithdrawableEpoch: bt.Epoch(params.FarFutureEpoch)})
		beacon.Balances = append(beacon.Balances, bt.Gwei(cfg.MaxEffectiveBalance))
	}
	beacon.Slot = bt.Slot(params.MaxCrosslinkChain+1+int(cfg.Shard.ChallengeWindow)) * spe
	ws, ok := WindowSlot(cfg, beacon.Slot)
	if !ok {
		t.Fatal("no window slot")
	}
	// Claims spread over every other shard as source (all 1023 on
	// mainnet), round-robin: source k's block emits the receipts of its
	// claims, with consecutive nonces, and one chain of crosslinks leads
	// from it to the source's current crosslink.
	nsrc := min(params.MaxShardClaims, int(cfg.ShardCount)-1)
	srcReceipts := make([][]st.Receipt, nsrc)
	for i := range params.MaxShardClaims {
		k := i % nsrc
		srcReceipts[k] = append(srcReceipts[k], st.Receipt{SrcShard: bt.Shard(k + 1), DstShard: 0, Nonce: uint64(len(srcReceipts[k])),
			SrcSlot: 1, Sender: 7, Recipient: 2*uint64(i)*stride + stride/2, Amount: 1})
	}
	claimsOf := make([][]*st.ReceiptClaim, nsrc)
	for k := range nsrc {
		src := bt.Shard(k + 1)
		rr, err := st.ReceiptsRoot(srcReceipts[k])
		if err != nil {
			t.Fatal(err)
		}
		h := st.ShardBlockHeader{Slot: 1, Shard: src, ProposerIndex: 5, ReceiptsRoot: rr,
			StateRoot: hash.Hash(fmt.Appendf(nil, "state of shard %d", src))}
		roots := []bt.Root{h.SigningRoot()}
		dataRoot, err := CrosslinkDataRoot(cfg, roots)
		if err != nil {
			t.Fatal(err)
		}
		chain := make([]*bt.Crosslink, params.MaxCrosslinkChain)
		prev := beacon.CurrentCrosslinks[src].TreeRoot()
		for j := range chain {
			c := &bt.Crosslink{Shard: src, ParentRoot: prev, StartEpoch: bt.Epoch(j), EndEpoch: bt.Epoch(j + 1),
				DataRoot: hash.Hash(fmt.Appendf(nil, "data of shard %d epoch %d", src, j))}
			if j == 0 {
				c.DataRoot = dataRoot
			}
			chain[j], prev = c, c.TreeRoot()
		}
		beacon.CurrentCrosslinks[src] = *chain[len(chain)-1]
		hb, err := HeaderProof(cfg, roots, 0)
		if err != nil {
			t.Fatal(err)
		}
		for j, r := range srcReceipts[k] {
			rb, err := st.ReceiptProof(srcReceipts[k], j)
			if err != nil {
				t.Fatal(err)
			}
			claimsOf[k] = append(claimsOf[k], &st.ReceiptClaim{Receipt: r, ReceiptIndex: uint64(j), ReceiptBranch: rb,
				Header: h, HeaderBranch: hb, Crosslinks: chain})
		}
	}
	// Every chain's current crosslink was already current at the window slot.
	window := beacon.Copy()
	window.Slot = ws
	wroot, err := window.HashTreeRoot()
	if err != nil {
		t.Fatal(err)
	}
	beacon.StateRoots[uint64(ws)%cfg.SlotsPerHistoricalRoot] = wroot
	// In the block's order: claim i is source i mod nsrc's (i / nsrc)-th.
	var claims []*st.ReceiptClaim
	for i := range params.MaxShardClaims {
		c := claimsOf[i%nsrc][i/nsrc]
		c.WindowIndex, c.WindowBranch, err = WindowProof(cfg, window, c.Receipt.SrcShard, c.Crosslinks)
		if err != nil {
			t.Fatal(err)
		}
		if maximal {
			pad := func(b []bt.Root) []bt.Root { return append(b, make([]bt.Root, params.MaxMerkleBranch-len(b))...) }
			c.ReceiptBranch, c.HeaderBranch, c.WindowBranch = pad(c.ReceiptBranch), pad(c.HeaderBranch), pad(c.WindowBranch)
		}
		claims = append(claims, c)
	}
	bstate, err := beacon.HashTreeRoot()
	if err != nil {
		t.Fatal(err)
	}
	bh := bt.BeaconBlockHeader{Slot: beacon.Slot, ParentRoot: hash.Hash([]byte("parent")), StateRoot: bstate,
		BodyRoot: hash.Hash([]byte("body"))}

	// The block.
	var txs []*st.Transaction
	for i := range uint64(params.MaxShardTransactions) {
		tx := &st.Transaction{Shard: 0, From: 2 * i * stride, Nonce: 0, ToShard: 0, To: (2*i + 1) * stride, Amount: 1}
		SignTx(largestVerifier.TxDomain(cfg), tx, AccountKey(0, tx.From))
		txs = append(txs, tx)
	}
	b := &st.ShardBlock{Slot: beacon.Slot, Shard: 0, ProposerIndex: proposer, ParentRoot: parent.SigningRoot(),
		BeaconBlockRoot: bh.SigningRoot(), Body: st.ShardBlockBody{Transactions: txs, Claims: claims}}
	post := pre.Copy()
	receipts, err := ExecuteBlock(cfg, FullView{S: post}, FullBeaconView{S: beacon}, b, ExecOptions{TxDomain: largestVerifier.TxDomain(cfg)})
	switch {
	case maximal && err == nil:
		t.Fatal("the block with padded branches executes")
	case !maximal && err != nil:
		t.Fatalf("the block with valid claims fails: %v", err)
	case !maximal:
		if b.StateRoot, err = post.HashTreeRoot(); err != nil {
			t.Fatal(err)
		}
		if b.ReceiptsRoot, err = st.ReceiptsRoot(receipts); err != nil {
			t.Fatal(err)
		}
	}
	b.StateRoot[0] ^= 1
	sk, _ := keys.SecretKey(proposer)
	if err := SignBlock(tr, b, sk); err != nil {
		t.Fatal(err)
	}
	if got := len(b.Body.Transactions); got != params.MaxShardTransactions || len(b.Body.Claims) != params.MaxShardClaims {
		t.Fatalf("block of %d transactions and %d claims", got, len(b.Body.Claims))
	}

	fsk, _ := keys.SecretKey(fisherman)
	p, err := largestVerifier.BuildFraudProof(tr, pre, &parent, b, &bh, beacon, FraudEvidence{}, fisherman, fsk)
	if err != nil {
		t.Fatal(err)
	}
	data, err := p.MarshalSSZ()
	if err != nil {
		t.Fatal(err)
	}
	// The beacon state that verifies it knows the referenced block.
	v := beacon.Copy()
	v.Slot = beacon.Slot + 1
	v.BlockRoots[uint64(beacon.Slot)%cfg.SlotsPerHistoricalRoot] = b.BeaconBlockRoot
	verdict, err := largestVerifier.VerifyFraudProof(tr, v, data, bcore.VerifySigs)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if len(verdict.Offenders) != 1 || verdict.Offenders[0] != proposer {
		t.Fatalf("verdict %+v", verdict)
	}
	name := "valid claims"
	if maximal {
		name = "SSZ-maximal claims"
	}
	return &largest{name: name, proof: p, size: len(data), blockSize: b.SizeSSZ()}
}
