package netsim

import (
	"errors"
	"testing"
	"time"
)

func TestCrashRestartCatchesUp(t *testing.T) {
	s, err := New(testConfig(3, 6))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.RunSlots(7)
	if err := s.Crash(3); err != nil {
		t.Fatal(err)
	}
	if err := s.Crash(3); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("second crash: %v, want ErrInvalidConfig", err)
	}
	s.RunSlots(23)
	down, _ := s.Status(3)
	up, _ := s.Status(0)
	if down.Up || down.HeadSlot >= up.HeadSlot {
		t.Fatalf("crashed node %+v kept up with %+v", down, up)
	}
	if err := s.Restart(3); err != nil {
		t.Fatal(err)
	}
	s.RunSlots(47)
	for i := range s.NodeCount() {
		st, err := s.Status(i)
		if err != nil {
			t.Fatal(err)
		}
		if !st.Up || st.Head != up.Head && st.HeadSlot < 46 || st.Finalized < 3 {
			t.Fatalf("node %d after restart: %+v", i, st)
		}
	}
	if _, err := s.Status(4); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("status of node 4: %v, want ErrInvalidConfig", err)
	}
}

func TestDutiesOffStallFinality(t *testing.T) {
	s, err := New(testConfig(5, 6))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, i := range []int{2, 3} {
		if err := s.SetDuties(i, false); err != nil {
			t.Fatal(err)
		}
	}
	s.RunSlots(47)
	st, _ := s.Status(0)
	if st.Finalized != 0 || st.Justified != 0 || st.HeadSlot < 40 {
		t.Fatalf("half the validators offline: %+v, want no justification but a growing chain", st)
	}
	if first, count, err := s.ValidatorRange(3); err != nil || first != 48 || count != 16 {
		t.Fatalf("ValidatorRange(3) = %d, %d, %v", first, count, err)
	}
	if err := s.SetLoss(1); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("SetLoss(1): %v", err)
	}
}

func TestLinkFault(t *testing.T) {
	s, err := New(testConfig(2, 4))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Node 3's traffic arrives 5 s (two slots and more) late: it falls
	// behind while the others keep finalizing.
	if err := s.SetLinkFault(3, LinkFault{Delay: Latency{Mean: 5 * time.Second}}); err != nil {
		t.Fatal(err)
	}
	s.RunSlots(39)
	slow, _ := s.Status(3)
	fast, _ := s.Status(0)
	if fast.Finalized < 2 || slow.HeadSlot+2 > fast.HeadSlot {
		t.Fatalf("degraded node %+v, healthy node %+v: want the degraded one behind", slow, fast)
	}
	if err := s.SetLinkFault(3, LinkFault{}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetLinkFault(3, LinkFault{Loss: 1}); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("loss 1: %v, want ErrInvalidConfig", err)
	}
}
