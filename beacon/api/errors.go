package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/shardlab/shardlab/beacon/core"
	"github.com/shardlab/shardlab/beacon/types"
)

// Sentinels a backend wraps so that the API answers with the right status.
var (
	// ErrNotFound: the block, state, slot, account... asked for is unknown
	// or no longer kept (pruned). Answered with 404.
	ErrNotFound = errors.New("not found")
	// ErrUnavailable: the node cannot answer now (no genesis yet, still
	// syncing, the shard is not served). Answered with 503.
	ErrUnavailable = errors.New("unavailable")
	// ErrBadRequest: the request's content is invalid (a transaction with a
	// bad signature or nonce, ...). Answered with 400. Errors wrapping
	// beacon/core.ErrInvalid (which shard/core's rejections wrap too),
	// ErrInvalidJSON and types.ErrInvalidSSZ are answered with 400 as well.
	ErrBadRequest = errors.New("bad request")
)

// Error is an error with the HTTP status it is answered with. Its JSON form
// is the Beacon API's error body {"code": 400, "message": "..."}.
type Error struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the given status and message.
func Errorf(code int, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// StatusOf returns the HTTP status an error is answered with: an *Error's
// code, 400, 404 or 503 for the sentinels above, 500 for anything else (an
// internal failure).
func StatusOf(err error) int {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e.Code
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrUnavailable):
		return http.StatusServiceUnavailable
	case errors.Is(err, ErrBadRequest), errors.Is(err, ErrInvalidJSON),
		errors.Is(err, types.ErrInvalidSSZ), errors.Is(err, core.ErrInvalid):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}
