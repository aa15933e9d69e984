package bench

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	bt "github.com/shardlab/shardlab/beacon/types"
	st "github.com/shardlab/shardlab/shard/types"
)

// TestClaimStages follows cross-shard transfers through the tracker with
// 2 s slots, 8-slot epochs and a 1-epoch window, and checks the slot
// breakdown of their claims.
func TestClaimStages(t *testing.T) {
	t.Parallel()
	const slot = 2 * time.Second
	start := time.Unix(1000, 0) // slot 1's start
	// at is tracker time: slot n starts at (n - 1) slots.
	at := func(n uint64, into time.Duration) time.Time { return start.Add(time.Duration(n-1)*slot + into) }
	type transfer struct {
		name                      string
		from                      uint64
		sent, included, linked    uint64 // slots
		claimSlot                 uint64
		seenInto                  time.Duration // after the claim slot's start
		wantInc, wantLink, wantCl int
		late                      bool
	}
	for _, tc := range []struct {
		name      string
		transfers []transfer
		wantObs   float64
	}{
		{"on time, claimed at the first slot after claimable", []transfer{
			{name: "a", from: 1, sent: 9, included: 10, linked: 24, claimSlot: 33, seenInto: 100 * time.Millisecond, wantInc: 1, wantLink: 14, wantCl: 1},
		}, 0.1},
		{"a late crosslink and a queued claim", []transfer{
			{name: "late", from: 2, sent: 12, included: 13, linked: 32, claimSlot: 42, seenInto: 300 * time.Millisecond, wantInc: 1, wantLink: 19, wantCl: 2, late: true},
		}, 0.3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := newTracker(start)
			tr.setChain(slot, 8, 1)
			for _, x := range tc.transfers {
				g := &genTx{tx: st.Transaction{Shard: 0, From: x.from, ToShard: 1, To: 7, Amount: 20}}
				r := tr.offer(g, at(x.sent, slot/2), 100)
				tr.result(r, at(x.sent, slot/2), txAccepted, "")
				tr.block(0, x.included, &st.ShardBlock{Body: st.ShardBlockBody{Transactions: []*st.Transaction{&g.tx}}}, at(x.included, 0))
				tr.crosslink(0, x.included, x.linked, at(x.linked, 0))
				c := &st.ReceiptClaim{Receipt: st.Receipt{SrcShard: 0, DstShard: 1, SrcSlot: bt.Slot(x.included), Sender: x.from, Recipient: 7, Amount: 20}}
				tr.block(1, x.claimSlot, &st.ShardBlock{Body: st.ShardBlockBody{Claims: []*st.ReceiptClaim{c}}}, at(x.claimSlot, x.seenInto))
			}
			recs, _, _ := tr.snapshot()
			_, _, lat := cohort(recs, 0, tr.at(at(100, 0)), tr.chain)
			cs := lat.ClaimStages
			if cs == nil || cs.N != len(tc.transfers) {
				t.Fatalf("claim stages %+v, want %d claims", cs, len(tc.transfers))
			}
			x := tc.transfers[0]
			if cs.SendToIncluded.P50 != x.wantInc || cs.IncludedToCrosslink.P50 != x.wantLink || cs.ClaimableToClaim.P50 != x.wantCl {
				t.Errorf("stages %d, %d, %d; want %d, %d, %d", cs.SendToIncluded.P50, cs.IncludedToCrosslink.P50, cs.ClaimableToClaim.P50,
					x.wantInc, x.wantLink, x.wantCl)
			}
			if late := cs.LateCrosslinks == 1; late != x.late {
				t.Errorf("late share %v, want late %v", cs.LateCrosslinks, x.late)
			}
			if math.Abs(cs.Observed.P50-tc.wantObs) > 1e-9 {
				t.Errorf("observed %v s, want %v", cs.Observed.P50, tc.wantObs)
			}
			var out bytes.Buffer
			writeClaimStages(&out, &Result{Latency: lat})
			if !strings.Contains(out.String(), "claimable->claim block") {
				t.Errorf("printed %q", out.String())
			}
		})
	}
}

// TestClaimStagesNeedClock: without the chain's clock there is no
// breakdown (and nothing printed).
func TestClaimStagesNeedClock(t *testing.T) {
	t.Parallel()
	recs := []txRecord{{acct: acctKey{shard: 0}, toShard: 1, offered: 1, claimed: 5, crosslinked: 3}}
	if cs := claimStages(recs, 0, 10, stageClock{}); cs != nil {
		t.Fatalf("claim stages without a clock: %+v", cs)
	}
	var out bytes.Buffer
	writeClaimStages(&out, &Result{})
	if out.Len() != 0 {
		t.Fatalf("printed %q", out.String())
	}
}
