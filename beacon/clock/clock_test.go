package clock

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shardlab/shardlab/beacon/types"
)

func TestSlots(t *testing.T) {
	t.Parallel()
	genesis := uint64(1_600_000_000)
	m := NewManual(time.Unix(int64(genesis)-3, 0))
	s, err := NewSlots(m, genesis, 6)
	if err != nil {
		t.Fatal(err)
	}
	if slot, ok := s.CurrentSlot(); ok || slot != 0 {
		t.Fatalf("before genesis: slot %d, ok %v", slot, ok)
	}
	if d := s.UntilNextSlot(); d != 3*time.Second {
		t.Fatalf("until genesis: %v", d)
	}
	if f := s.SlotFraction(); f != 0 {
		t.Fatalf("fraction before genesis: %v", f)
	}
	tests := []struct {
		name     string
		offset   time.Duration
		slot     types.Slot
		until    time.Duration
		fraction float64
	}{
		{"genesis", 0, 0, 6 * time.Second, 0},
		{"one third of slot 0", 2 * time.Second, 0, 4 * time.Second, 1.0 / 3},
		{"end of slot 0", 6*time.Second - time.Nanosecond, 0, time.Nanosecond, float64(6*time.Second-time.Nanosecond) / float64(6*time.Second)},
		{"slot 1", 6 * time.Second, 1, 6 * time.Second, 0},
		{"slot 10 half", 63 * time.Second, 10, 3 * time.Second, 0.5},
	}
	for _, tc := range tests {
		m.Set(time.Unix(int64(genesis), 0).Add(tc.offset))
		slot, ok := s.CurrentSlot()
		if !ok || slot != tc.slot {
			t.Errorf("%s: slot %d (ok %v), want %d", tc.name, slot, ok, tc.slot)
		}
		if d := s.UntilNextSlot(); d != tc.until {
			t.Errorf("%s: until next slot %v, want %v", tc.name, d, tc.until)
		}
		if f := s.SlotFraction(); f != tc.fraction {
			t.Errorf("%s: fraction %v, want %v", tc.name, f, tc.fraction)
		}
		if got := s.SlotStart(slot); got.After(m.Now()) || m.Now().Sub(got) >= 6*time.Second {
			t.Errorf("%s: slot start %v does not contain %v", tc.name, got, m.Now())
		}
	}
	m.Set(time.Unix(int64(genesis)+8*6*3, 0))
	if e := s.CurrentEpoch(8); e != 3 {
		t.Fatalf("epoch %d, want 3", e)
	}
	if u := s.Unix(); u != genesis+144 {
		t.Fatalf("unix %d", u)
	}
	if _, err := NewSlots(m, genesis, 0); err == nil {
		t.Fatal("zero SECONDS_PER_SLOT accepted")
	}
}

func TestManualWaitUntil(t *testing.T) {
	t.Parallel()
	start := time.Unix(1000, 0)
	m := NewManual(start)
	done := make(chan error, 1)
	go func() { done <- m.WaitUntil(context.Background(), start.Add(10*time.Second)) }()
	m.Advance(5 * time.Second)
	select {
	case err := <-done:
		t.Fatalf("woke at +5s: %v", err)
	case <-time.After(10 * time.Millisecond):
	}
	m.Advance(5 * time.Second)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.WaitUntil(ctx, start.Add(time.Hour)); err == nil {
		t.Fatal("canceled wait returned nil")
	}
}

func TestRealWaitUntilFakeTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c Clock = Real{}
		target := c.Now().Add(90 * time.Second)
		if err := WaitUntil(context.Background(), c, target); err != nil {
			t.Fatal(err)
		}
		if now := c.Now(); now.Before(target) {
			t.Fatalf("woke at %v, before %v", now, target)
		}
		// A clock without WaitUntil is polled.
		target = target.Add(time.Minute)
		if err := WaitUntil(context.Background(), plain{}, target); err != nil {
			t.Fatal(err)
		}
		if time.Now().Before(target) {
			t.Fatal("polling wait woke early")
		}
	})
}

type plain struct{}

func (plain) Now() time.Time { return time.Now() }
