package bls

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// specTestsRoot returns the v0.8.3 spec-tests directory: $SPEC_TESTS_DIR,
// else shared/spec-tests/v0.8.3 beside the repository root, else "".
func specTestsRoot(t testing.TB) string {
	t.Helper()
	if dir := os.Getenv("SPEC_TESTS_DIR"); dir != "" {
		return dir
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatalf("get working directory: %v", err)
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			cand := filepath.Join(dir, "..", "shared", "spec-tests", "v0.8.3")
			if _, err := os.Stat(cand); err == nil {
				return cand
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

func blsVectorDir(t testing.TB) string {
	t.Helper()
	root := specTestsRoot(t)
	if root == "" {
		t.Skip("spec tests not found: set SPEC_TESTS_DIR to the v0.8.3 spec-tests directory (the one holding tests/)")
	}
	dir := filepath.Join(root, "tests", "general", "phase0", "bls")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("spec tests directory %s: %v", dir, err)
	}
	return dir
}

func TestSpecVectors(t *testing.T) {
	dir := blsVectorDir(t)
	total := 0
	for _, h := range VectorHandlers() {
		cases, err := filepath.Glob(filepath.Join(dir, h, "*", "*"))
		if err != nil {
			t.Fatal(err)
		}
		if len(cases) == 0 {
			t.Errorf("handler %s: no cases under %s", h, dir)
		}
		passed := 0
		for _, c := range cases {
			name := h + "/" + filepath.Base(filepath.Dir(c)) + "/" + filepath.Base(c)
			if t.Run(name, func(t *testing.T) {
				if err := RunVectorCase(h, c); err != nil {
					t.Fatal(err)
				}
			}) {
				passed++
			}
		}
		t.Logf("%s: %d/%d passed", h, passed, len(cases))
		total += passed
	}
	t.Logf("total: %d cases passed", total)
}

// TestRunVectorCaseDetectsMismatch tampers with the expected output of one
// case per handler: the runner must notice.
func TestRunVectorCaseDetectsMismatch(t *testing.T) {
	dir := blsVectorDir(t)
	for _, h := range VectorHandlers() {
		cases, err := filepath.Glob(filepath.Join(dir, h, "*", "*"))
		if err != nil || len(cases) == 0 {
			t.Fatalf("handler %s: no cases (%v)", h, err)
		}
		data, err := os.ReadFile(filepath.Join(cases[0], "data.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		s := string(data)
		out := strings.Index(s, "output")
		last := strings.LastIndexAny(s, "0123456789abcdef")
		if out < 0 || last < out {
			t.Fatalf("handler %s: cannot find output in %s", h, cases[0])
		}
		flip := byte('1')
		if s[last] == '1' {
			flip = '2'
		}
		tampered := s[:last] + string(flip) + s[last+1:]
		tmp := t.TempDir()
		if err := os.WriteFile(filepath.Join(tmp, "data.yaml"), []byte(tampered), 0o644); err != nil {
			t.Fatal(err)
		}
		err = RunVectorCase(h, tmp)
		if err == nil {
			t.Errorf("handler %s: tampered output accepted", h)
		} else if !errors.Is(err, ErrVectorMismatch) && !errors.Is(err, ErrInvalidPublicKey) && !errors.Is(err, ErrInvalidSignature) {
			t.Logf("handler %s: tampered output rejected with %v", h, err)
		}
	}
}

func TestRunVectorCaseUnknownHandler(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "data.yaml"), []byte("input: 1\noutput: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := RunVectorCase("no_such_handler", dir); err == nil {
		t.Fatal("unknown handler accepted")
	}
	if err := RunVectorCase(HandlerPrivToPub, filepath.Join(dir, "missing")); err == nil {
		t.Fatal("missing case accepted")
	}
}
