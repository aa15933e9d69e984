// Package scenario runs scripted fault scenarios on the discrete-event
// simulator (sim/netsim): a YAML file names the network, a timeline of
// steps (partitions, latency and loss changes, crashes and restarts,
// validators going offline) and the expectations that define the outcome;
// Run fires the steps in virtual time, samples every node each slot,
// checks the expectations and returns a Report (JSON, and a self-contained
// HTML page with SVG charts). See docs/scenarios.md.
package scenario
