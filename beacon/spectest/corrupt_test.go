package spectest_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shardlab/shardlab/beacon/spectest"
)

// TestHandlersRejectCorruptVectors copies official cases, corrupts one file
// at a time, and checks that the handlers notice: a handler that passes
// everything would pass the real vectors too.
func TestHandlersRejectCorruptVectors(t *testing.T) {
	dir := specDir(t)
	tests, err := spectest.TestsDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	type corruption struct {
		file   string
		mutate func([]byte) []byte
	}
	flipHexDigit := func(b []byte) []byte {
		s := string(b)
		i := strings.Index(s, "0x") + 2
		c := byte('0')
		if s[i] == '0' {
			c = '1'
		}
		return []byte(s[:i] + string(c) + s[i+1:])
	}
	flipByte := func(i int) func([]byte) []byte {
		return func(b []byte) []byte {
			b = append([]byte{}, b...)
			b[i] ^= 0x01
			return b
		}
	}
	appendByte := func(b []byte) []byte { return append(append([]byte{}, b...), 0) }
	replace := func(old, new string) func([]byte) []byte {
		return func(b []byte) []byte {
			if !strings.Contains(string(b), old) {
				t.Fatalf("corruption %q -> %q does not apply to %q", old, new, b)
			}
			return []byte(strings.Replace(string(b), old, new, 1))
		}
	}
	for _, tc := range []struct {
		config, path string
		corruptions  []corruption
	}{
		{"minimal", "ssz_static/VoluntaryExit/ssz_random/case_0", []corruption{
			{"roots.yaml", flipHexDigit},
			{"roots.yaml", replace("signing_root: '0xa", "signing_root: '0xb")},
			{"serialized.ssz", flipByte(0)},
			{"serialized.ssz", appendByte},
			{"value.yaml", replace("epoch: 9", "epoch: 8")},
		}},
		{"minimal", "ssz_static/BeaconState/ssz_random/case_0", []corruption{
			{"roots.yaml", flipHexDigit},
			{"serialized.ssz", flipByte(9)},
			{"value.yaml", replace("slot: 1493", "slot: 1494")},
		}},
		{"minimal", "ssz_static/Attestation/ssz_random/case_0", []corruption{
			{"roots.yaml", replace("signing_root: '0xb", "signing_root: '0xc")},
		}},
		{"general", "ssz_generic/uints/valid/uint_256_random_0", []corruption{
			{"meta.yaml", flipHexDigit},
			{"serialized.ssz", flipByte(31)},
			{"serialized.ssz", appendByte},
			{"value.yaml", replace("'", "'1")},
		}},
		{"general", "ssz_generic/bitlist/valid/bitlist_16_random_0", []corruption{
			{"meta.yaml", flipHexDigit},
			{"value.yaml", flipHexDigit},
		}},
		{"general", "ssz_generic/containers/valid/ComplexTestStruct_random_0", []corruption{
			{"meta.yaml", flipHexDigit},
			{"meta.yaml", replace("signing_root: '0x9", "signing_root: '0x8")},
			{"serialized.ssz", flipByte(0)},
			{"value.yaml", replace("C: 96", "C: 97")},
		}},
		{"general", "ssz_generic/containers/valid/BitsStruct_random_0", []corruption{
			{"value.yaml", replace("B: '0x02'", "B: '0x01'")},
		}},
		{"general", "ssz_generic/boolean/invalid/byte_2", []corruption{
			{"serialized.ssz", func([]byte) []byte { return []byte{1} }},
		}},
		{"general", "ssz_generic/containers/invalid/VarTestStruct_offset_2_plus_one", []corruption{
			{"serialized.ssz", replace("\x08\x00\x00\x00", "\x07\x00\x00\x00")},
		}},
	} {
		src := filepath.Join(tests, tc.config, "phase0", filepath.FromSlash(tc.path))
		if _, err := os.Stat(src); err != nil {
			t.Fatalf("vector %s/%s: %v", tc.config, tc.path, err)
		}
		parts := strings.Split(tc.path, "/")
		cfg, err := spectest.ConfigFor(tc.config)
		if err != nil {
			t.Fatal(err)
		}
		reg := spectest.Default()
		run := func(dir string) spectest.Result {
			return reg.RunCase(&spectest.Case{
				Config: tc.config, Fork: "phase0", Runner: parts[0], Handler: parts[1],
				Suite: parts[2], Name: parts[3], Dir: dir, Cfg: cfg,
			})
		}
		if res := run(src); res.Status != spectest.Passed {
			t.Fatalf("%s: the original case does not pass: %v", tc.path, res.Err)
		}
		for i, cr := range tc.corruptions {
			dst := filepath.Join(t.TempDir(), parts[3])
			copyDir(t, src, dst)
			p := filepath.Join(dst, cr.file)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, cr.mutate(b), 0o644); err != nil {
				t.Fatal(err)
			}
			if res := run(dst); res.Status != spectest.Failed {
				t.Errorf("%s: corruption %d of %s: status %v, want failed", tc.path, i, cr.file, res.Status)
			} else {
				t.Logf("%s: corruption %d of %s: %v", tc.path, i, cr.file, res.Err)
			}
		}
	}
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
