package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestScenarioListAndCheck(t *testing.T) {
	out, code := runCLI(t, "scenario", "list")
	if code != 0 || !strings.Contains(out, "double-proposal") || !strings.Contains(out, "partition-half") {
		t.Fatalf("scenario list: exit %d\n%s", code, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("name: x\nnetwork:\n  nodes: 4\n  bogus: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"built-in", []string{"baseline"}, 0, "builtin/baseline.yaml: ok"},
		{"bad file", []string{bad}, 1, bad + ":4:3: invalid scenario: unknown key \"bogus\""},
		{"missing", []string{"no-such"}, 1, "no such file or built-in"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, code := runCLI(t, append([]string{"scenario", "check"}, tc.args...)...)
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Fatalf("exit %d (want %d), output lacks %q:\n%s", code, tc.code, tc.want, out)
			}
		})
	}
}

func TestScenarioRun(t *testing.T) {
	dir := t.TempDir()
	out, code := runCLI(t, "scenario", "run", "baseline", "--json", "--report", dir)
	if code != 0 {
		t.Fatalf("baseline: exit %d\n%s", code, out)
	}
	var r struct {
		Pass   bool   `json:"pass"`
		Replay string `json:"replay"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || !r.Pass || r.Replay != "shardlab scenario run baseline --seed 1" {
		t.Fatalf("--json output %v, %+v:\n%s", err, r, out)
	}
	for _, f := range []string{"report.json", "report.html"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	out, code = runCLI(t, "scenario", "run", "baseline", "--seed", "1", "--set", "network.loss=0.5")
	if code != 1 || !strings.Contains(out, "FAIL baseline seed 1  replay: shardlab scenario run baseline --seed 1 --set network.loss=0.5") {
		t.Fatalf("lossy baseline: exit %d, want 1 and the replay command:\n%s", code, out)
	}
	if _, code := runCLI(t, "scenario", "run", "baseline", "--seeds", "3..1"); code != 2 {
		t.Fatalf("--seeds 3..1: exit %d, want 2", code)
	}
}
