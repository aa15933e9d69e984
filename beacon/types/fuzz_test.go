package types

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/shardlab/shardlab/beacon/params"
)

// Every decoder is fuzzed: decoding arbitrary bytes never panics, and what
// decodes re-encodes to the same bytes and hashes without error.

// seedCorpus adds the ssz_static vectors of a container, when present.
func seedCorpus(f *testing.F, name string) {
	if dir := os.Getenv("SPEC_TESTS_DIR"); dir != "" {
		files, _ := filepath.Glob(filepath.Join(dir, "tests", "minimal", "phase0", "ssz_static", name, "*", "case_[0-4]", "serialized.ssz"))
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte{})
	f.Add(make([]byte, 8))
}

func fuzzCodec[T any, P interface {
	*T
	Codec
	HashTreeRoot() ([32]byte, error)
}](f *testing.F, name string) {
	seedCorpus(f, name)
	f.Fuzz(func(t *testing.T, data []byte) {
		v := P(new(T))
		if err := Decode(v, data); err != nil {
			return
		}
		out, err := v.MarshalSSZ()
		if err != nil || !bytes.Equal(out, data) {
			t.Fatalf("decoded value does not re-encode to the input: %v", err)
		}
		if _, err := v.HashTreeRoot(); err != nil {
			t.Fatalf("decoded value does not hash: %v", err)
		}
	})
}

func FuzzBeaconBlock(f *testing.F)        { fuzzCodec[BeaconBlock](f, "BeaconBlock") }
func FuzzBeaconBlockHeader(f *testing.F)  { fuzzCodec[BeaconBlockHeader](f, "BeaconBlockHeader") }
func FuzzAttestation(f *testing.F)        { fuzzCodec[Attestation](f, "Attestation") }
func FuzzAttesterSlashing(f *testing.F)   { fuzzCodec[AttesterSlashing](f, "AttesterSlashing") }
func FuzzProposerSlashing(f *testing.F)   { fuzzCodec[ProposerSlashing](f, "ProposerSlashing") }
func FuzzVoluntaryExit(f *testing.F)      { fuzzCodec[VoluntaryExit](f, "VoluntaryExit") }
func FuzzDeposit(f *testing.F)            { fuzzCodec[Deposit](f, "Deposit") }
func FuzzValidator(f *testing.F)          { fuzzCodec[Validator](f, "Validator") }
func FuzzPendingAttestation(f *testing.F) { fuzzCodec[PendingAttestation](f, "PendingAttestation") }
func FuzzIndexedAttestation(f *testing.F) { fuzzCodec[IndexedAttestation](f, "IndexedAttestation") }
func FuzzCompactCommittee(f *testing.F)   { fuzzCodec[CompactCommittee](f, "CompactCommittee") }
func FuzzAttestationDataAndCustodyBit(f *testing.F) {
	fuzzCodec[AttestationDataAndCustodyBit](f, "AttestationDataAndCustodyBit")
}

func FuzzBeaconState(f *testing.F) {
	cfg := params.Minimal()
	seedCorpus(f, "BeaconState")
	st := NewBeaconState(cfg)
	st.Validators = []Validator{{ExitEpoch: FarFutureEpoch}}
	st.Balances = []Gwei{32}
	st.CurrentEpochAttestations = []PendingAttestation{{AggregationBits: []byte{0x03}}}
	if b, err := st.MarshalSSZ(); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := UnmarshalBeaconState(cfg, data)
		if err != nil {
			return
		}
		out, err := s.MarshalSSZ()
		if err != nil || !bytes.Equal(out, data) {
			t.Fatalf("decoded state does not re-encode to the input: %v", err)
		}
		r1, err := s.HashTreeRoot()
		if err != nil {
			t.Fatalf("decoded state does not hash: %v", err)
		}
		c := s.Copy()
		c.DropCache()
		if r2, _ := c.HashTreeRoot(); r1 != r2 {
			t.Fatalf("cached and fresh roots differ")
		}
	})
}

// FuzzDecodeBlock checks that DecodeBlock, the decoder of blocks from peers
// and from the store, never panics and that what it accepts re-encodes to
// the input and hashes. The shard fork starts at epoch 1, so that inputs
// decode as either kind.
func FuzzDecodeBlock(f *testing.F) {
	cfg := params.Minimal()
	cfg.Shard.ForkEpoch = 1
	seedCorpus(f, "BeaconBlock")
	for _, b := range []AnyBlock{
		&BeaconBlock{Slot: 1},
		&ShardBeaconBlock{Slot: Slot(cfg.SlotsPerEpoch), Body: ShardBeaconBlockBody{ShardFraudProofs: [][]byte{{1, 2, 3}, {}}}},
	} {
		buf, err := b.MarshalSSZ()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(buf)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := DecodeBlock(cfg, data)
		if err != nil {
			if !errors.Is(err, ErrInvalidSSZ) {
				t.Fatalf("error does not wrap ErrInvalidSSZ: %v", err)
			}
			return
		}
		if _, shard := b.(*ShardBeaconBlock); shard != ShardForkAtSlot(cfg, b.GetSlot()) {
			t.Fatalf("decoded a %T at slot %d", b, b.GetSlot())
		}
		out, err := b.MarshalSSZ()
		if err != nil || !bytes.Equal(out, data) {
			t.Fatalf("decoded block does not re-encode to the input: %v", err)
		}
		if _, err := b.SigningRoot(); err != nil {
			t.Fatalf("decoded block does not hash: %v", err)
		}
	})
}
