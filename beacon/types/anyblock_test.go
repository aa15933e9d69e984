package types

import (
	"bytes"
	"errors"
	"testing"

	"github.com/shardlab/shardlab/beacon/params"
)

func TestDecodeBlock(t *testing.T) {
	t.Parallel()
	phase0 := params.Minimal() // shard fork disabled
	fromGenesis := params.Minimal().WithShards()
	atEpoch2 := params.Minimal()
	atEpoch2.Shard.ForkEpoch = 2
	spe := Slot(phase0.SlotsPerEpoch)

	proofs := [][]byte{{1, 2, 3}, {}}
	tests := []struct {
		name  string
		cfg   *params.Config
		block AnyBlock
		ok    bool // decodes (to a block of the same type)
	}{
		{"disabled, phase 0 block", phase0, &BeaconBlock{Slot: 5 * spe}, true},
		{"disabled, shard block", phase0, &ShardBeaconBlock{Slot: 5 * spe}, false},
		{"from genesis, genesis block", fromGenesis, &BeaconBlock{}, true},
		{"from genesis, shard block at genesis", fromGenesis, &ShardBeaconBlock{}, false},
		{"from genesis, slot 1", fromGenesis, &ShardBeaconBlock{Slot: 1, Body: ShardBeaconBlockBody{ShardFraudProofs: proofs}}, true},
		{"from genesis, phase 0 block at slot 1", fromGenesis, &BeaconBlock{Slot: 1}, false},
		{"epoch 2, last phase 0 slot", atEpoch2, &BeaconBlock{Slot: 2*spe - 1}, true},
		{"epoch 2, shard block before the fork", atEpoch2, &ShardBeaconBlock{Slot: 2*spe - 1}, false},
		{"epoch 2, first shard slot", atEpoch2, &ShardBeaconBlock{Slot: 2 * spe, Body: ShardBeaconBlockBody{ShardFraudProofs: proofs}}, true},
		{"epoch 2, phase 0 block at the fork", atEpoch2, &BeaconBlock{Slot: 2 * spe}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			buf, err := tc.block.MarshalSSZ()
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeBlock(tc.cfg, buf)
			if !tc.ok {
				if !errors.Is(err, ErrInvalidSSZ) {
					t.Fatalf("decoded %T, err %v; want ErrInvalidSSZ", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			out, err := got.MarshalSSZ()
			if err != nil || !bytes.Equal(out, buf) {
				t.Fatalf("%T re-encodes differently (%v)", got, err)
			}
			switch tc.block.(type) {
			case *BeaconBlock:
				_, ok := got.(*BeaconBlock)
				if !ok {
					t.Fatalf("decoded %T, want *BeaconBlock", got)
				}
			case *ShardBeaconBlock:
				sb, ok := got.(*ShardBeaconBlock)
				if !ok {
					t.Fatalf("decoded %T, want *ShardBeaconBlock", got)
				}
				if len(sb.Body.ShardFraudProofs) != len(proofs) || !bytes.Equal(sb.Body.ShardFraudProofs[0], proofs[0]) {
					t.Fatalf("fraud proofs %x, want %x", sb.Body.ShardFraudProofs, proofs)
				}
			}
		})
	}

	for _, n := range []int{0, 7} {
		if _, err := DecodeBlock(fromGenesis, make([]byte, n)); !errors.Is(err, ErrInvalidSSZ) {
			t.Fatalf("%d bytes: %v, want ErrInvalidSSZ", n, err)
		}
	}
}

func TestBlockBody(t *testing.T) {
	proofs := [][]byte{{1, 2, 3}}
	p0 := &BeaconBlock{Slot: 3, Body: BeaconBlockBody{Graffiti: Root{7}}}
	if body, got := BlockBody(p0); body != &p0.Body || got != nil {
		t.Fatalf("phase 0 block: body %p (want %p), proofs %v", body, &p0.Body, got)
	}
	sb := &ShardBeaconBlock{Slot: 9, Body: ShardBeaconBlockBody{Graffiti: Root{8}, ShardFraudProofs: proofs}}
	body, got := BlockBody(sb)
	if body.Graffiti != (Root{8}) || len(got) != 1 || &got[0][0] != &proofs[0][0] {
		t.Fatalf("shard-fork block: graffiti %x, proofs %v", body.Graffiti, got)
	}
	for _, b := range []AnyBlock{nil, (*BeaconBlock)(nil), (*ShardBeaconBlock)(nil)} {
		if body, got := BlockBody(b); body == nil || got != nil {
			t.Fatalf("BlockBody(%#v) = %v, %v; want an empty body and no proofs", b, body, got)
		}
	}
}
