package deploy

import (
	"bytes"
	"fmt"
	"slices"
	"time"

	"gopkg.in/yaml.v3"
)

// Fault kinds of a timeline: the infrastructure faults a scenario can
// replay on a cluster.
const (
	FaultPartition = "partition" // cut targets off from peers (or every other node)
	FaultDelay     = "delay"     // add latency (and jitter) to the targets' traffic
	FaultLoss      = "loss"      // drop a percentage of the targets' packets
	FaultKill      = "kill"      // take the targets down for duration, then bring them back
	FaultRestart   = "restart"   // kill the targets once; they restart on their data
)

// Timeline is a fault timeline: what happens to which nodes, when, for how
// long. It is the YAML document
//
//	faults:
//	  - kind: partition          # partition, delay, loss, kill or restart
//	    targets: [beacon-0]      # node names, as testnet up names them
//	    peers: [beacon-1]        # partition, delay, loss: the other side (default: every other node)
//	    at: 2m                   # from the start of the replay
//	    duration: 1m             # how long the fault lasts (not for restart)
//	  - kind: delay
//	    targets: [shard-0, shard-1]
//	    at: 30s
//	    duration: 2m
//	    latency: 200ms
//	    jitter: 50ms             # optional
//	  - kind: loss
//	    targets: [beacon-2]
//	    at: 1m
//	    duration: 1m
//	    loss: 25                 # percent of packets
//
// Scenarios (issue 9) can embed the same list.
type Timeline struct {
	Faults []Fault `yaml:"faults"`
}

// Fault is one entry of a Timeline.
type Fault struct {
	Kind     string   `yaml:"kind"`
	Targets  []string `yaml:"targets"`
	Peers    []string `yaml:"peers,omitempty"`
	At       Duration `yaml:"at"`
	Duration Duration `yaml:"duration,omitempty"`
	Latency  Duration `yaml:"latency,omitempty"`
	Jitter   Duration `yaml:"jitter,omitempty"`
	Loss     float64  `yaml:"loss,omitempty"`
}

// Duration is a time.Duration written as in Go ("90s", "2m30s").
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return fmt.Errorf("line %d: duration: %w", n.Line, err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: duration %q: %w", n.Line, s, err)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the Go duration string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// ParseTimeline decodes a fault timeline strictly: unknown fields are
// errors. Validate checks it against a network's nodes.
func ParseTimeline(data []byte) (*Timeline, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var t Timeline
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("parse fault timeline: %w", err)
	}
	return &t, nil
}

// Validate checks every fault against the network's node names.
func (t Timeline) Validate(nodes []string) error {
	if len(t.Faults) == 0 {
		return fmt.Errorf("%w: fault timeline: no faults", ErrInvalidConfig)
	}
	for i, f := range t.Faults {
		if err := f.validate(nodes); err != nil {
			return fmt.Errorf("%w: fault %d (%s): %w", ErrInvalidConfig, i, f.Kind, err)
		}
	}
	return nil
}

func (f Fault) validate(nodes []string) error {
	network := f.Kind == FaultPartition || f.Kind == FaultDelay || f.Kind == FaultLoss
	switch f.Kind {
	case FaultPartition, FaultDelay, FaultLoss, FaultKill, FaultRestart:
	default:
		return fmt.Errorf("kind %q: want partition, delay, loss, kill or restart", f.Kind)
	}
	if len(f.Targets) == 0 {
		return fmt.Errorf("no targets")
	}
	seen := make(map[string]bool)
	for _, n := range append(slices.Clone(f.Targets), f.Peers...) {
		if !slices.Contains(nodes, n) {
			return fmt.Errorf("node %q: not in the network (%v)", n, nodes)
		}
		if seen[n] {
			return fmt.Errorf("node %q named twice", n)
		}
		seen[n] = true
	}
	switch {
	case len(f.Peers) > 0 && !network:
		return fmt.Errorf("peers: only for partition, delay and loss")
	case f.At < 0:
		return fmt.Errorf("at %v: negative", time.Duration(f.At))
	case f.Kind == FaultRestart && f.Duration != 0:
		return fmt.Errorf("duration: a restart is instantaneous")
	case f.Kind != FaultRestart && f.Duration <= 0:
		return fmt.Errorf("duration %v: want a positive duration", time.Duration(f.Duration))
	case f.Kind == FaultDelay && f.Latency <= 0:
		return fmt.Errorf("latency %v: want a positive duration", time.Duration(f.Latency))
	case f.Kind != FaultDelay && (f.Latency != 0 || f.Jitter != 0):
		return fmt.Errorf("latency and jitter: only for delay")
	case f.Jitter < 0:
		return fmt.Errorf("jitter %v: negative", time.Duration(f.Jitter))
	case f.Kind == FaultLoss && (f.Loss <= 0 || f.Loss > 100):
		return fmt.Errorf("loss %v: want a percentage in (0, 100]", f.Loss)
	case f.Kind != FaultLoss && f.Loss != 0:
		return fmt.Errorf("loss: only for loss")
	}
	return nil
}
