package p2p

import (
	"bytes"
	"errors"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// FuzzDecodePeerRecord feeds arbitrary bytes to the peer-exchange answer
// decoder, as a hostile peer would. It must never panic, every error must
// wrap ErrInvalidEncoding, and what it accepts must be within the bounds
// and re-encode to the input.
func FuzzDecodePeerRecord(f *testing.F) {
	k, err := GenerateKey()
	if err != nil {
		f.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(k)
	if err != nil {
		f.Fatal(err)
	}
	for _, r := range []PeerRecord{
		{ID: []byte(id), Addrs: [][]byte{ma.StringCast("/ip4/127.0.0.1/tcp/9000").Bytes()}, Shards: []uint64{0, 3}},
		{ID: []byte(id), Addrs: [][]byte{ma.StringCast("/ip4/127.0.0.1/udp/9000/quic-v1").Bytes(), ma.StringCast("/dns4/a.example/tcp/1").Bytes()}},
		{ID: []byte(id)},
	} {
		b, err := r.MarshalSSZ()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0xff}, 40))
	f.Fuzz(func(t *testing.T, data []byte) {
		kp, err := DecodePeerRecord(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidEncoding) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		if len(kp.Info.Addrs) == 0 || len(kp.Info.Addrs) > MaxRecordAddrs || len(kp.Shards) > MaxRecordShards {
			t.Fatalf("out of bounds: %d addrs, %d shards", len(kp.Info.Addrs), len(kp.Shards))
		}
		r := PeerRecord{ID: []byte(kp.Info.ID), Shards: kp.Shards}
		for _, a := range kp.Info.Addrs {
			r.Addrs = append(r.Addrs, a.Bytes())
		}
		again, err := r.MarshalSSZ()
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("re-encode: %v\n got %x\nwant %x", err, again, data)
		}
	})
}

// FuzzPeersRequest feeds arbitrary bytes to the request decoder the server
// runs: no panic, and what decodes re-encodes to the input.
func FuzzPeersRequest(f *testing.F) {
	for _, r := range []PeersRequest{{Count: 16}, {Count: 1, Shards: []uint64{1, 2, 3}}} {
		b, err := r.MarshalSSZ()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		var r PeersRequest
		if err := r.UnmarshalSSZ(data); err != nil {
			return
		}
		if len(r.Shards) > MaxRecordShards {
			t.Fatalf("%d shards", len(r.Shards))
		}
		again, err := r.MarshalSSZ()
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("re-encode: %v", err)
		}
	})
}
