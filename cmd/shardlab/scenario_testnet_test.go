package main

import (
	"strings"
	"testing"
)

// TestScenarioEngineFlag checks --engine before and after FILE|NAME: an
// unknown engine, and a scenario the testnet engine refuses before it
// starts any process.
func TestScenarioEngineFlag(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown engine", []string{"scenario", "run", "baseline", "--engine", "docker"}, `--engine "docker": expected sim or testnet`},
		{"link shaping on the testnet", []string{"scenario", "run", "--engine", "testnet", "latency-spike"}, `not supported on the testnet engine: step "spike" at slot 24: action latency`},
		{"garbage peer on the testnet", []string{"scenario", "run", "garbage-peer", "--engine", "testnet", "--testnet-dir", t.TempDir()}, `step "spam" at slot 8: action garbage_peer`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, code := runCLI(t, tc.args...)
			if code == 0 || !strings.Contains(out, tc.want) {
				t.Fatalf("exit %d, output lacks %q:\n%s", code, tc.want, out)
			}
		})
	}
}
