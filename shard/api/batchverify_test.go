package api_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"sync"
	"testing"

	beaconapi "github.com/shardlab/shardlab/beacon/api"
	"github.com/shardlab/shardlab/beacon/api/apitest"
	"github.com/shardlab/shardlab/shard/api"
	st "github.com/shardlab/shardlab/shard/types"
)

// preverifyingShards is the fake backend with a recording
// PreverifyTransactions.
type preverifyingShards struct {
	*fakeShards
	mu    sync.Mutex
	calls [][]*st.Transaction
}

func (p *preverifyingShards) PreverifyTransactions(txs []*st.Transaction) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, txs)
}

// TestSubmitBatchPreverifies checks that the batch route hands the
// batch's decodable transactions of the path's shard, in order, to a
// backend's PreverifyTransactions once before submitting them.
func TestSubmitBatchPreverifies(t *testing.T) {
	t.Parallel()
	f := newFakeShards(t)
	p := &preverifyingShards{fakeShards: f}
	be := apitest.NewBackend(f.beacon)
	logger := slog.New(slog.DiscardHandler)
	srv := beaconapi.NewServer(beaconapi.DefaultServerConfig(), be, be, logger)
	srv.Mount(api.Prefix, api.New(api.DefaultConfig(), p, be, logger))
	h := srv.Handler()

	first := signedTx(f, 0, 7, 0, 1, 9, 100)
	second := signedTx(f, 0, 10, 0, 0, 9, 50)
	wrongShard := signedTx(f, 1, 7, 0, 1, 9, 100)
	body := append([]byte("["), bytes.Join([][]byte{txJSON(t, first), txJSON(t, wrongShard), []byte(`{"shard":1}`), txJSON(t, second)}, []byte(","))...)
	body = append(body, ']')
	rec := do(t, h, request{method: http.MethodPost, path: "/shardlab/v1/shards/0/transactions/batch",
		header: map[string]string{"Content-Type": "application/json"}, body: body})
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if len(p.calls) != 1 {
		t.Fatalf("%d PreverifyTransactions calls, want 1", len(p.calls))
	}
	if got := p.calls[0]; len(got) != 2 || *got[0] != *first || *got[1] != *second {
		t.Fatalf("preverified %d transactions, want the batch's two of shard 0 in order", len(got))
	}
	if pooled := f.pooled(); len(pooled) < 2 || *pooled[len(pooled)-1] != *second {
		t.Fatalf("the preverified transactions were not submitted")
	}
}
