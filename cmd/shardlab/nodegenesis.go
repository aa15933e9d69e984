package main

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"
)

// genesisPoll is how often --genesis-wait looks for the genesis files.
const genesisPoll = 500 * time.Millisecond

// genesisWaitFlag lets a node start before its genesis exists: containers
// start while a one-shot genesis job writes the shared volume.
func genesisWaitFlag() cli.Flag {
	return &cli.DurationFlag{Name: "genesis-wait", Usage: "wait up to this long for --genesis to hold a complete genesis (a container started before the genesis job finished); 0: fail at once", Category: categoryNode}
}

// loadNodeGenesis loads --genesis, retrying for up to --genesis-wait while
// the files are missing or incomplete (a writer still at work), and gives
// up early when the command's context ends.
func loadNodeGenesis(c *cli.Context) (*genesis, error) {
	dir, wait := c.Path("genesis"), c.Duration("genesis-wait")
	if wait < 0 {
		return nil, fmt.Errorf("--genesis-wait %v: negative", wait)
	}
	deadline := time.Now().Add(wait)
	for {
		g, err := loadGenesis(dir)
		if err == nil || !time.Now().Before(deadline) {
			if err != nil && wait > 0 {
				err = fmt.Errorf("after waiting %v: %w", wait, err)
			}
			return g, err
		}
		select {
		case <-c.Context.Done():
			return nil, fmt.Errorf("wait for genesis: %w", c.Context.Err())
		case <-time.After(min(genesisPoll, time.Until(deadline))):
		}
	}
}
