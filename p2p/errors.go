package p2p

import "errors"

// Sentinel errors. Errors returned by this package wrap one of these (or a
// *ResponseError) so that callers can branch with errors.Is / errors.As.
var (
	// ErrInvalidConfig is wrapped by Config.Validate for every rejected field.
	ErrInvalidConfig = errors.New("invalid p2p config")

	// ErrInvalidEncoding reports malformed wire data: a bad varint, corrupt
	// snappy data, a bad snappy frame or checksum, a truncated stream.
	ErrInvalidEncoding = errors.New("invalid encoding")

	// ErrMessageTooLarge reports a payload (compressed or decompressed) above
	// the configured limit. The limit is checked before anything is decoded.
	ErrMessageTooLarge = errors.New("message too large")

	// ErrTimeout reports a request/response deadline that expired (TTFB or
	// per-chunk response timeout).
	ErrTimeout = errors.New("timeout")

	// ErrTooManyChunks reports a handler that tried to write more response
	// chunks than ReqRespConfig.MaxResponseChunks.
	ErrTooManyChunks = errors.New("too many response chunks")

	// ErrResponseClosed reports a write to a ResponseWriter after an error
	// chunk was written or the handler returned.
	ErrResponseClosed = errors.New("response closed")

	// ErrInvalidName reports a topic or protocol name that is empty or
	// contains characters that would break the topic / protocol ID layout.
	ErrInvalidName = errors.New("invalid name")

	// ErrAlreadySubscribed reports a second Subscribe to the same topic.
	ErrAlreadySubscribed = errors.New("already subscribed")

	// ErrNotSubscribed reports an Unsubscribe from a topic with no subscription.
	ErrNotSubscribed = errors.New("not subscribed")

	// ErrAlreadyStarted reports a second call to Start.
	ErrAlreadyStarted = errors.New("already started")

	// ErrClosed reports use of a Node after Close.
	ErrClosed = errors.New("node closed")

	// ErrPeerBanned reports a dial to a peer that was disconnected for a
	// gossip score below ScoreConfig.GraylistThreshold and is still banned.
	ErrPeerBanned = errors.New("peer banned")

	// ErrSelfDial reports an attempt to connect to the node's own ID.
	ErrSelfDial = errors.New("dial to self")

	// ErrInvalidArgument reports a bad argument to an API call (for example a
	// non-positive maxChunks).
	ErrInvalidArgument = errors.New("invalid argument")
)
