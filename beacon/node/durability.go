package node

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"

	"github.com/shardlab/shardlab/beacon/chain"
	"github.com/shardlab/shardlab/beacon/store"
	"github.com/shardlab/shardlab/beacon/store/kv"
)

// MarkerFile is the name of the head marker (store.Marker) in the data dir.
const MarkerFile = "beacon.head"

// ErrDataLost is wrapped by New when the database no longer holds the head
// that the head marker recorded and the node hosts validators: their
// slashing protection records of the lost period may be gone too, so
// signing could be slashable.
var ErrDataLost = errors.New("database lost committed writes")

// DescribeDamage adds to an error wrapping kv.ErrCorrupt or
// store.ErrCorrupt which database (where) is damaged and what to do about
// it; other errors are returned unchanged.
func DescribeDamage(err error, where string) error {
	if !errors.Is(err, kv.ErrCorrupt) && !errors.Is(err, store.ErrCorrupt) {
		return err
	}
	return fmt.Errorf("%w; the database %s is damaged: stop the node, move %s aside (keep it if its slashing protection matters) and start again with an empty one to sync the chain from peers",
		err, where, where)
}

// checkMarker compares the restored chain with the head marker of the last
// run. When the marker's block is gone, it reports exactly what was lost and
// lets the node sync it again from peers, unless the node hosts validators
// (ErrDataLost). It then records the restored head.
func (n *Node) checkMarker(where string) error {
	if n.cfg.DataDir == "" {
		return nil
	}
	path := filepath.Join(n.cfg.DataDir, MarkerFile)
	m, ok, err := store.ReadMarker(path)
	if errors.Is(err, store.ErrCorrupt) {
		// Written by rename, so never torn: edited by hand. It only
		// guards against loss, so go on without it.
		n.log.Warn("ignoring unreadable head marker", "err", err)
	} else if err != nil {
		return err
	}
	root, slot := n.chain.Head()
	if ok && m.Root != root {
		has, err := n.store.HasBlock(m.Root)
		if err != nil {
			return DescribeDamage(fmt.Errorf("check head marker: %w", err), where)
		}
		if !has {
			how := "recorded by the head marker of a run that did not shut down cleanly"
			if m.Clean {
				how = "recorded by the last clean shutdown"
			}
			lost := fmt.Sprintf("store recovered to slot %d; slots %d..%d %s (%s) are gone", slot, slot+1, m.Slot, how, path)
			if !n.cfg.Validators.Empty() {
				return fmt.Errorf("%w: %s: %s, and the slashing protection records written with them may be too; "+
					"start the node without --validators until the chain has finalized past slot %d, or move %s aside and sync a new data dir",
					ErrDataLost, where, lost, m.Slot, where)
			}
			n.log.Error(lost+", syncing from peers", "slot", slot, "root", root, "lost_to_slot", m.Slot, "lost_root", m.Root)
		}
	}
	return store.WriteMarker(path, store.Marker{Slot: slot, Root: root})
}

// markerWriter keeps the head marker up to date from the chain's head
// events, off the import path: one goroutine writes the latest head, so a
// burst of head changes costs one durable write.
type markerWriter struct {
	path string
	log  *slog.Logger

	mu      sync.Mutex
	pending *store.Marker
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
}

// startMarkerWriter subscribes to c's head changes.
func startMarkerWriter(c *chain.Service, path string, log *slog.Logger) (*markerWriter, func()) {
	w := &markerWriter{path: path, log: log, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	cancel := c.Subscribe(func(e chain.Event) {
		if e.Kind != chain.EventNewHead {
			return
		}
		w.mu.Lock()
		w.pending = &store.Marker{Slot: e.Slot, Root: e.Root}
		w.mu.Unlock()
		select {
		case w.wake <- struct{}{}:
		default:
		}
	})
	go w.loop()
	return w, cancel
}

func (w *markerWriter) loop() {
	defer close(w.done)
	for {
		select {
		case <-w.stop:
			return
		case <-w.wake:
		}
		w.mu.Lock()
		m := w.pending
		w.pending = nil
		w.mu.Unlock()
		if m == nil {
			continue
		}
		if err := store.WriteMarker(w.path, *m); err != nil {
			w.log.Warn("write head marker", "err", err)
		}
	}
}

// close stops the writer and records head as the clean-shutdown marker.
func (w *markerWriter) close(head store.Marker) error {
	close(w.stop)
	<-w.done
	head.Clean = true
	return store.WriteMarker(w.path, head)
}
