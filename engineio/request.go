package engineio

import (
	"crypto/tls"
	"encoding/binary"
	"net/http"
	"net/url"
	"strings"
)

// savedRequest is what a session keeps of its handshake request for its
// whole life: the fields Request rebuilds, without the http.Request, URL
// and header map. Every string lives in one blob, so that the many small
// strings net/http allocated for the request can be freed: one allocation
// per session instead of one per header name and value. A field is an
// uvarint v: a literal of v>>1 bytes follows when v is even, else it is
// commonStrings[v>>1] (usual header names and values: one byte each).
type savedRequest struct {
	blob                   string   // method, proto, host, remoteAddr, requestURI, then header name, value, ...
	url                    *url.URL // only when requestURI does not parse back to it
	tls                    *tls.ConnectionState
	protoMajor, protoMinor int32
	headerKeys             int32
}

func saveRequest(r *http.Request) savedRequest {
	sr := savedRequest{tls: r.TLS, protoMajor: int32(r.ProtoMajor), protoMinor: int32(r.ProtoMinor),
		headerKeys: int32(len(r.Header))}
	if u, err := url.ParseRequestURI(r.RequestURI); r.URL != nil && (err != nil || *u != *r.URL) {
		u := *r.URL
		sr.url = &u
	}
	fixed := [...]string{r.Method, r.Proto, r.Host, r.RemoteAddr, r.RequestURI}
	n := 0
	for _, s := range fixed {
		n += fieldLen(s)
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			n += fieldLen(k) + fieldLen(v)
		}
	}
	var b strings.Builder
	b.Grow(n) // exact: String then shares the buffer
	for _, s := range fixed {
		writeField(&b, s)
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			writeField(&b, k)
			writeField(&b, v)
		}
	}
	sr.blob = b.String()
	return sr
}

// commonStrings are header names (canonical, as net/http keys them) and
// values that most handshakes carry, stored as an index.
var commonStrings = [...]string{
	"GET", "HTTP/1.1", "HTTP/2.0",
	"Accept", "Accept-Encoding", "Accept-Language", "Authorization", "Cache-Control", "Connection",
	"Content-Length", "Content-Type", "Cookie", "Origin", "Pragma", "Referer", "Sec-Fetch-Dest",
	"Sec-Fetch-Mode", "Sec-Fetch-Site", "Sec-Websocket-Extensions", "Sec-Websocket-Key",
	"Sec-Websocket-Protocol", "Sec-Websocket-Version", "Upgrade", "User-Agent", "X-Forwarded-For",
	"X-Forwarded-Proto", "X-Real-Ip",
	"websocket", "Upgrade", "upgrade", "keep-alive", "13", "*/*", "no-cache", "gzip, deflate", "gzip, deflate, br",
	"permessage-deflate; client_max_window_bits", "text/plain;charset=UTF-8", "empty", "cross-site", "same-origin",
}

var commonIndex = func() map[string]int {
	m := make(map[string]int, len(commonStrings))
	for i, s := range commonStrings {
		if _, dup := m[s]; !dup {
			m[s] = i
		}
	}
	return m
}()

func fieldHead(s string) uint64 {
	if i, ok := commonIndex[s]; ok {
		return uint64(i)<<1 | 1
	}
	return uint64(len(s)) << 1
}

func fieldLen(s string) int {
	var tmp [binary.MaxVarintLen64]byte
	head := fieldHead(s)
	n := binary.PutUvarint(tmp[:], head)
	if head&1 == 0 {
		n += len(s)
	}
	return n
}

func writeField(b *strings.Builder, s string) {
	var tmp [binary.MaxVarintLen64]byte
	head := fieldHead(s)
	b.Write(tmp[:binary.PutUvarint(tmp[:], head)])
	if head&1 == 0 {
		b.WriteString(s)
	}
}

// next splits the first field off blob; a literal shares blob's memory.
func next(blob string) (field, rest string) {
	v, w := uvarint(blob)
	if v&1 == 1 {
		return commonStrings[v>>1], blob[w:]
	}
	n := v >> 1
	return blob[w : w+n], blob[w+n:]
}

func uvarint(s string) (n, width int) {
	var x uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		x |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return int(x), i + 1
		}
	}
	return 0, len(s) // not reached: blob is well formed
}

func (sr *savedRequest) request() *http.Request {
	rest := sr.blob
	var method, proto, host, remoteAddr, requestURI string
	method, rest = next(rest)
	proto, rest = next(rest)
	host, rest = next(rest)
	remoteAddr, rest = next(rest)
	requestURI, rest = next(rest)
	u := sr.url
	if u == nil {
		u, _ = url.ParseRequestURI(requestURI) // parsed fine when saved
	} else {
		c := *u
		u = &c
	}
	h := make(http.Header, sr.headerKeys)
	for rest != "" {
		var k, v string
		k, rest = next(rest)
		v, rest = next(rest)
		h[k] = append(h[k], v)
	}
	return &http.Request{Method: method, URL: u, Proto: proto, ProtoMajor: int(sr.protoMajor),
		ProtoMinor: int(sr.protoMinor), Header: h, Body: http.NoBody, Host: host, RemoteAddr: remoteAddr,
		RequestURI: requestURI, TLS: sr.tls}
}
