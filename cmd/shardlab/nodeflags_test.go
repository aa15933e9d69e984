package main

import (
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/shardlab/shardlab/beacon/node"
)

func TestSlasherFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		enabled bool
		history uint64
		wantErr bool
	}{
		{name: "default on", enabled: true, history: 4096},
		{name: "off", args: []string{"--slasher=false"}, enabled: false, history: 4096},
		{name: "window", args: []string{"--slasher-history", "64"}, enabled: true, history: 64},
		{name: "zero window", args: []string{"--slasher-history", "0"}, wantErr: true},
		{name: "window too long", args: []string{"--slasher-history", "70000"}, wantErr: true},
		{name: "off ignores the window", args: []string{"--slasher=false", "--slasher-history", "0"}, enabled: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got node.SlasherConfig
			var applyErr error
			app := &cli.App{
				Flags: slasherFlags(),
				Action: func(c *cli.Context) error {
					got = node.DefaultConfig().Slasher
					applyErr = applySlasherFlags(c, &got)
					return nil
				},
			}
			if err := app.Run(append([]string{"shardlab"}, tc.args...)); err != nil {
				t.Fatal(err)
			}
			if (applyErr != nil) != tc.wantErr {
				t.Fatalf("error %v, want error %v", applyErr, tc.wantErr)
			}
			if !tc.wantErr && (got.Enabled != tc.enabled || got.HistoryEpochs != tc.history) {
				t.Fatalf("got enabled %v history %d, want %v %d", got.Enabled, got.HistoryEpochs, tc.enabled, tc.history)
			}
		})
	}
}
