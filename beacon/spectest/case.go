package spectest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/shardlab/shardlab/beacon/params"
	"github.com/shardlab/shardlab/beacon/types"
)

// The configs of the v0.8.3 vectors. ConfigGeneral holds the vectors that do
// not depend on a preset (bls, ssz_generic).
const (
	ConfigMinimal = "minimal"
	ConfigMainnet = "mainnet"
	ConfigGeneral = "general"
)

// BLS settings of meta.yaml's bls_setting.
const (
	// BLSOptional means the case passes with or without signature checks.
	BLSOptional = 0
	// BLSRequired means the case needs signature verification to pass.
	BLSRequired = 1
	// BLSIgnored means the case must run with signature checks disabled.
	BLSIgnored = 2
)

// Case is one test case directory.
type Case struct {
	Config  string // minimal, mainnet or general
	Fork    string // phase0 for v0.8.3
	Runner  string
	Handler string
	Suite   string
	Name    string
	// Dir is the case directory.
	Dir string
	// Cfg is the preset of Config; nil for general.
	Cfg *params.Config

	metaOnce sync.Once
	meta     *Meta
	metaErr  error
}

// Meta is a case's meta.yaml. Every field is optional; a case without
// meta.yaml has the zero Meta.
type Meta struct {
	// BLSSetting is BLSOptional, BLSRequired or BLSIgnored.
	BLSSetting int `yaml:"bls_setting"`
	// BlocksCount is the number of blocks_<i> files of a sanity/blocks case.
	BlocksCount int `yaml:"blocks_count"`
	// Root and SigningRoot are the expected roots of an ssz_generic valid case.
	Root        string `yaml:"root"`
	SigningRoot string `yaml:"signing_root"`
}

// ID names the case within its config: runner/handler/suite/case.
func (c *Case) ID() string { return path.Join(c.Runner, c.Handler, c.Suite, c.Name) }

// Path names the case across configs: config/runner/handler/suite/case. The
// Run filter matches it.
func (c *Case) Path() string { return path.Join(c.Config, c.Runner, c.Handler, c.Suite, c.Name) }

// String returns Path.
func (c *Case) String() string { return c.Path() }

// file returns the path of the case file name; a name without an extension
// gets ext.
func (c *Case) file(name, ext string) string {
	if filepath.Ext(name) == "" {
		name += ext
	}
	return filepath.Join(c.Dir, name)
}

// Exists reports whether the case has the file name. A name without an
// extension matches name.yaml or name.ssz.
func (c *Case) Exists(name string) bool {
	candidates := []string{name}
	if filepath.Ext(name) == "" {
		candidates = []string{name + ".yaml", name + ".ssz"}
	}
	for _, n := range candidates {
		if _, err := os.Stat(filepath.Join(c.Dir, n)); err == nil {
			return true
		}
	}
	return false
}

// ReadSSZ returns the raw bytes of name (".ssz" is added when name has no
// extension). The v0.8.3 vectors are not snappy-compressed.
func (c *Case) ReadSSZ(name string) ([]byte, error) {
	b, err := os.ReadFile(c.file(name, ".ssz"))
	if err != nil {
		return nil, fmt.Errorf("read ssz file: %w", err)
	}
	return b, nil
}

// ReadYAML decodes name (".yaml" is added when name has no extension) into v,
// which may be a *yaml.Node.
func (c *Case) ReadYAML(name string, v any) error {
	b, err := os.ReadFile(c.file(name, ".yaml"))
	if err != nil {
		return fmt.Errorf("read yaml file: %w", err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode %s: %w", filepath.Base(c.file(name, ".yaml")), err)
	}
	return nil
}

// ReadState decodes the BeaconState in name (".ssz" is added when name has no
// extension) with the case's config.
func (c *Case) ReadState(name string) (*types.BeaconState, error) {
	if c.Cfg == nil {
		return nil, fmt.Errorf("read state: config %q has no preset", c.Config)
	}
	b, err := c.ReadSSZ(name)
	if err != nil {
		return nil, err
	}
	s, err := types.UnmarshalBeaconState(c.Cfg, b)
	if err != nil {
		return nil, fmt.Errorf("decode state %s: %w", filepath.Base(c.file(name, ".ssz")), err)
	}
	return s, nil
}

// Meta returns the case's parsed meta.yaml (the zero Meta when there is none).
func (c *Case) Meta() (*Meta, error) {
	c.metaOnce.Do(func() {
		c.meta = &Meta{}
		err := c.ReadYAML("meta.yaml", c.meta)
		if errors.Is(err, fs.ErrNotExist) {
			err = nil
		}
		if err != nil {
			c.meta, c.metaErr = nil, err
		}
	})
	return c.meta, c.metaErr
}
