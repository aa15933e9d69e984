package main

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/shardlab/shardlab/sim/bench"
)

func TestShowBar(t *testing.T) {
	t.Parallel()
	app := &cli.App{Writer: &bytes.Buffer{}, ErrWriter: &bytes.Buffer{}}
	c := cli.NewContext(app, flag.NewFlagSet("x", flag.ContinueOnError), nil)
	if showBar(c, false) || showBar(c, true) {
		t.Error("a bar on output that is not a terminal")
	}
	// A regular file is no terminal either.
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	app.Writer, app.ErrWriter = f, f
	if showBar(c, false) {
		t.Error("a bar on a file")
	}
}

func TestNewBar(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		count bool
		want  []string
	}{
		{name: "count", count: true, want: []string{"scenario x: slot", "[===========>            ] (5/10)"}},
		{name: "live line", want: []string{"50% [===========>            ]  measure  offered 12"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			// In a bubble, the wait past the bar's redraw throttle is
			// on a fake clock.
			synctest.Test(t, func(t *testing.T) {
				desc := "scenario x: slot"
				if !tc.count {
					desc = ""
				}
				bar := newBar(&b, 10, desc, tc.count)
				if !tc.count {
					bar.Describe("measure  offered 12")
				}
				time.Sleep(150 * time.Millisecond)
				if err := bar.Set64(5); err != nil {
					t.Fatal(err)
				}
			})
			out := b.String()
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("bar output %q lacks %q", out, w)
				}
			}
		})
	}
}

func TestBenchProgressPlain(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	show := benchProgress(&b, false)
	for i := range 20 {
		show(bench.Progress{Phase: "measure", Elapsed: time.Duration(i) * time.Second, Total: time.Minute, Offered: uint64(i)})
	}
	if out := b.String(); strings.Count(out, "\n") != 2 || strings.Contains(out, "\r") || strings.Contains(out, "=") {
		t.Errorf("plain progress is not two lines without a bar:\n%q", out)
	}
}

func TestBenchProgressBar(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	synctest.Test(t, func(t *testing.T) {
		show := benchProgress(&b, true)
		// Past the phase's planned time, the figures still move.
		for i := range 5 {
			time.Sleep(time.Second)
			show(bench.Progress{Phase: "warm-up", Elapsed: time.Duration(i+1) * time.Second, Total: 4 * time.Second, Offered: uint64(100 * i)})
		}
		time.Sleep(time.Second)
		show(bench.Progress{Phase: "measure", Elapsed: 2 * time.Second, Total: 8 * time.Second, Offered: 900})
	})
	out := b.String()
	if strings.Contains(out, "\n") {
		t.Errorf("the bar wrote a new line: it must redraw in place:\n%q", out)
	}
	for _, want := range []string{"100% [========================]  warm-up", "offered 400", "25% [=====>                  ]  measure", "offered 900"} {
		if !strings.Contains(out, want) {
			t.Errorf("bar output lacks %q:\n%q", want, out)
		}
	}
}
