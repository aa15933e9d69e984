package deploy

import "errors"

// ErrInvalidConfig is wrapped by Config.Validate, Timeline.Validate and
// Render: the configuration or the fault timeline cannot be rendered.
var ErrInvalidConfig = errors.New("invalid deploy config")
