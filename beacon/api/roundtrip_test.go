package api_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"

	ssz "github.com/ferranbt/fastssz"
	"github.com/google/go-cmp/cmp"

	"github.com/shardlab/shardlab/beacon/api"
	"github.com/shardlab/shardlab/beacon/api/apitest"
	"github.com/shardlab/shardlab/beacon/types"
)

// allContainers returns a new value of every beacon/types container.
func allContainers() []any {
	return []any{
		new(types.Fork), new(types.Checkpoint), new(types.Validator), new(types.Crosslink),
		new(types.AttestationData), new(types.AttestationDataAndCustodyBit), new(types.IndexedAttestation),
		new(types.PendingAttestation), new(types.Eth1Data), new(types.DepositData), new(types.CompactCommittee),
		new(types.BeaconBlockHeader), new(types.ProposerSlashing), new(types.AttesterSlashing),
		new(types.Attestation), new(types.Deposit), new(types.VoluntaryExit), new(types.Transfer),
		new(types.BeaconBlockBody), new(types.BeaconBlock), new(types.ShardBeaconBlockBody),
		new(types.ShardBeaconBlock), new(types.HistoricalBatch), new(types.BeaconState),
	}
}

func TestJSONRoundTripContainers(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for _, proto := range allContainers() {
		name := reflect.TypeOf(proto).Elem().Name()
		t.Run(name, func(t *testing.T) {
			for range 20 {
				v := reflect.New(reflect.TypeOf(proto).Elem())
				apitest.Fill(r, v.Interface())
				js, err := api.EncodeJSON(v.Interface())
				if err != nil {
					t.Fatalf("encode: %v", err)
				}
				if !json.Valid(js) {
					t.Fatalf("invalid JSON: %s", js)
				}
				back := reflect.New(v.Type().Elem())
				if err := api.DecodeJSON(js, back.Interface()); err != nil {
					t.Fatalf("decode %s: %v", js, err)
				}
				if diff := cmp.Diff(v.Interface(), back.Interface(), cmp.AllowUnexported(types.BeaconState{})); diff != "" {
					t.Fatalf("round trip differs (-want +got):\n%s", diff)
				}
				// The SSZ encodings agree too, where the container has a
				// preset-independent codec.
				if m, ok := v.Interface().(ssz.Marshaler); ok && name != "BeaconState" && name != "HistoricalBatch" {
					want, err1 := m.MarshalSSZ()
					got, err2 := back.Interface().(ssz.Marshaler).MarshalSSZ()
					if err1 != nil || err2 != nil || !bytes.Equal(want, got) {
						t.Fatalf("ssz after round trip: %v %v equal=%v", err1, err2, bytes.Equal(want, got))
					}
				}
				again, err := api.EncodeJSON(back.Interface())
				if err != nil || !bytes.Equal(js, again) {
					t.Fatalf("re-encoding differs: %v\n%s\n%s", err, js, again)
				}
			}
		})
	}
}

func TestSignedRoundTrip(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	for _, proto := range []any{
		new(types.BeaconBlock), new(types.ShardBeaconBlock), new(types.BeaconBlockHeader),
		new(types.VoluntaryExit), new(types.Transfer), new(types.DepositData),
	} {
		typ := reflect.TypeOf(proto).Elem()
		t.Run(typ.Name(), func(t *testing.T) {
			for range 10 {
				v := reflect.New(typ)
				apitest.Fill(r, v.Interface())
				js, err := api.EncodeSigned(v.Interface())
				if err != nil {
					t.Fatal(err)
				}
				var shape map[string]json.RawMessage
				if err := json.Unmarshal(js, &shape); err != nil || len(shape) != 2 || shape["message"] == nil || shape["signature"] == nil {
					t.Fatalf("want {message, signature}, got %s (%v)", js, err)
				}
				if bytes.Contains(shape["message"], []byte(`"signature"`)) && typ.Name() != "BeaconBlock" && typ.Name() != "ShardBeaconBlock" {
					t.Fatalf("the message carries the signature: %s", shape["message"])
				}
				back := reflect.New(typ)
				if err := api.DecodeSigned(js, back.Interface()); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(v.Interface(), back.Interface()); diff != "" {
					t.Fatalf("round trip differs:\n%s", diff)
				}
			}
		})
	}
}
