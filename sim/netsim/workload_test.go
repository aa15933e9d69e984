package netsim

import "testing"

// TestSetWorkload starts a workload mid-run, changes its rate, stops it,
// and checks the transactions accepted in each stretch.
func TestSetWorkload(t *testing.T) {
	c := shardTestConfig(1)
	c.Epochs, c.Shard.TxRate = 2, 0
	s, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	accepted := func() uint64 { _, _, n := s.Workload(); return n }
	s.RunSlots(2)
	if n := accepted(); n != 0 {
		t.Fatalf("%d transactions without a workload", n)
	}
	if err := s.SetWorkload(5, 0.5); err != nil { // slots 3, 4: 4 s at 5/s
		t.Fatal(err)
	}
	s.RunSlots(4)
	first := accepted()
	if first < 15 || first > 20 {
		t.Fatalf("%d transactions in 4 s at 5/s", first)
	}
	if err := s.SetWorkload(20, 0); err != nil { // slots 5, 6: 4 s at 20/s
		t.Fatal(err)
	}
	s.RunSlots(6)
	second := accepted() - first
	if second < 60 || second > 80 {
		t.Fatalf("%d transactions in 4 s at 20/s", second)
	}
	if err := s.SetWorkload(0, 0); err != nil {
		t.Fatal(err)
	}
	s.RunSlots(8)
	if n := accepted(); n != first+second {
		t.Fatalf("%d transactions after the stop, want none", n-first-second)
	}
	for _, bad := range [][2]float64{{-1, 0}, {1, 1.5}} {
		if err := s.SetWorkload(bad[0], bad[1]); err == nil {
			t.Errorf("SetWorkload(%v, %v): no error", bad[0], bad[1])
		}
	}
	b, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.SetWorkload(1, 0); err == nil {
		t.Error("workload without shard nodes: no error")
	}
}
