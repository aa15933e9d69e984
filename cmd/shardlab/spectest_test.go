package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// runCLI runs shardlab with args and returns its output and exit code.
func runCLI(t *testing.T, args ...string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	err := testApp(&out).Run(append([]string{"shardlab"}, args...))
	code := 0
	if err != nil {
		var ec cli.ExitCoder
		if !errors.As(err, &ec) {
			t.Fatalf("shardlab %v: %v", args, err)
		}
		code = ec.ExitCode()
		out.WriteString(err.Error())
	}
	return out.String(), code
}

// fakeVectors writes a vectors tree with one corrupt ssz_static case and one
// case of a runner shardlab has no handler for.
func fakeVectors(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"tests/minimal/phase0/ssz_static/Fork/ssz_random/case_0/serialized.ssz": "\x01\x02\x03",
		"tests/minimal/phase0/ssz_static/Fork/ssz_random/case_0/roots.yaml":     "{root: '0x00'}\n",
		"tests/general/phase0/future_runner/h/s/case_0/data.yaml":               "{}\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestSpectestCommand(t *testing.T) {
	t.Setenv("SPEC_TESTS_DIR", "")
	dir := fakeVectors(t)

	out, code := runCLI(t, "spectest", "--dir", dir)
	if code != 1 {
		t.Errorf("exit code %d, want 1:\n%s", code, out)
	}
	for _, want := range []string{
		"FAIL minimal/ssz_static/Fork/ssz_random/case_0: decode serialized.ssz",
		"general  future_runner/h",
		"(no handler)",
		"1 not run (no handler for future_runner/h)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if got := lastLine(out); got != "0 passed, 1 failed" {
		t.Errorf("last line %q", got)
	}

	// Only the unhandled case: nothing fails, so the exit status is 0.
	out, code = runCLI(t, "spectest", "--dir", dir, "--run", "future", "--workers", "1")
	if code != 0 || lastLine(out) != "0 passed, 0 failed" {
		t.Errorf("--run future: exit %d:\n%s", code, out)
	}

	out, code = runCLI(t, "spectest", "--dir", dir, "--json")
	var rep struct {
		Passed, Failed int
		NotRun         int `json:"not_run"`
		Failures       []struct{ Case, Error string }
	}
	if err := json.Unmarshal([]byte(strings.TrimSuffix(out, "\n")), &rep); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	if code != 1 || rep.Failed != 1 || rep.NotRun != 1 || len(rep.Failures) != 1 {
		t.Errorf("--json: exit %d, report %+v", code, rep)
	}

	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"spectest"}, 2, "--dir (or SPEC_TESTS_DIR) is required"},
		{[]string{"spectest", "--dir", t.TempDir()}, 2, "has no tests directory"},
		{[]string{"spectest", "--dir", dir, "--preset", "mainnet"}, 2, "no mainnet vectors"},
		{[]string{"spectest", "--dir", dir, "--preset", "huge"}, 2, "want minimal, mainnet or all"},
		{[]string{"spectest", "--dir", dir, "--run", "("}, 2, "compile filter"},
		{[]string{"spectest", "--dir", dir, "--run", "no-such-case"}, 1, "no case matches"},
	} {
		out, code := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(out, tc.msg) {
			t.Errorf("%v: exit %d, want %d with %q:\n%s", tc.args, code, tc.code, tc.msg, out)
		}
	}
}

// TestSpectestCommandOfficial runs a slice of the official vectors through
// the command when SPEC_TESTS_DIR is set.
func TestSpectestCommandOfficial(t *testing.T) {
	dir := os.Getenv("SPEC_TESTS_DIR")
	if dir == "" {
		t.Skip("SPEC_TESTS_DIR is not set")
	}
	out, code := runCLI(t, "spectest", "--dir", dir, "--preset", "minimal", "--run", "ssz_static/Fork/|ssz_generic/boolean/")
	if code != 0 || lastLine(out) != "129 passed, 0 failed" {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestVersionCommand(t *testing.T) {
	out, code := runCLI(t, "version")
	if code != 0 || !strings.Contains(out, "shardlab ") || !strings.Contains(out, "v0.8.3") {
		t.Errorf("version: exit %d:\n%s", code, out)
	}
}
