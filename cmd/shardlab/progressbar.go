package main

import (
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/urfave/cli/v2"
)

// showBar reports whether a command draws progress bars: only for a
// person at a terminal, i.e. stdout and stderr are terminals, TERM is not
// "dumb" and the output is not --json. Piped or redirected output gets
// plain lines only.
func showBar(c *cli.Context, asJSON bool) bool {
	return !asJSON && isTerminal(c.App.Writer) && isTerminal(c.App.ErrWriter) && os.Getenv("TERM") != "dumb"
}

// newBar returns a progress bar (github.com/schollz/progressbar) of steps
// drawn on w: with count, desc before it and "(n/steps)" and the predicted
// time left after it, the line cleared when it finishes; without, desc
// after it (a live line of figures, redrawn on every change, also once the
// bar is full).
func newBar(w io.Writer, steps int64, desc string, count bool) *progressbar.ProgressBar {
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetWidth(24),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionSetTheme(progressbar.Theme{Saucer: "=", SaucerHead: ">", SaucerPadding: " ", BarStart: "[", BarEnd: "]"}),
	}
	if count {
		// Counts may move thousands of times a second: redraw at most
		// ten times a second.
		opts = append(opts, progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish())
	} else {
		opts = append(opts, progressbar.OptionSetPredictTime(false), progressbar.OptionShowDescriptionAtLineEnd())
	}
	return progressbar.NewOptions64(max(1, steps), opts...)
}
