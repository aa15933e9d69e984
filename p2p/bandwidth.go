package p2p

import (
	"fmt"

	libp2pmetrics "github.com/libp2p/go-libp2p/core/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

// BandwidthMetric is the counter of the bytes a node's own host sent and
// received on its libp2p streams (gossip and req/resp payloads with their
// multistream framing; not the transports' encryption and muxer
// overhead), labelled direction="in" or "out". Nodes built with
// NewWithHost (on a host the caller owns) do not have it.
const BandwidthMetric = "libp2p_bandwidth_bytes_total"

// newBandwidth returns the counter to report the host's streams to and
// registers it on reg (nil: not registered).
func newBandwidth(reg prometheus.Registerer) (*libp2pmetrics.BandwidthCounter, error) {
	bw := libp2pmetrics.NewBandwidthCounter()
	if reg == nil {
		return bw, nil
	}
	for _, dir := range []string{"in", "out"} {
		c := prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        BandwidthMetric,
			Help:        "Bytes sent (out) and received (in) on the host's libp2p streams.",
			ConstLabels: prometheus.Labels{"direction": dir},
		}, func() float64 {
			t := bw.GetBandwidthTotals()
			if dir == "in" {
				return float64(t.TotalIn)
			}
			return float64(t.TotalOut)
		})
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register bandwidth metric: %w", err)
		}
	}
	return bw, nil
}
