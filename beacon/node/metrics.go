package node

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the node's own metrics; the chain and p2p register theirs.
type metrics struct {
	proposals    *prometheus.CounterVec
	attestations *prometheus.CounterVec
	syncing      prometheus.Gauge
	syncDistance prometheus.Gauge
	syncedBlocks prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		proposals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "beacon_validator_proposals_total",
			Help: "Block proposal duties of the hosted validators, by result (published, refused by slashing protection, failed).",
		}, []string{"result"}),
		attestations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "beacon_validator_attestations_total",
			Help: "Attestation duties of the hosted validators, by result (published, refused by slashing protection, failed).",
		}, []string{"result"}),
		syncing: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "beacon_syncing", Help: "1 while the node catches up with a peer by range requests.",
		}),
		syncDistance: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "beacon_sync_distance_slots", Help: "Current slot minus head slot.",
		}),
		syncedBlocks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "beacon_sync_blocks_total", Help: "Blocks imported from range and by-root requests.",
		}),
	}
	for _, r := range []string{"published", "refused", "failed"} {
		m.proposals.WithLabelValues(r)
		m.attestations.WithLabelValues(r)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.proposals, m.attestations, m.syncing, m.syncDistance, m.syncedBlocks} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register node metrics: %w", err)
		}
	}
	return m, nil
}
