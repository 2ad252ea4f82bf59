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
// and header map. Every string lives in one blob (each prefixed by its
// uvarint length), so that the many small strings net/http allocated for
// the request can be freed: one allocation per session instead of one per
// header name and value.
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

func fieldLen(s string) int {
	var tmp [binary.MaxVarintLen64]byte
	return binary.PutUvarint(tmp[:], uint64(len(s))) + len(s)
}

func writeField(b *strings.Builder, s string) {
	var tmp [binary.MaxVarintLen64]byte
	b.Write(tmp[:binary.PutUvarint(tmp[:], uint64(len(s)))])
	b.WriteString(s)
}

// next splits the first field off blob; the field shares blob's memory.
func next(blob string) (field, rest string) {
	n, w := uvarint(blob)
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
