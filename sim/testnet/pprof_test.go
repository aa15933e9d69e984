package testnet

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// TestPprofLayout: with Pprof, every node gets a pprof port (from the
// layout or free) that its command line passes on; without, none.
func TestPprofLayout(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		pprof    bool
		basePort int
		want     func(i int) int // 0: any free port
	}{
		{name: "off", pprof: false, basePort: 19000, want: func(int) int { return -1 }},
		{name: "layout", pprof: true, basePort: 19000, want: func(i int) int { return 19300 + i }},
		{name: "free ports", pprof: true, basePort: 0, want: func(int) int { return 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := DefaultConfig()
			cfg.Pprof, cfg.BasePort = tc.pprof, tc.basePort
			for i, s := range cfg.NodeSpecs() {
				if err := cfg.layoutPprof(&s); err != nil {
					t.Fatal(err)
				}
				args := strings.Join(s.Args("/g", nil, "info"), " ")
				switch w := tc.want(i); {
				case w < 0 && (s.PprofPort != 0 || strings.Contains(args, "--pprof-port") || s.PprofURL() != ""):
					t.Fatalf("%s: pprof port %d without Pprof: %s", s.Name, s.PprofPort, args)
				case w == 0 && s.PprofPort <= 0, w > 0 && s.PprofPort != w:
					t.Fatalf("%s: pprof port %d, want %d", s.Name, s.PprofPort, w)
				case w >= 0 && !strings.Contains(args, "--pprof-port "+strconv.Itoa(s.PprofPort)):
					t.Fatalf("%s: command line without its pprof port: %s", s.Name, args)
				}
			}
		})
	}
	cfg := DefaultConfig()
	cfg.Binary, cfg.Pprof, cfg.BasePort = "/bin/true", true, 65536-metricsPortOffset-MaxProcesses
	if err := cfg.Validate(); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("pprof ports past 65535: %v", err)
	}
}

// TestGenesisArgsChainConfig: a chain config file replaces the preset.
func TestGenesisArgsChainConfig(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.ChainConfig = "/c/chain.yaml"
	got := strings.Join(cfg.GenesisArgs("/out"), " ")
	if !strings.HasPrefix(got, "genesis --config /c/chain.yaml --validators 64") || strings.Contains(got, "--preset") || !strings.Contains(got, "--shards 8") {
		t.Fatalf("GenesisArgs = %q", got)
	}
}
