package bench

import "io"

// WriteHTML writes the self-contained report page.
func (rs *Results) WriteHTML(w io.Writer) error {
	_, err := io.WriteString(w, "<!doctype html><title>shardlab bench</title>")
	return err
}
