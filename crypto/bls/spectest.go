package bls

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	hb "github.com/herumi/bls-eth-go-binary/bls"
	"gopkg.in/yaml.v3"
)

// The handlers of the v0.8.3 general/phase0/bls vectors.
const (
	HandlerAggregatePubkeys    = "aggregate_pubkeys"
	HandlerAggregateSigs       = "aggregate_sigs"
	HandlerMsgHashCompressed   = "msg_hash_compressed"
	HandlerMsgHashUncompressed = "msg_hash_uncompressed"
	HandlerPrivToPub           = "priv_to_pub"
	HandlerSignMsg             = "sign_msg"
)

// VectorHandlers lists the handlers RunVectorCase understands.
func VectorHandlers() []string {
	return []string{
		HandlerAggregatePubkeys,
		HandlerAggregateSigs,
		HandlerMsgHashCompressed,
		HandlerMsgHashUncompressed,
		HandlerPrivToPub,
		HandlerSignMsg,
	}
}

type msgHashInput struct {
	Message string `yaml:"message"`
	Domain  string `yaml:"domain"`
}

type signMsgInput struct {
	Privkey string `yaml:"privkey"`
	Message string `yaml:"message"`
	Domain  string `yaml:"domain"`
}

type vectorCase[I, O any] struct {
	Input  I `yaml:"input"`
	Output O `yaml:"output"`
}

// RunVectorCase runs the case in directory caseDir (holding data.yaml) of
// handler h and returns nil if it passes.
func RunVectorCase(handler, caseDir string) error {
	data, err := os.ReadFile(filepath.Join(caseDir, "data.yaml"))
	if err != nil {
		return fmt.Errorf("read vector: %w", err)
	}
	switch handler {
	case HandlerAggregatePubkeys:
		return runAggregatePubkeys(data)
	case HandlerAggregateSigs:
		return runAggregateSigs(data)
	case HandlerMsgHashCompressed:
		return runMsgHashCompressed(data)
	case HandlerMsgHashUncompressed:
		return runMsgHashUncompressed(data)
	case HandlerPrivToPub:
		return runPrivToPub(data)
	case HandlerSignMsg:
		return runSignMsg(data)
	default:
		return fmt.Errorf("run vector %q: %w", handler, ErrUnknownHandler)
	}
}

func decodeCase[I, O any](data []byte) (*vectorCase[I, O], error) {
	c := new(vectorCase[I, O])
	if err := yaml.Unmarshal(data, c); err != nil {
		return nil, fmt.Errorf("parse vector: %w", err)
	}
	return c, nil
}

func decodeHex(s string, n int) ([]byte, error) {
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil {
		return nil, fmt.Errorf("decode hex %q: %w", s, err)
	}
	if n >= 0 && len(b) != n {
		return nil, fmt.Errorf("decode hex %q: %w: got %d bytes, want %d", s, ErrInvalidLength, len(b), n)
	}
	return b, nil
}

func decodeMsgDomain(msg, domain string) ([32]byte, [8]byte, error) {
	var m [32]byte
	var d [8]byte
	mb, err := decodeHex(msg, 32)
	if err != nil {
		return m, d, err
	}
	db, err := decodeHex(domain, 8)
	if err != nil {
		return m, d, err
	}
	copy(m[:], mb)
	copy(d[:], db)
	return m, d, nil
}

func mismatch(what string, got []byte, want []byte) error {
	return fmt.Errorf("check %s: %w: got 0x%x, want 0x%x", what, ErrVectorMismatch, got, want)
}

func runAggregatePubkeys(data []byte) error {
	c, err := decodeCase[[]string, string](data)
	if err != nil {
		return err
	}
	pks := make([]*PublicKey, len(c.Input))
	for i, s := range c.Input {
		b, err := decodeHex(s, PublicKeySize)
		if err != nil {
			return err
		}
		if pks[i], err = PublicKeyFromBytes(b); err != nil {
			return err
		}
	}
	want, err := decodeHex(c.Output, PublicKeySize)
	if err != nil {
		return err
	}
	got := AggregatePublicKeys(pks).Bytes()
	if !bytes.Equal(got[:], want) {
		return mismatch("aggregate pubkey", got[:], want)
	}
	return nil
}

func runAggregateSigs(data []byte) error {
	c, err := decodeCase[[]string, string](data)
	if err != nil {
		return err
	}
	sigs := make([]*Signature, len(c.Input))
	for i, s := range c.Input {
		b, err := decodeHex(s, SignatureSize)
		if err != nil {
			return err
		}
		if sigs[i], err = SignatureFromBytes(b); err != nil {
			return err
		}
	}
	want, err := decodeHex(c.Output, SignatureSize)
	if err != nil {
		return err
	}
	got := AggregateSignatures(sigs).Bytes()
	if !bytes.Equal(got[:], want) {
		return mismatch("aggregate signature", got[:], want)
	}
	return nil
}

func runMsgHashCompressed(data []byte) error {
	c, err := decodeCase[msgHashInput, []string](data)
	if err != nil {
		return err
	}
	m, d, err := decodeMsgDomain(c.Input.Message, c.Input.Domain)
	if err != nil {
		return err
	}
	var want []byte
	for _, s := range c.Output {
		b, err := decodeHex(s, 48)
		if err != nil {
			return err
		}
		want = append(want, b...)
	}
	got, _ := HashToG2(m, d)
	if !bytes.Equal(got[:], want) {
		return mismatch("compressed hash", got[:], want)
	}
	return nil
}

// runMsgHashUncompressed checks the homogeneous projective coordinates
// (X, Y, Z) of the vector, in which py_ecc leaves its result, against the
// affine point (x, y): x = X/Z and y = Y/Z.
func runMsgHashUncompressed(data []byte) error {
	c, err := decodeCase[msgHashInput, [][]string](data)
	if err != nil {
		return err
	}
	m, d, err := decodeMsgDomain(c.Input.Message, c.Input.Domain)
	if err != nil {
		return err
	}
	if len(c.Output) != 3 {
		return fmt.Errorf("check uncompressed hash: %w: got %d coordinates, want 3", ErrVectorMismatch, len(c.Output))
	}
	var proj [3]hb.Fp2
	for i, coord := range c.Output {
		if len(coord) != 2 {
			return fmt.Errorf("check uncompressed hash: %w: coordinate %d has %d parts, want 2", ErrVectorMismatch, i, len(coord))
		}
		for j, s := range coord {
			b, err := decodeHex(s, 48)
			if err != nil {
				return err
			}
			if err := proj[i].D[j].Deserialize(b); err != nil {
				return fmt.Errorf("decode field element %s: %w", s, err)
			}
		}
	}
	_, affine := HashToG2(m, d)
	for i, name := range []string{"x", "y"} {
		var a hb.Fp2
		for j := range a.D {
			if err := a.D[j].Deserialize(affine[i][j][:]); err != nil {
				return fmt.Errorf("decode field element: %w", err)
			}
		}
		var az hb.Fp2
		hb.Fp2Mul(&az, &a, &proj[2])
		if !az.IsEqual(&proj[i]) {
			got := append(append([]byte{}, affine[i][0][:]...), affine[i][1][:]...)
			want := append(proj[i].D[0].Serialize(), proj[i].D[1].Serialize()...)
			return mismatch("uncompressed hash "+name+" (affine vs X/Z)", got, want)
		}
	}
	return nil
}

func runPrivToPub(data []byte) error {
	c, err := decodeCase[string, string](data)
	if err != nil {
		return err
	}
	skb, err := decodeHex(c.Input, SecretKeySize)
	if err != nil {
		return err
	}
	sk, err := SecretKeyFromBytes(skb)
	if err != nil {
		return err
	}
	want, err := decodeHex(c.Output, PublicKeySize)
	if err != nil {
		return err
	}
	got := sk.PublicKey().Bytes()
	if !bytes.Equal(got[:], want) {
		return mismatch("public key", got[:], want)
	}
	return nil
}

func runSignMsg(data []byte) error {
	c, err := decodeCase[signMsgInput, string](data)
	if err != nil {
		return err
	}
	skb, err := decodeHex(c.Input.Privkey, SecretKeySize)
	if err != nil {
		return err
	}
	sk, err := SecretKeyFromBytes(skb)
	if err != nil {
		return err
	}
	m, d, err := decodeMsgDomain(c.Input.Message, c.Input.Domain)
	if err != nil {
		return err
	}
	want, err := decodeHex(c.Output, SignatureSize)
	if err != nil {
		return err
	}
	sig := sk.Sign(m, d)
	got := sig.Bytes()
	if !bytes.Equal(got[:], want) {
		return mismatch("signature", got[:], want)
	}
	if !Verify(sk.PublicKey(), m, sig, d) {
		return fmt.Errorf("check signature: %w: does not verify", ErrVectorMismatch)
	}
	return nil
}
