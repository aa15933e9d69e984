package spectest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/shardlab/shardlab/beacon/params"
)

// ErrNoTests is wrapped by the errors of a directory that has no vectors (or
// no vectors of a requested config).
var ErrNoTests = errors.New("no spec tests")

// DefaultConfigs are the configs Run uses when Options.Configs is empty. The
// mainnet vectors (3.9 GB) are run only when asked for.
var DefaultConfigs = []string{ConfigMinimal, ConfigGeneral}

// KnownConfigs are the configs of the v0.8.3 vectors, in report order.
var KnownConfigs = []string{ConfigMinimal, ConfigMainnet, ConfigGeneral}

// TestsDir returns the tests directory of dir: dir/tests, or dir itself when
// dir is already a tests directory (it holds a config directory).
func TestsDir(dir string) (string, error) {
	if dir == "" {
		return "", fmt.Errorf("find tests dir: %w: no directory given", ErrNoTests)
	}
	t := filepath.Join(dir, "tests")
	if isDir(t) {
		return t, nil
	}
	for _, c := range KnownConfigs {
		if isDir(filepath.Join(dir, c)) {
			return dir, nil
		}
	}
	return "", fmt.Errorf("find tests dir: %w: %s has no tests directory", ErrNoTests, dir)
}

// AvailableConfigs returns the known configs present under dir, in
// KnownConfigs order.
func AvailableConfigs(dir string) ([]string, error) {
	t, err := TestsDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, c := range KnownConfigs {
		if isDir(filepath.Join(t, c)) {
			out = append(out, c)
		}
	}
	return out, nil
}

// ConfigFor returns the preset of a config directory: nil for general, and an
// error for a config that is not a known preset.
func ConfigFor(config string) (*params.Config, error) {
	if config == ConfigGeneral {
		return nil, nil
	}
	cfg, err := params.Preset(config)
	if err != nil {
		return nil, fmt.Errorf("load preset %q: %w", config, err)
	}
	return cfg, nil
}

// Discover returns every case of the given configs under dir, in path order.
// It fails when dir has no tests directory or one of configs is missing.
func Discover(dir string, configs []string) ([]*Case, error) {
	t, err := TestsDir(dir)
	if err != nil {
		return nil, err
	}
	if len(configs) == 0 {
		configs = DefaultConfigs
	}
	var cases []*Case
	for _, config := range configs {
		root := filepath.Join(t, config)
		if !isDir(root) {
			return nil, fmt.Errorf("discover config %s: %w: %s does not exist", config, ErrNoTests, root)
		}
		cfg, err := ConfigFor(config)
		if err != nil {
			return nil, err
		}
		found, err := discoverConfig(root, config, cfg)
		if err != nil {
			return nil, err
		}
		cases = append(cases, found...)
	}
	return cases, nil
}

func discoverConfig(root, config string, cfg *params.Config) ([]*Case, error) {
	var cases []*Case
	forks, err := subdirs(root)
	if err != nil {
		return nil, err
	}
	for _, fork := range forks {
		runners, err := subdirs(filepath.Join(root, fork))
		if err != nil {
			return nil, err
		}
		for _, runner := range runners {
			handlers, err := subdirs(filepath.Join(root, fork, runner))
			if err != nil {
				return nil, err
			}
			for _, handler := range handlers {
				suites, err := subdirs(filepath.Join(root, fork, runner, handler))
				if err != nil {
					return nil, err
				}
				for _, suite := range suites {
					dir := filepath.Join(root, fork, runner, handler, suite)
					names, err := subdirs(dir)
					if err != nil {
						return nil, err
					}
					for _, name := range names {
						cases = append(cases, &Case{
							Config:  config,
							Fork:    fork,
							Runner:  runner,
							Handler: handler,
							Suite:   suite,
							Name:    name,
							Dir:     filepath.Join(dir, name),
							Cfg:     cfg,
						})
					}
				}
			}
		}
	}
	return cases, nil
}

// subdirs returns the names of the directories in dir, sorted.
func subdirs(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list spec test dir: %w", err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	return out, nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
