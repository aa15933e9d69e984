package scenario

import "fmt"

// shardCharts turns the shard layer's samples (Report.Shard) into the
// report page's optional series and timeline events: the crosslinked epoch
// of every shard, the receipts sent and claimed, and a mark at each slot
// where fraud proofs were included or a shard's crosslink went back. They
// are derived when the page is drawn, so report.json keeps the samples
// once.
func shardCharts(r *Report) ([]Series, []Event) {
	if r.Shard == nil || len(r.Shard.Samples) == 0 {
		return nil, nil
	}
	var rep Report // a scratch report: AddPoint groups the points by series
	var prev *ShardSample
	for i := range r.Shard.Samples {
		s := &r.Shard.Samples[i]
		for k, end := range s.Crosslinks {
			rep.AddPoint(ChartCrosslinks, fmt.Sprintf("shard %d", k), s.Slot, float64(end))
			if prev != nil && k < len(prev.Crosslinks) && end < prev.Crosslinks[k] {
				rep.Events = append(rep.Events, Event{Slot: s.Slot, Kind: EventRollback,
					Label: fmt.Sprintf("shard %d: epoch %d -> %d", k, prev.Crosslinks[k], end)})
			}
		}
		rep.AddPoint(ChartReceipts, "sent", s.Slot, float64(s.ReceiptsSent))
		rep.AddPoint(ChartReceipts, "claimed", s.Slot, float64(s.ReceiptsClaimed))
		if prev != nil && s.FraudProofs > prev.FraudProofs {
			rep.Events = append(rep.Events, Event{Slot: s.Slot, Kind: EventFraudProof,
				Label: fmt.Sprintf("%d included", s.FraudProofs-prev.FraudProofs)})
		}
		prev = s
	}
	return rep.Series, rep.Events
}
