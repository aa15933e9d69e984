package p2p

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzReadPayload feeds arbitrary bytes to the request framing decoder
// (varint length + snappy frames). It must never panic or exceed its limit;
// what it accepts must survive a re-encode / decode round trip.
func FuzzReadPayload(f *testing.F) {
	for _, p := range [][]byte{nil, []byte("status"), randomBytes(7, 300), make([]byte, 70_000)} {
		f.Add(appendPayload(nil, p))
	}
	f.Add([]byte{0x05, 0xff, 0x06, 0x00, 0x00, 's', 'N', 'a', 'P', 'p', 'Y', 0xfe, 0x01, 0x00, 0x00, 0x00})
	f.Add([]byte{0x80, 0x00})
	const limit = 1 << 17
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := decodePayload(data, limit)
		if err != nil {
			return
		}
		if len(got) > limit {
			t.Fatalf("decoded %d bytes > limit %d", len(got), limit)
		}
		again, err := decodePayload(appendPayload(nil, got), limit)
		if err != nil || !bytes.Equal(again, got) {
			t.Fatalf("re-encode round trip: %v", err)
		}
	})
}

// FuzzReadResponse feeds arbitrary bytes to the response chunk reader, as a
// hostile server would.
func FuzzReadResponse(f *testing.F) {
	ok := append([]byte{0}, appendPayload(nil, []byte("block"))...)
	bad := append([]byte{2}, appendPayload(nil, []byte("oops"))...)
	f.Add(ok)
	f.Add(append(append([]byte{}, ok...), bad...))
	f.Add([]byte{0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	rc := DefaultConfig().ReqResp
	rc.MaxChunkSize = 1 << 16
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bufio.NewReader(bytes.NewReader(data))
		for range 64 {
			p, err := readChunk(r, rc, nil)
			if err != nil {
				var re *ResponseError
				if err != io.EOF && !errors.As(err, &re) && !errors.Is(err, ErrInvalidEncoding) && !errors.Is(err, ErrMessageTooLarge) {
					t.Fatalf("unclassified error: %v", err)
				}
				return
			}
			if len(p) > rc.MaxChunkSize {
				t.Fatalf("chunk of %d bytes > limit", len(p))
			}
		}
	})
}

// FuzzDecodeGossip feeds arbitrary bytes to the gossip decompression.
func FuzzDecodeGossip(f *testing.F) {
	for _, p := range [][]byte{nil, []byte("attestation"), randomBytes(8, 1000), make([]byte, 100_000)} {
		enc, _ := EncodeGossip(p, 1<<20)
		f.Add(enc)
	}
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	const maxComp, maxDec = 1 << 16, 1 << 18
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := DecodeGossip(data, maxComp, maxDec)
		if err != nil {
			if !errors.Is(err, ErrInvalidEncoding) && !errors.Is(err, ErrMessageTooLarge) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		if len(got) > maxDec {
			t.Fatalf("decoded %d bytes > limit", len(got))
		}
		enc, err := EncodeGossip(got, maxDec)
		if err != nil {
			t.Fatal(err)
		}
		again, err := DecodeGossip(enc, 1<<20, maxDec)
		if err != nil || !bytes.Equal(again, got) {
			t.Fatalf("re-encode round trip: %v", err)
		}
	})
}
