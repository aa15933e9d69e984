// Package chart draws the charts of shardlab's report pages (`bench
// throughput` report.html and `scenario run --report` report.html) with
// gonum.org/v1/plot and returns each as an inline SVG figure, so a page
// carries its charts in its own HTML: no script, no font or stylesheet
// fetched, it opens offline and prints as it shows.
//
// A Chart holds named line or point series, shaded vertical bands (fault
// windows) and labelled event markers; a chart without data renders as a
// "no data" note rather than empty axes.
//
// chart imports no shardlab package: callers turn their results into
// series.
package chart
