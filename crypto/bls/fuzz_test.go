package bls

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// vectorHexes collects every 0x-prefixed hex string of length n bytes found
// in the BLS vectors, if they are available.
func vectorHexes(f *testing.F, n int) [][]byte {
	root := specTestsRoot(f)
	if root == "" {
		return nil
	}
	var out [][]byte
	dir := filepath.Join(root, "tests", "general", "phase0", "bls")
	_ = filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || info.Name() != "data.yaml" {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		for _, field := range strings.FieldsFunc(string(data), func(r rune) bool {
			return r == '\'' || r == ' ' || r == '\n' || r == ',' || r == '[' || r == ']' || r == '{' || r == '}'
		}) {
			if !strings.HasPrefix(field, "0x") || len(field) != 2+2*n {
				continue
			}
			if b, err := hex.DecodeString(field[2:]); err == nil {
				out = append(out, b)
			}
		}
		return nil
	})
	return out
}

func seedCommon(f *testing.F, n int, vector string) {
	v, _ := hex.DecodeString(vector)
	f.Add(v)
	f.Add([]byte{})
	f.Add(make([]byte, n))
	f.Add(bytes.Repeat([]byte{0xff}, n))
	f.Add(infinity(n))
	f.Add(with(infinity(n), 0, 0xe0))
	f.Add(with(infinity(n), n-1, 1))
	f.Add(with(v, 0, v[0]&^0x80))
	f.Add(with(v, 0, v[0]^0x20))
	f.Add(v[:n-1])
	f.Add(append(append([]byte(nil), v...), 0))
	for _, b := range vectorHexes(f, n) {
		f.Add(b)
	}
}

func FuzzPublicKeyFromBytes(f *testing.F) {
	seedCommon(f, PublicKeySize, vecPK)
	f.Fuzz(func(t *testing.T, b []byte) {
		pk, err := PublicKeyFromBytes(b)
		if err != nil {
			return
		}
		if got := pk.Bytes(); !bytes.Equal(got[:], b) {
			t.Fatalf("decoded %x, re-encoded %x", b, got)
		}
	})
}

func FuzzSignatureFromBytes(f *testing.F) {
	seedCommon(f, SignatureSize, vecSig)
	f.Fuzz(func(t *testing.T, b []byte) {
		sig, err := SignatureFromBytes(b)
		if err != nil {
			return
		}
		if got := sig.Bytes(); !bytes.Equal(got[:], b) {
			t.Fatalf("decoded %x, re-encoded %x", b, got)
		}
	})
}

func FuzzSecretKeyFromBytes(f *testing.F) {
	f.Add(mustHex(f, vecSK))
	f.Add(curveOrder[:])
	f.Add(make([]byte, 32))
	f.Fuzz(func(t *testing.T, b []byte) {
		sk, err := SecretKeyFromBytes(b)
		if err != nil {
			return
		}
		if got := sk.Bytes(); !bytes.Equal(got[:], b) {
			t.Fatalf("decoded %x, re-encoded %x", b, got)
		}
	})
}
