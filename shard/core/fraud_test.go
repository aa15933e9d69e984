package core

import (
	"errors"
	"testing"

	bcore "github.com/shardlab/shardlab/beacon/core"
	bt "github.com/shardlab/shardlab/beacon/types"
	"github.com/shardlab/shardlab/crypto/bls"
	st "github.com/shardlab/shardlab/shard/types"
)

// fraudSetup builds a block of shard 0 at slot 1 with a wrong state root,
// signed by its proposer, and a beacon state a few slots later that knows the
// genesis beacon block.
func fraudSetup(t *testing.T, f *fixture, corrupt func(b *st.ShardBlock)) (*st.ShardBlock, *bt.BeaconState) {
	t.Helper()
	txs := []*st.Transaction{f.tx(t, 0, 1, 0, 0, 2, 1000), f.tx(t, 0, 3, 0, 1, 4, 77)}
	sk := f.proposerKey(t, 0, 1)
	built, err := BuildBlock(f.tr, f.ctx(0), f.shards[0], 1, txs, nil, sk, f.opts)
	if err != nil {
		t.Fatal(err)
	}
	b := built.Block
	corrupt(b)
	if err := SignBlock(f.tr, b, sk); err != nil {
		t.Fatal(err)
	}
	v := f.beacon.Copy()
	if err := f.tr.ProcessSlots(v, 3); err != nil {
		t.Fatal(err)
	}
	return b, v
}

// whistleblower is the fisherman's validator: never the block's proposer.
func whistleblower(b *st.ShardBlock) bt.ValidatorIndex { return (b.ProposerIndex + 1) % 64 }

func (f *fixture) prove(t *testing.T, b *st.ShardBlock, ev FraudEvidence) []byte {
	t.Helper()
	wb := whistleblower(b)
	sk, _ := f.keys.SecretKey(uint64(wb))
	p, err := f.fv.BuildFraudProof(f.tr, f.shards[0], &f.genesis[0], b, &f.beaconHdr, f.beacon, ev, wb, sk)
	if err != nil {
		t.Fatal(err)
	}
	data, err := p.MarshalSSZ()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestFraudProofWrongStateRoot(t *testing.T) {
	f := newFixture(t)
	b, v := fraudSetup(t, f, func(b *st.ShardBlock) { b.StateRoot[3] ^= 0xff })
	data := f.prove(t, b, FraudEvidence{})
	verdict, err := f.fv.VerifyFraudProof(f.tr, v, data, bcore.VerifySigs)
	if err != nil {
		t.Fatal(err)
	}
	if verdict.Shard != 0 || len(verdict.Offenders) != 1 || verdict.Offenders[0] != b.ProposerIndex || verdict.Whistleblower != whistleblower(b) || verdict.Rollback != nil {
		t.Fatalf("verdict %+v", verdict)
	}
	// Applied by the beacon chain: the proposer is slashed, with the
	// whistleblower rewarded; the same proof again is rejected.
	st1 := v.Copy()
	if err := f.tr.ProcessShardFraudProof(st1, data, bcore.VerifySigs); err != nil {
		t.Fatal(err)
	}
	wb := whistleblower(b)
	if !st1.Validators[b.ProposerIndex].Slashed || st1.Balances[wb] <= v.Balances[wb] {
		t.Fatalf("proposer %d slashed %v; whistleblower balance %d -> %d", b.ProposerIndex, st1.Validators[b.ProposerIndex].Slashed, v.Balances[wb], st1.Balances[wb])
	}
	if err := f.tr.ProcessShardFraudProof(st1, data, bcore.VerifySigs); !errors.Is(err, bcore.ErrInvalid) {
		t.Fatalf("second proof of the same offence: %v", err)
	}
}

func TestFraudProofWrongReceiptsRoot(t *testing.T) {
	f := newFixture(t)
	b, v := fraudSetup(t, f, func(b *st.ShardBlock) { b.ReceiptsRoot[0] ^= 1 })
	if _, err := f.fv.VerifyFraudProof(f.tr, v, f.prove(t, b, FraudEvidence{}), bcore.VerifySigs); err != nil {
		t.Fatal(err)
	}
}

func TestFraudProofInvalidTransaction(t *testing.T) {
	f := newFixture(t)
	// A transaction whose signature is broken makes the block invalid; its
	// roots are those of the honest execution without it, so only the
	// re-execution can tell.
	b, v := fraudSetup(t, f, func(b *st.ShardBlock) { b.Body.Transactions[0].Signature[0] ^= 1 })
	if _, err := f.fv.VerifyFraudProof(f.tr, v, f.prove(t, b, FraudEvidence{}), bcore.VerifySigs); err != nil {
		t.Fatal(err)
	}
}

// TestFraudProofThroughCaches verifies the invalid-transaction proof with
// the BLS checks through a warm cache: the proof's signatures hit, and the
// re-execution still checks every transaction signature (the verifier's
// execution options carry no transaction cache).
func TestFraudProofThroughCaches(t *testing.T) {
	f := newFixture(t)
	b, v := fraudSetup(t, f, func(b *st.ShardBlock) { b.Body.Transactions[0].Signature[0] ^= 1 })
	proof := f.prove(t, b, FraudEvidence{})
	sigs := bcore.VerifySigs.WithCache(bls.NewVerifyCache(64))
	for i := 0; i < 2; i++ {
		if _, err := f.fv.VerifyFraudProof(f.tr, v, proof, sigs); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
	if hits := sigs.Cache().Stats().Hits; hits == 0 {
		t.Fatal("the second verification hit no cached signature")
	}
	opts, err := f.fv.execOptions(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if opts.TxCache != nil || opts.SkipTxSignatures {
		t.Fatal("fraud-proof re-execution does not verify every transaction signature")
	}
}

func TestFraudProofRejections(t *testing.T) {
	f := newFixture(t)
	honest, v := fraudSetup(t, f, func(*st.ShardBlock) {})
	if _, err := f.fv.BuildFraudProof(f.tr, f.shards[0], &f.genesis[0], honest, &f.beaconHdr, f.beacon, FraudEvidence{}, 5, nil); !errors.Is(err, ErrInvalidFraudProof) {
		t.Fatalf("proof of an honest block built: %v", err)
	}
	bad, _ := fraudSetup(t, f, func(b *st.ShardBlock) { b.StateRoot[0] ^= 1 })
	good := f.prove(t, bad, FraudEvidence{})
	var proof st.ShardFraudProof
	if err := bt.Decode(&proof, good); err != nil {
		t.Fatal(err)
	}
	mutate := func(fn func(p *st.ShardFraudProof)) []byte {
		var p st.ShardFraudProof
		_ = bt.Decode(&p, good)
		fn(&p)
		sk, _ := f.keys.SecretKey(uint64(p.Whistleblower) % 64)
		_ = SignFraudProof(f.tr, &p, sk)
		data, _ := p.MarshalSSZ()
		return data
	}
	cases := map[string][]byte{
		"garbage":              {1, 2, 3},
		"empty":                nil,
		"honest block":         mutate(func(p *st.ShardFraudProof) { p.Block = *honest }),
		"wrong parent":         mutate(func(p *st.ShardFraudProof) { p.ParentHeader.Slot++ }),
		"missing witness leaf": mutate(func(p *st.ShardFraudProof) { dropLeaf(p) }),
		"tampered witness":     mutate(func(p *st.ShardFraudProof) { p.StateWitness.Helpers[0][0] ^= 1 }),
		"wrong beacon header":  mutate(func(p *st.ShardFraudProof) { p.BeaconHeader.Slot++ }),
		"forged proposer sig":  mutate(func(p *st.ShardFraudProof) { p.Block.Signature[9] ^= 1 }),
		"unsigned":             func() []byte { p := proof; p.Signature = bt.BLSSignature{}; d, _ := p.MarshalSSZ(); return d }(),
		"whistleblower range":  mutate(func(p *st.ShardFraudProof) { p.Whistleblower = 1000 }),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := f.fv.VerifyFraudProof(f.tr, v, data, bcore.VerifySigs)
			if !errors.Is(err, ErrInvalidFraudProof) {
				t.Fatalf("accepted or wrong error class: %v", err)
			}
		})
	}
	// A beacon state that no longer knows the beacon block cannot verify it.
	far := v.Copy()
	if err := f.tr.ProcessSlots(far, bt.Slot(f.cfg.SlotsPerHistoricalRoot+1)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.fv.VerifyFraudProof(f.tr, far, good, bcore.VerifySigs); !errors.Is(err, ErrInvalidFraudProof) {
		t.Fatalf("proof against a forgotten beacon block: %v", err)
	}
}

// dropLeaf removes the witness of the block's first account write.
func dropLeaf(p *st.ShardFraudProof) {
	w := &p.StateWitness
	last := len(w.Indices) - 1
	w.Indices, w.Leaves = w.Indices[:last], w.Leaves[:last]
}

// TestFraudProofCrosslinkers crosslinks the bad block, with a signed
// attestation of its committee, and proves it with that evidence and the
// crosslink chain: the attesters are slashed too and the crosslink rolls back.
func TestFraudProofCrosslinkers(t *testing.T) {
	f := newFixture(t)
	b, v := fraudSetup(t, f, func(b *st.ShardBlock) { b.StateRoot[1] ^= 1 })
	header, _ := b.Header()
	roots := []bt.Root{header.SigningRoot()}
	dataRoot, _ := CrosslinkDataRoot(f.cfg, roots)
	parent := v.CurrentCrosslinks[0]
	cl := bt.Crosslink{Shard: 0, ParentRoot: parent.TreeRoot(), StartEpoch: 0, EndEpoch: 1, DataRoot: dataRoot}
	v.CurrentCrosslinks[0] = cl
	// The attestation that crosslinked it: signed by four validators.
	data := bt.AttestationData{Target: bt.Checkpoint{Epoch: 0}, Crosslink: cl}
	ia := bt.IndexedAttestation{CustodyBit0Indices: []uint64{10, 11, 12, 13}, Data: data}
	msg := (&bt.AttestationDataAndCustodyBit{Data: data}).TreeRoot()
	domain := f.tr.Domain(v, f.cfg.DomainAttestation, 0)
	var sum *bls.SecretKey
	for _, i := range ia.CustodyBit0Indices {
		sk, _ := f.keys.SecretKey(i)
		sig := sk.Sign(msg, domain)
		if sum == nil {
			agg := bls.AggregateSignatures([]*bls.Signature{sig})
			ia.Signature = bt.BLSSignature(agg.Bytes())
			sum = sk
			continue
		}
		prev, _ := bls.SignatureFromBytes(ia.Signature[:])
		ia.Signature = bt.BLSSignature(bls.AggregateSignatures([]*bls.Signature{prev, sig}).Bytes())
	}
	hb, _ := HeaderProof(f.cfg, roots, 0)
	ev := FraudEvidence{
		Attestations: []*st.CrosslinkEvidence{{Attestation: ia, HeaderIndex: 0, HeaderBranch: hb}},
		Rollback:     &st.CrosslinkRollback{Parent: parent, Chain: []*bt.Crosslink{&cl}, HeaderIndex: 0, HeaderBranch: hb},
	}
	proof := f.prove(t, b, ev)
	s1 := v.Copy()
	if err := f.tr.ProcessShardFraudProof(s1, proof, bcore.VerifySigs); err != nil {
		t.Fatal(err)
	}
	for _, i := range append([]uint64{uint64(b.ProposerIndex)}, ia.CustodyBit0Indices...) {
		if !s1.Validators[i].Slashed {
			t.Errorf("validator %d not slashed", i)
		}
	}
	if s1.CurrentCrosslinks[0] != parent || s1.PreviousCrosslinks[0] != parent {
		t.Errorf("crosslink not rolled back")
	}
	// The receipts of the rolled-back block can no longer be claimed: the
	// crosslink chain from its crosslink does not reach the current one.
	if err := verifyCrosslinkChain([]*bt.Crosslink{&cl}, 0, s1.CurrentCrosslinks[0]); err == nil {
		t.Errorf("the fraudulent crosslink still reaches the current crosslink")
	}
	// Evidence with a forged attestation signature is rejected.
	bad := ev
	forged := *ev.Attestations[0]
	forged.Attestation.CustodyBit0Indices = []uint64{10, 11, 12, 14}
	bad.Attestations = []*st.CrosslinkEvidence{&forged}
	if _, err := f.fv.VerifyFraudProof(f.tr, v, f.prove(t, b, bad), bcore.VerifySigs); !errors.Is(err, ErrInvalidFraudProof) {
		t.Errorf("forged crosslink evidence accepted: %v", err)
	}
}

// TestEmptyBeaconWitness: a beacon witness is empty only when it has no
// indices, leaves or helpers; leaves alone (a malleated empty witness) are
// rejected instead of ignored.
func TestEmptyBeaconWitness(t *testing.T) {
	t.Parallel()
	v, err := NewWitnessBeaconView(&st.Multiproof{}, bt.Root{1}, 5, 8, 64)
	if err != nil || v.P != nil {
		t.Fatalf("empty witness: %v, partial tree %v", err, v)
	}
	if _, err := v.CurrentCrosslink(0); !errors.Is(err, ErrMissingWitness) {
		t.Fatalf("crosslink read from an empty witness: %v", err)
	}
	for name, w := range map[string]*st.Multiproof{
		"leaves only":  {Leaves: []bt.Root{{1}}},
		"helpers only": {Helpers: []bt.Root{{1}}},
		"indices only": {Indices: []uint64{2}},
	} {
		if _, err := NewWitnessBeaconView(w, bt.Root{1}, 5, 8, 64); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
