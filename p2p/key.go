package p2p

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/libp2p/go-libp2p/core/crypto"
)

// GenerateKey returns a fresh Ed25519 node key.
func GenerateKey() (crypto.PrivKey, error) {
	k, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	return k, nil
}

// DeriveKey returns the Ed25519 node key whose seed is the SHA-256 of
// seed: the same string gives the same key, hence the same peer ID, on
// every machine. Rendered deployments (sim/deploy) use it so that bootnode
// multiaddrs can name peer IDs before any node ran. Anyone who knows the
// string can impersonate the node: for testnets only.
func DeriveKey(seed string) (crypto.PrivKey, error) {
	if seed == "" {
		return nil, errors.New("derive key: empty seed")
	}
	sum := sha256.Sum256([]byte(seed))
	k, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(sum[:]))
	if err != nil {
		return nil, fmt.Errorf("derive key: %w", err)
	}
	return k, nil
}

// SaveKey writes k to path as hex of its libp2p protobuf encoding, with mode
// 0600, creating parent directories. It replaces an existing file atomically.
func SaveKey(path string, k crypto.PrivKey) error {
	raw, err := crypto.MarshalPrivateKey(k)
	if err != nil {
		return fmt.Errorf("marshal key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create key dir: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".p2pkey-*")
	if err != nil {
		return fmt.Errorf("create key file: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.WriteString(hex.EncodeToString(raw) + "\n"); err != nil {
		tmp.Close()
		return fmt.Errorf("write key file: %w", err)
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("chmod key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close key file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("rename key file: %w", err)
	}
	return nil
}

// LoadKey reads a key written by SaveKey.
func LoadKey(path string) (crypto.PrivKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	raw, err := hex.DecodeString(string(bytes.TrimSpace(data)))
	if err != nil {
		return nil, fmt.Errorf("decode key file %s: %w", path, err)
	}
	k, err := crypto.UnmarshalPrivateKey(raw)
	if err != nil {
		return nil, fmt.Errorf("unmarshal key file %s: %w", path, err)
	}
	return k, nil
}

// LoadOrGenerateKey loads the key at path, or generates one and saves it
// there when the file does not exist. The boolean reports a new key.
func LoadOrGenerateKey(path string) (crypto.PrivKey, bool, error) {
	k, err := LoadKey(path)
	if err == nil {
		return k, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	k, err = GenerateKey()
	if err != nil {
		return nil, false, err
	}
	if err := SaveKey(path, k); err != nil {
		return nil, false, err
	}
	return k, true, nil
}
