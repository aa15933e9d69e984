package deploy

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestParseTimeline parses the documented format and rejects unknown
// fields and bad durations.
func TestParseTimeline(t *testing.T) {
	tl, err := ParseTimeline([]byte("faults:\n  - kind: delay\n    targets: [beacon-1]\n    at: 1m30s\n    duration: 2m\n    latency: 200ms\n"))
	if err != nil {
		t.Fatal(err)
	}
	f := tl.Faults[0]
	if f.Kind != FaultDelay || f.Targets[0] != "beacon-1" || time.Duration(f.At) != 90*time.Second ||
		time.Duration(f.Duration) != 2*time.Minute || time.Duration(f.Latency) != 200*time.Millisecond {
		t.Fatalf("parsed %+v", f)
	}
	for name, bad := range map[string]string{
		"unknown field": "faults:\n  - kind: delay\n    target: [beacon-1]\n",
		"bad duration":  "faults:\n  - kind: kill\n    targets: [beacon-1]\n    at: soon\n",
		"not a list":    "faults: 3\n",
	} {
		if _, err := ParseTimeline([]byte(bad)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

// TestTimelineValidate rejects each kind of inconsistent fault with a
// message naming the problem.
func TestTimelineValidate(t *testing.T) {
	nodes := []string{"beacon-0", "beacon-1", "shard-0"}
	ok := Fault{Kind: FaultPartition, Targets: []string{"beacon-0"}, At: Duration(time.Minute), Duration: Duration(time.Minute)}
	tests := []struct {
		name  string
		edit  func(f *Fault)
		want  string
		empty bool
	}{
		{name: "valid", edit: func(*Fault) {}},
		{name: "no faults", empty: true, want: "no faults"},
		{name: "unknown kind", edit: func(f *Fault) { f.Kind = "flood" }, want: `kind "flood"`},
		{name: "no targets", edit: func(f *Fault) { f.Targets = nil }, want: "no targets"},
		{name: "unknown node", edit: func(f *Fault) { f.Targets = []string{"beacon-9"} }, want: `node "beacon-9"`},
		{name: "target is a peer", edit: func(f *Fault) { f.Peers = []string{"beacon-0"} }, want: "named twice"},
		{name: "peers of a kill", edit: func(f *Fault) { f.Kind, f.Peers = FaultKill, []string{"beacon-1"} }, want: "peers"},
		{name: "negative at", edit: func(f *Fault) { f.At = -1 }, want: "negative"},
		{name: "no duration", edit: func(f *Fault) { f.Duration = 0 }, want: "duration"},
		{name: "restart with duration", edit: func(f *Fault) { f.Kind = FaultRestart }, want: "instantaneous"},
		{name: "delay without latency", edit: func(f *Fault) { f.Kind = FaultDelay }, want: "latency"},
		{name: "latency on a partition", edit: func(f *Fault) { f.Latency = Duration(time.Second) }, want: "only for delay"},
		{name: "negative jitter", edit: func(f *Fault) { f.Kind, f.Latency, f.Jitter = FaultDelay, Duration(time.Second), -1 }, want: "jitter"},
		{name: "loss over 100", edit: func(f *Fault) { f.Kind, f.Loss = FaultLoss, 101 }, want: "percentage"},
		{name: "loss on a kill", edit: func(f *Fault) { f.Kind, f.Loss = FaultKill, 5 }, want: "only for loss"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var tl Timeline
			if !tc.empty {
				f := ok
				f.Targets = append([]string(nil), ok.Targets...)
				tc.edit(&f)
				tl.Faults = []Fault{f}
			}
			err := tl.Validate(nodes)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("valid timeline: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrInvalidConfig)):
				t.Fatalf("err %v, want ErrInvalidConfig containing %q", err, tc.want)
			}
		})
	}
}
