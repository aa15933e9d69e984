package p2p

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the Node's Prometheus collectors. They are registered on the
// Registerer given to New; several nodes in one process (the simulator)
// must each get their own, e.g. prometheus.WrapRegistererWith(
// prometheus.Labels{"node": name}, reg).
type metrics struct {
	peers     prometheus.Gauge
	received  *prometheus.CounterVec
	rejected  *prometheus.CounterVec
	ignored   *prometheus.CounterVec
	published *prometheus.CounterVec
	requests  *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		peers: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "libp2p_peers",
			Help: "Number of connected libp2p peers.",
		}),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "p2p_gossip_received_total",
			Help: "Gossip messages received from peers, before validation.",
		}, []string{"topic"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "p2p_gossip_rejected_total",
			Help: "Gossip messages rejected (undecodable or invalid); the sender is penalized.",
		}, []string{"topic"}),
		ignored: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "p2p_gossip_ignored_total",
			Help: "Gossip messages ignored by validation, without penalty.",
		}, []string{"topic"}),
		published: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "p2p_gossip_published_total",
			Help: "Gossip messages published by this node.",
		}, []string{"topic"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "p2p_reqresp_requests_total",
			Help: "Request/response exchanges by protocol name, direction (inbound/outbound) and result.",
		}, []string{"protocol", "direction", "result"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.peers, m.received, m.rejected, m.ignored, m.published, m.requests} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metric: %w", err)
		}
	}
	return m, nil
}
