package handler

import "errors"

// ErrInvalidRequest is returned by OnRequest for an undecodable or
// malformed request (the host answers with its "invalid request" code).
var ErrInvalidRequest = errors.New("invalid request")

// ErrUnknownProtocol is returned by OnRequest for a protocol the Handler
// does not serve.
var ErrUnknownProtocol = errors.New("unknown protocol")

// ErrNoCrosslinkData is returned by a crosslink data source that has no
// answer.
var ErrNoCrosslinkData = errors.New("no crosslink data")

// ErrInvalidConfig is wrapped by New for a bad Config.
var ErrInvalidConfig = errors.New("invalid handler config")
