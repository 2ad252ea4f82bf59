package redisadapter

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/seed9706/socketio/adapter"
	"github.com/seed9706/socketio/parser"
)

// Timeout errors, with the JS messages.
var (
	ErrFetchSocketsTimeout = errors.New("redisadapter: timeout reached while waiting for fetchSockets response")
	ErrAllRoomsTimeout     = errors.New("redisadapter: timeout reached while waiting for allRooms response")
)

// TimeoutError reports that some servers did not answer a request in time
// (ServerSideEmit with acknowledgements; FetchSockets of the sharded adapter).
type TimeoutError struct {
	Received, Expected int
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("redisadapter: timeout reached: only %d responses received out of %d", e.Received, e.Expected)
}

// socketTree is a local socket as a REMOTE_FETCH response lists it:
// {id, handshake, rooms, data}, the handshake as JS socket.handshake.
func socketTree(s adapter.SocketDetails) *object {
	data := rawJSON("{}") // JS socket.data starts as {}
	if d := s.Data(); d != nil {
		if raw, err := parser.Marshal(d); err == nil {
			data = raw
		}
	}
	rooms := s.Rooms()
	slices.Sort(rooms)
	return newObject("id", s.ID(), "handshake", handshakeTree(s.Handshake()), "rooms", strList(rooms), "data", data)
}

func handshakeTree(h *adapter.Handshake) *object {
	if h == nil {
		return &object{}
	}
	headers := &object{}
	for _, name := range slices.Sorted(maps.Keys(h.Headers)) {
		values := h.Headers[name]
		name = strings.ToLower(name)
		switch {
		case name == "set-cookie":
			headers.set(name, strList(values))
		case name == "cookie":
			headers.set(name, strings.Join(values, "; "))
		default:
			headers.set(name, strings.Join(values, ", "))
		}
	}
	query := &object{}
	for _, k := range slices.Sorted(maps.Keys(h.Query)) {
		if v := h.Query[k]; len(v) == 1 {
			query.set(k, v[0])
		} else {
			query.set(k, strList(v))
		}
	}
	auth := rawJSON(h.Auth)
	if len(auth) == 0 {
		auth = rawJSON("{}")
	}
	return newObject("headers", headers, "time", h.Time, "address", h.Address, "xdomain", h.XDomain,
		"secure", h.Secure, "issued", float64(h.Issued), "url", h.URL, "query", query, "auth", auth)
}

// remoteSocket reads one socket of a REMOTE_FETCH response.
func remoteSocket(v any) *adapter.RemoteSocket {
	o := obj(v)
	rs := &adapter.RemoteSocket{SocketID: str(o.get("id")), SocketRooms: strs(o.get("rooms"))}
	if o.has("data") {
		rs.SocketData = json.RawMessage(toJSON(o.get("data")))
	}
	h := obj(o.get("handshake"))
	hs := &adapter.Handshake{
		Headers: http.Header{},
		Time:    str(h.get("time")),
		Address: str(h.get("address")),
		XDomain: h.get("xdomain") == true,
		Secure:  h.get("secure") == true,
		URL:     str(h.get("url")),
		Query:   url.Values{},
	}
	if issued, ok := num(h.get("issued")); ok {
		hs.Issued = int64(issued)
	}
	if headers := obj(h.get("headers")); headers != nil {
		for i, k := range headers.keys {
			hs.Headers[http.CanonicalHeaderKey(k)] = stringValues(headers.vals[i])
		}
	}
	if query := obj(h.get("query")); query != nil {
		for i, k := range query.keys {
			hs.Query[k] = stringValues(query.vals[i])
		}
	}
	if h.has("auth") {
		hs.Auth = json.RawMessage(toJSON(h.get("auth")))
	}
	rs.SocketHandshake = hs
	return rs
}

// stringValues reads a header or query value: a string or an array of them.
func stringValues(v any) []string {
	if s, ok := v.(string); ok {
		return []string{s}
	}
	return strs(v)
}
