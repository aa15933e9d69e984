package p2p

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"

	"github.com/golang/snappy"
)

// This file holds the two "ssz_snappy" encodings:
//
//   - gossip: the payload is one snappy *block* (snappy.Encode) of the SSZ
//     bytes. Its decoded length is read from the block header and checked
//     against the limit before anything is decompressed.
//   - request/response: a payload is the unsigned LEB128 varint of the
//     uncompressed SSZ length followed by a snappy *framed* stream of the
//     SSZ bytes (https://github.com/google/snappy/blob/main/framing_format.txt).
//     The length is checked against the limit before any frame is read, and
//     the frames must produce exactly that many bytes. The decoder reads the
//     stream chunk by chunk, never more than the declared length can need.

// EncodeGossip compresses an SSZ payload for gossip (snappy block format).
// It fails with ErrMessageTooLarge when ssz is longer than maxDecompressed.
func EncodeGossip(ssz []byte, maxDecompressed int) ([]byte, error) {
	if len(ssz) > maxDecompressed {
		return nil, fmt.Errorf("%w: %d bytes > %d", ErrMessageTooLarge, len(ssz), maxDecompressed)
	}
	return snappy.Encode(nil, ssz), nil
}

// DecodeGossip decompresses a gossip payload. Limits are checked before
// decompression: the compressed size against maxCompressed, the length in
// the snappy header against maxDecompressed. Malformed data fails with
// ErrInvalidEncoding, oversized data with ErrMessageTooLarge.
func DecodeGossip(data []byte, maxCompressed, maxDecompressed int) ([]byte, error) {
	if len(data) > maxCompressed {
		return nil, fmt.Errorf("%w: compressed %d bytes > %d", ErrMessageTooLarge, len(data), maxCompressed)
	}
	n, err := snappy.DecodedLen(data)
	if err != nil {
		return nil, fmt.Errorf("%w: snappy header: %w", ErrInvalidEncoding, err)
	}
	if n > maxDecompressed {
		return nil, fmt.Errorf("%w: decompressed %d bytes > %d", ErrMessageTooLarge, n, maxDecompressed)
	}
	out, err := snappy.Decode(make([]byte, n), data)
	if err != nil {
		return nil, fmt.Errorf("%w: snappy block: %w", ErrInvalidEncoding, err)
	}
	return out, nil
}

// maxVarintLen is the longest LEB128 encoding of a uint64.
const maxVarintLen = binary.MaxVarintLen64

// readUvarint reads an unsigned LEB128 varint. It rejects encodings longer
// than 10 bytes, values above 2^64-1 and non-minimal encodings (a trailing
// zero byte), so that every length has exactly one encoding.
func readUvarint(r io.ByteReader) (uint64, error) {
	var x uint64
	var s uint
	for i := 0; i < maxVarintLen; i++ {
		b, err := r.ReadByte()
		if err != nil {
			if i > 0 && errors.Is(err, io.EOF) {
				return 0, fmt.Errorf("%w: truncated varint: %w", ErrInvalidEncoding, io.ErrUnexpectedEOF)
			}
			return 0, err
		}
		if b < 0x80 {
			if i == maxVarintLen-1 && b > 1 {
				return 0, fmt.Errorf("%w: varint overflows uint64", ErrInvalidEncoding)
			}
			if i > 0 && b == 0 {
				return 0, fmt.Errorf("%w: non-minimal varint", ErrInvalidEncoding)
			}
			return x | uint64(b)<<s, nil
		}
		x |= uint64(b&0x7f) << s
		s += 7
	}
	return 0, fmt.Errorf("%w: varint longer than %d bytes", ErrInvalidEncoding, maxVarintLen)
}

// Snappy framing format constants.
const (
	chunkCompressed   = 0x00
	chunkUncompressed = 0x01
	chunkPadding      = 0xfe
	chunkStreamID     = 0xff
	// maxFrameBlock is the largest uncompressed size of one data chunk.
	maxFrameBlock = 65536
	crcSize       = 4
	headerSize    = 4
)

var streamIdentifier = []byte{chunkStreamID, 0x06, 0x00, 0x00, 's', 'N', 'a', 'P', 'p', 'Y'}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// maskedCRC is the checksum of the framing format: CRC-32C, rotated and
// offset so that CRCs of data containing CRCs stay well distributed.
func maskedCRC(b []byte) uint32 {
	c := crc32.Checksum(b, crcTable)
	return (c>>15 | c<<17) + 0xa282ead8
}

// appendFramed appends the snappy framed encoding of src to dst: the stream
// identifier, then one chunk per 64 KiB block, compressed unless compression
// saves less than 1/8.
func appendFramed(dst, src []byte) []byte {
	dst = append(dst, streamIdentifier...)
	var buf []byte
	for len(src) > 0 {
		n := min(len(src), maxFrameBlock)
		block := src[:n]
		src = src[n:]
		buf = snappy.Encode(buf[:cap(buf)], block)
		typ, body := byte(chunkCompressed), buf
		if len(buf) >= n-n/8 {
			typ, body = chunkUncompressed, block
		}
		l := crcSize + len(body)
		dst = append(dst, typ, byte(l), byte(l>>8), byte(l>>16))
		dst = binary.LittleEndian.AppendUint32(dst, maskedCRC(block))
		dst = append(dst, body...)
	}
	return dst
}

// appendPayload appends the request/response payload encoding of ssz: its
// uncompressed length as a varint, then its snappy framed stream.
func appendPayload(dst, ssz []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(ssz)))
	return appendFramed(dst, ssz)
}

// framedBudget bounds the bytes a well-formed framed stream of n bytes may
// take on the wire: the stream identifier, per-chunk overhead, snappy's worst
// case expansion, and some slack for padding chunks other encoders may emit.
func framedBudget(n int) int {
	chunks := n/maxFrameBlock + 1
	return len(streamIdentifier) + chunks*(headerSize+crcSize+32) + n + n/6 + 4096
}

// readPayload reads a payload written by appendPayload. The declared length
// must not exceed limit (else ErrMessageTooLarge, before reading on). EOF
// before the first byte is returned as io.EOF so that callers can detect the
// clean end of a response stream.
func readPayload(r *bufio.Reader, limit int) ([]byte, error) {
	n, err := readUvarint(r)
	if err != nil {
		return nil, err
	}
	if n > uint64(limit) {
		return nil, fmt.Errorf("%w: declared length %d > %d", ErrMessageTooLarge, n, limit)
	}
	return readFramed(r, int(n))
}

// readFramed reads snappy frames from r until exactly n bytes are decoded.
// The stream must start with the stream identifier; a chunk that decodes to
// more bytes than remain, a bad checksum, a reserved unskippable chunk type,
// or more wire bytes than framedBudget(n) fail with ErrInvalidEncoding.
// Memory grows with the data actually received, not with n.
func readFramed(r io.Reader, n int) ([]byte, error) {
	out := make([]byte, 0, min(n, maxFrameBlock))
	budget := framedBudget(n)
	var hdr [headerSize]byte
	var buf []byte
	first := true
	for first || len(out) < n {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return nil, framedReadErr(err)
		}
		typ := hdr[0]
		l := int(hdr[1]) | int(hdr[2])<<8 | int(hdr[3])<<16
		budget -= headerSize + l
		if budget < 0 {
			return nil, fmt.Errorf("%w: framed stream longer than its declared length allows", ErrInvalidEncoding)
		}
		if first && typ != chunkStreamID {
			return nil, fmt.Errorf("%w: framed stream does not start with the stream identifier", ErrInvalidEncoding)
		}
		first = false
		switch {
		case typ == chunkStreamID:
			if l != len(streamIdentifier)-headerSize {
				return nil, fmt.Errorf("%w: stream identifier length %d", ErrInvalidEncoding, l)
			}
			var id [6]byte
			if _, err := io.ReadFull(r, id[:]); err != nil {
				return nil, framedReadErr(err)
			}
			if string(id[:]) != string(streamIdentifier[headerSize:]) {
				return nil, fmt.Errorf("%w: bad stream identifier", ErrInvalidEncoding)
			}
		case typ == chunkCompressed || typ == chunkUncompressed:
			if l < crcSize || l > crcSize+snappy.MaxEncodedLen(maxFrameBlock) {
				return nil, fmt.Errorf("%w: chunk length %d", ErrInvalidEncoding, l)
			}
			if cap(buf) < l {
				buf = make([]byte, l)
			}
			buf = buf[:l]
			if _, err := io.ReadFull(r, buf); err != nil {
				return nil, framedReadErr(err)
			}
			want := binary.LittleEndian.Uint32(buf[:crcSize])
			body := buf[crcSize:]
			start := len(out)
			if typ == chunkUncompressed {
				if len(body) > maxFrameBlock || len(body) > n-start {
					return nil, fmt.Errorf("%w: chunk of %d bytes exceeds the declared length", ErrInvalidEncoding, len(body))
				}
				out = append(out, body...)
			} else {
				dl, err := snappy.DecodedLen(body)
				if err != nil {
					return nil, fmt.Errorf("%w: chunk: %w", ErrInvalidEncoding, err)
				}
				if dl > maxFrameBlock || dl > n-start {
					return nil, fmt.Errorf("%w: chunk of %d bytes exceeds the declared length", ErrInvalidEncoding, dl)
				}
				out = slices.Grow(out, dl)[:start+dl]
				if _, err := snappy.Decode(out[start:], body); err != nil {
					return nil, fmt.Errorf("%w: chunk: %w", ErrInvalidEncoding, err)
				}
			}
			if maskedCRC(out[start:]) != want {
				return nil, fmt.Errorf("%w: chunk checksum mismatch", ErrInvalidEncoding)
			}
		case typ >= 0x80: // skippable (0x80-0xfd) and padding (0xfe)
			if _, err := io.CopyN(io.Discard, r, int64(l)); err != nil {
				return nil, framedReadErr(err)
			}
		default: // 0x02-0x7f: reserved unskippable
			return nil, fmt.Errorf("%w: reserved chunk type %#x", ErrInvalidEncoding, typ)
		}
	}
	return out, nil
}

// framedReadErr turns an EOF inside a framed stream into a truncation error;
// other errors (resets, deadlines) pass through for the caller to classify.
func framedReadErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: truncated framed stream: %w", ErrInvalidEncoding, io.ErrUnexpectedEOF)
	}
	return err
}
