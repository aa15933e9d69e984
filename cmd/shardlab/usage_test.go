package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// testApp returns the app with its output captured and exits turned into
// returned errors.
func testApp(out *bytes.Buffer) *cli.App {
	app := newApp()
	app.Writer = out
	app.ErrWriter = out
	app.ExitErrHandler = func(*cli.Context, error) {}
	return app
}

// checkFlags checks that every flag has a usage and a category and that help
// lists it.
func checkFlags(t *testing.T, where string, flags []cli.Flag, help string) {
	t.Helper()
	for _, f := range flags {
		if f == cli.HelpFlag {
			continue // added by cli
		}
		name := f.Names()[0]
		if u, ok := f.(cli.DocGenerationFlag); !ok || strings.TrimSpace(u.GetUsage()) == "" {
			t.Errorf("%s: flag --%s has no Usage", where, name)
		}
		if c, ok := f.(cli.CategorizableFlag); !ok || c.GetCategory() == "" {
			t.Errorf("%s: flag --%s has no Category", where, name)
		}
		if !strings.Contains(help, "--"+name) {
			t.Errorf("%s --help does not mention --%s:\n%s", where, name, help)
		}
	}
}

func TestHelpListsEveryFlag(t *testing.T) {
	var out bytes.Buffer
	if err := testApp(&out).Run([]string{"shardlab", "--help"}); err != nil {
		t.Fatal(err)
	}
	checkFlags(t, "shardlab", globalFlags, out.String())

	// A fresh app: running one adds cli's own help flags and commands.
	app := newApp()
	if len(app.Commands) == 0 {
		t.Fatal("no commands registered")
	}
	for _, cmd := range app.Commands {
		if cmd.Usage == "" {
			t.Errorf("command %s has no Usage", cmd.Name)
		}
		if !strings.Contains(out.String(), cmd.Name) {
			t.Errorf("shardlab --help does not list %s", cmd.Name)
		}
		var help bytes.Buffer
		if err := testApp(&help).Run([]string{"shardlab", cmd.Name, "--help"}); err != nil {
			t.Fatalf("%s --help: %v", cmd.Name, err)
		}
		checkFlags(t, "shardlab "+cmd.Name, cmd.Flags, help.String())
		for _, sub := range cmd.Subcommands {
			var subHelp bytes.Buffer
			if err := testApp(&subHelp).Run([]string{"shardlab", cmd.Name, sub.Name, "--help"}); err != nil {
				t.Fatalf("%s %s --help: %v", cmd.Name, sub.Name, err)
			}
			checkFlags(t, "shardlab "+cmd.Name+" "+sub.Name, sub.Flags, subHelp.String())
		}
	}
}
