package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestBenchThroughputUsage checks that bad flags are refused before any
// network starts.
func TestBenchThroughputUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"too few shards for the preset", []string{"--shards", "8,4"}, "--shards 4: the minimal preset needs at least SLOTS_PER_EPOCH = 8 shards"},
		{"bad shard list", []string{"--shards", "8,x"}, `--shards "8,x"`},
		{"bad cross-shard", []string{"--cross-shard", "2"}, "cross-shard fraction 2: 0 to 1"},
		{"bad slot time", []string{"--slot-time", "1.5s"}, "slot time 1.5s"},
		{"zipf at 1", []string{"--zipf", "1"}, "zipf exponent 1"},
		{"no rate", []string{"--rate", "0"}, "rate 0 without find-max"},
		{"bad compare file", []string{"--compare", "/nonexistent/results.json"}, "--compare: read results"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errw bytes.Buffer
			app := newApp()
			app.Writer, app.ErrWriter = &out, &errw
			app.ExitErrHandler = func(*cli.Context, error) {}
			err := app.Run(append([]string{"shardlab", "bench", "throughput"}, tc.args...))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
