package store

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/shardlab/shardlab/beacon/types"
)

// Marker is the head a node last knew to be committed to its database,
// kept in a small file beside the database and written atomically and
// durably (temporary file, fsync, rename, fsync of the directory). On the
// next start the database must still hold the marker's block: if it does
// not, writes the database had acknowledged as durable are gone (a torn or
// truncated WAL, a lying disk, a restored backup) and the node reports what
// it lost instead of silently starting from an older head.
type Marker struct {
	Slot types.Slot
	Root types.Root
	// Clean says the node wrote the marker as it shut down cleanly.
	Clean bool
}

// ReadMarker reads the marker file at path; ok is false when there is none
// (a data dir written before markers existed, or a fresh one).
func ReadMarker(path string) (m Marker, ok bool, err error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Marker{}, false, nil
	}
	if err != nil {
		return Marker{}, false, fmt.Errorf("read head marker: %w", err)
	}
	fields := strings.Fields(string(raw))
	if len(fields) != 3 || (fields[2] != "clean" && fields[2] != "running") {
		return Marker{}, false, fmt.Errorf("read head marker %s: %w: want \"SLOT ROOT clean|running\"", path, ErrCorrupt)
	}
	slot, err := strconv.ParseUint(fields[0], 10, 64)
	if err != nil {
		return Marker{}, false, fmt.Errorf("read head marker %s: %w: slot %q", path, ErrCorrupt, fields[0])
	}
	r, err := hex.DecodeString(strings.TrimPrefix(fields[1], "0x"))
	if err != nil || len(r) != 32 {
		return Marker{}, false, fmt.Errorf("read head marker %s: %w: root %q", path, ErrCorrupt, fields[1])
	}
	return Marker{Slot: types.Slot(slot), Root: types.Root(r), Clean: fields[2] == "clean"}, true, nil
}

// WriteMarker replaces the marker file at path with m, atomically and
// durably: after it returns, a crash leaves either m or nothing newer.
func WriteMarker(path string, m Marker) error {
	state := "running"
	if m.Clean {
		state = "clean"
	}
	data := fmt.Sprintf("%d %s %s\n", m.Slot, m.Root, state)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("write head marker: %w", err)
	}
	_, werr := f.WriteString(data)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("write head marker: %w", werr)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write head marker: %w", err)
	}
	dir, err := os.Open(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("write head marker: %w", err)
	}
	defer dir.Close()
	if err := dir.Sync(); err != nil {
		return fmt.Errorf("write head marker: sync dir: %w", err)
	}
	return nil
}
