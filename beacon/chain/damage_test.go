package chain

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/shardlab/shardlab/beacon/store"
	"github.com/shardlab/shardlab/beacon/types"
)

// TestRestoreDamagedStore restarts a chain of 6 blocks whose stored block of
// slot 4 was damaged: unreadable bytes are refused (the store is damaged,
// and may be elsewhere too); a block that decodes but that the rules reject
// is dropped with its descendants, with an error log saying exactly which
// slots are gone, and the store ends consistent with the restored head.
func TestRestoreDamagedStore(t *testing.T) {
	t.Parallel()
	f := defaultFixture(t)
	cases := []struct {
		name    string
		damage  func(b *types.ShardBeaconBlock) []byte
		wantErr error
		wantLog string
	}{
		{name: "unreadable block", damage: func(*types.ShardBeaconBlock) []byte { return []byte{1, 2, 3} },
			wantErr: store.ErrCorrupt},
		{name: "rejected block", damage: func(b *types.ShardBeaconBlock) []byte {
			bad := *b
			bad.StateRoot[0] ^= 1
			buf, err := bad.MarshalSSZ()
			if err != nil {
				t.Fatal(err)
			}
			return buf
		}, wantLog: "store recovered to slot 3; slots 4..6 of the stored chain are gone"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := memDB(t)
			s := f.newService(t, db)
			seg := f.build(t, f.genesis, 1, 6, false)
			importSeg(t, f, s, seg)
			r := root(t, seg.blocks[3])
			if err := db.Put(append([]byte("blk/"), r[:]...), tc.damage(seg.blocks[3])); err != nil {
				t.Fatal(err)
			}
			st, err := store.New(db, f.cfg)
			if err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			cfg := DefaultConfig()
			cfg.Transition, cfg.Store, cfg.Genesis = f.tr, st, f.genesis
			cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			restored, err := New(cfg)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), r.String()) {
					t.Fatalf("got %v, want %v naming block %s", err, tc.wantErr, r)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(logs.String(), tc.wantLog) {
				t.Fatalf("log lacks %q:\n%s", tc.wantLog, logs.String())
			}
			head, slot := restored.Head()
			if want := root(t, seg.blocks[2]); head != want || slot != 3 {
				t.Fatalf("restored head %s at %d, want %s at 3", head, slot, want)
			}
			if stored, err := st.Head(); err != nil || stored != head {
				t.Fatalf("stored head %s (%v), restored %s", stored, err, head)
			}
		})
	}
}
