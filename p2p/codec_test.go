package p2p

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/golang/snappy"
)

func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func payloads() map[string][]byte {
	return map[string][]byte{
		"empty":           {},
		"one":             {42},
		"small":           []byte("hello shardlab"),
		"random_64k":      randomBytes(1, maxFrameBlock),
		"random_64k+1":    randomBytes(2, maxFrameBlock+1),
		"random_200k":     randomBytes(3, 200_000),
		"zeros_1M":        make([]byte, 1<<20),
		"repetitive_150k": bytes.Repeat([]byte("attestation"), 150_000/11),
	}
}

func TestGossipRoundTrip(t *testing.T) {
	t.Parallel()
	for name, p := range payloads() {
		t.Run(name, func(t *testing.T) {
			enc, err := EncodeGossip(p, 10<<20)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			dec, err := DecodeGossip(enc, 1<<20, 10<<20)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !bytes.Equal(dec, p) {
				t.Fatalf("round trip mismatch: got %d bytes, want %d", len(dec), len(p))
			}
		})
	}
}

func TestGossipLimits(t *testing.T) {
	t.Parallel()
	small, _ := EncodeGossip([]byte("payload"), 100)
	zeros, _ := EncodeGossip(make([]byte, 2<<20), 10<<20) // compresses to ~100 KB
	random, _ := EncodeGossip(randomBytes(4, 4096), 10<<20)
	tests := []struct {
		name    string
		data    []byte
		maxComp int
		maxDec  int
		want    error
	}{
		{"compressed too large", random, 1000, 10 << 20, ErrMessageTooLarge},
		{"decompressed too large (header checked first)", zeros, 1 << 20, 1 << 20, ErrMessageTooLarge},
		{"header claims more than limit", append(binary.AppendUvarint(nil, 11<<20), 0), 1 << 20, 10 << 20, ErrMessageTooLarge},
		{"empty", nil, 1 << 20, 10 << 20, ErrInvalidEncoding},
		{"garbage", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 1 << 20, 10 << 20, ErrInvalidEncoding},
		{"truncated", small[:len(small)-2], 1 << 20, 10 << 20, ErrInvalidEncoding},
		{"truncated random", random[:len(random)/2], 1 << 20, 10 << 20, ErrInvalidEncoding},
		{"trailing bytes", append(append([]byte{}, small...), 1, 2, 3), 1 << 20, 10 << 20, ErrInvalidEncoding},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeGossip(tc.data, tc.maxComp, tc.maxDec)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := EncodeGossip(make([]byte, 101), 100); !errors.Is(err, ErrMessageTooLarge) {
		t.Fatalf("encode oversized: got %v", err)
	}
}

func decodePayload(b []byte, limit int) ([]byte, error) {
	return readPayload(bufio.NewReader(bytes.NewReader(b)), limit)
}

func TestPayloadRoundTrip(t *testing.T) {
	t.Parallel()
	for name, p := range payloads() {
		t.Run(name, func(t *testing.T) {
			enc := appendPayload(nil, p)
			dec, err := decodePayload(enc, 10<<20)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !bytes.Equal(dec, p) {
				t.Fatalf("round trip mismatch: got %d bytes, want %d", len(dec), len(p))
			}
			// Interop: golang/snappy's framed reader accepts our frames...
			r := bufio.NewReader(bytes.NewReader(enc))
			if _, err := readUvarint(r); err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(snappy.NewReader(r))
			if err != nil || !bytes.Equal(got, p) {
				t.Fatalf("snappy.Reader: %v (equal %v)", err, bytes.Equal(got, p))
			}
			// ...and we accept its frames.
			var buf bytes.Buffer
			buf.Write(binary.AppendUvarint(nil, uint64(len(p))))
			w := snappy.NewBufferedWriter(&buf)
			if _, err := w.Write(p); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			theirs := buf.Bytes()
			if len(p) == 0 { // their writer emits nothing for no data
				theirs = append(theirs, streamIdentifier...)
			}
			dec, err = decodePayload(theirs, 10<<20)
			if err != nil || !bytes.Equal(dec, p) {
				t.Fatalf("decode snappy.Writer output: %v", err)
			}
		})
	}
}

// chunk builds one raw frame.
func chunk(typ byte, body []byte) []byte {
	l := len(body)
	return append([]byte{typ, byte(l), byte(l >> 8), byte(l >> 16)}, body...)
}

func dataChunk(typ byte, crcOf, body []byte) []byte {
	return chunk(typ, append(binary.LittleEndian.AppendUint32(nil, maskedCRC(crcOf)), body...))
}

func TestReadPayloadErrors(t *testing.T) {
	t.Parallel()
	hello := []byte("hello")
	valid := appendPayload(nil, hello)
	join := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	varint := func(n uint64) []byte { return binary.AppendUvarint(nil, n) }
	tests := []struct {
		name  string
		data  []byte
		limit int
		want  error
	}{
		{"empty stream is EOF", nil, 100, io.EOF},
		{"declared length over limit", join(varint(101), streamIdentifier), 100, ErrMessageTooLarge},
		{"huge declared length", varint(1 << 62), 100, ErrMessageTooLarge},
		{"varint non-minimal", join([]byte{0x85, 0x00}, valid[1:]), 100, ErrInvalidEncoding},
		{"varint overflow", bytes.Repeat([]byte{0xff}, 11), 100, ErrInvalidEncoding},
		{"varint 10th byte too big", append(bytes.Repeat([]byte{0xff}, 9), 0x02), 100, ErrInvalidEncoding},
		{"varint truncated", []byte{0x80}, 100, ErrInvalidEncoding},
		{"length only", varint(5), 100, ErrInvalidEncoding},
		{"missing stream identifier", join(varint(5), dataChunk(chunkUncompressed, hello, hello)), 100, ErrInvalidEncoding},
		{"bad stream identifier", join(varint(5), chunk(chunkStreamID, []byte("sNaPpX")), dataChunk(chunkUncompressed, hello, hello)), 100, ErrInvalidEncoding},
		{"bad checksum", join(varint(5), streamIdentifier, dataChunk(chunkUncompressed, []byte("world"), hello)), 100, ErrInvalidEncoding},
		{"declared shorter than data", join(varint(4), streamIdentifier, dataChunk(chunkUncompressed, hello, hello)), 100, ErrInvalidEncoding},
		{"declared longer than data", join(varint(6), streamIdentifier, dataChunk(chunkUncompressed, hello, hello)), 100, ErrInvalidEncoding},
		{"reserved unskippable chunk", join(varint(5), streamIdentifier, chunk(0x02, hello)), 100, ErrInvalidEncoding},
		{"chunk shorter than checksum", join(varint(5), streamIdentifier, chunk(chunkCompressed, []byte{1, 2})), 100, ErrInvalidEncoding},
		{"corrupt compressed chunk", join(varint(5), streamIdentifier, dataChunk(chunkCompressed, hello, []byte{0x05, 0xff, 0xff})), 100, ErrInvalidEncoding},
		{"padding beyond budget", join(varint(5), streamIdentifier, chunk(chunkPadding, make([]byte, 8000))), 100, ErrInvalidEncoding},
		{"truncated mid chunk", valid[:len(valid)-2], 100, ErrInvalidEncoding},
		{"truncated after identifier", valid[:1+len(streamIdentifier)], 100, ErrInvalidEncoding},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodePayload(tc.data, tc.limit)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}

	// Every strict prefix of a valid encoding fails; none panics.
	for _, p := range [][]byte{hello, randomBytes(5, 70_000)} {
		enc := appendPayload(nil, p)
		for i := 0; i < len(enc); i += 1 + i/64 { // dense at the start, sparse later
			if _, err := decodePayload(enc[:i], 1<<20); err == nil {
				t.Fatalf("prefix %d/%d decoded", i, len(enc))
			}
		}
	}

	// Padding and skippable chunks within the budget are allowed.
	ok := join(varint(5), streamIdentifier, chunk(chunkPadding, make([]byte, 16)), chunk(0x80, []byte("skip")), dataChunk(chunkUncompressed, hello, hello))
	if got, err := decodePayload(ok, 100); err != nil || !bytes.Equal(got, hello) {
		t.Fatalf("padded stream: %q, %v", got, err)
	}
}

func TestReadUvarint(t *testing.T) {
	t.Parallel()
	for _, v := range []uint64{0, 1, 127, 128, 300, 1 << 32, 1<<64 - 1} {
		enc := binary.AppendUvarint(nil, v)
		got, err := readUvarint(bytes.NewReader(enc))
		if err != nil || got != v {
			t.Fatalf("readUvarint(%x) = %d, %v; want %d", enc, got, err, v)
		}
	}
}

func TestReadChunk(t *testing.T) {
	t.Parallel()
	rc := DefaultConfig().ReqResp
	rc.MaxChunkSize = 1000
	rc.MaxErrorMessageSize = 16
	stream := func(parts ...[]byte) *bufio.Reader {
		return bufio.NewReader(bytes.NewReader(bytes.Join(parts, nil)))
	}
	ok := append([]byte{0}, appendPayload(nil, []byte("block"))...)
	errChunk := append([]byte{3}, appendPayload(nil, []byte("no such block"))...)

	r := stream(ok, ok, errChunk)
	for range 2 {
		p, err := readChunk(r, rc, nil)
		if err != nil || string(p) != "block" {
			t.Fatalf("chunk: %q, %v", p, err)
		}
	}
	_, err := readChunk(r, rc, nil)
	var re *ResponseError
	if !errors.As(err, &re) || re.Code != CodeResourceUnavailable || re.Msg != "no such block" {
		t.Fatalf("error chunk: %v", err)
	}

	if _, err := readChunk(stream(), rc, nil); err != io.EOF {
		t.Fatalf("empty: %v, want bare io.EOF", err)
	}
	if _, err := readChunk(stream([]byte{0}), rc, nil); !errors.Is(err, ErrInvalidEncoding) {
		t.Fatalf("result byte only: %v", err)
	}
	big := append([]byte{0}, appendPayload(nil, make([]byte, 1001))...)
	if _, err := readChunk(stream(big), rc, nil); !errors.Is(err, ErrMessageTooLarge) {
		t.Fatalf("oversized chunk: %v", err)
	}
	longErr := append([]byte{1}, appendPayload(nil, make([]byte, 17))...)
	if _, err := readChunk(stream(longErr), rc, nil); !errors.Is(err, ErrMessageTooLarge) {
		t.Fatalf("oversized error message: %v", err)
	}
	badUTF8 := append([]byte{2}, appendPayload(nil, []byte{0xff, 'x'})...)
	if _, err := readChunk(stream(badUTF8), rc, nil); !errors.As(err, &re) || re.Msg != "\uFFFDx" {
		t.Fatalf("invalid utf-8 message: %v", err)
	}
}
