package engineio

import (
	"crypto/tls"
	"net/http"
	"net/url"
)

// savedRequest is what a session keeps of its handshake request for its
// whole life: the fields Request rebuilds, without the http.Request, URL
// and header map (about 1.2 KB per session, mostly the map).
type savedRequest struct {
	method, proto, host, remoteAddr, requestURI string
	protoMajor, protoMinor                      int
	url                                         *url.URL // only when requestURI does not parse back to it
	header                                      []string // name, value, name, value...
	headerKeys                                  int
	tls                                         *tls.ConnectionState
}

func saveRequest(r *http.Request) savedRequest {
	sr := savedRequest{method: r.Method, proto: r.Proto, host: r.Host, remoteAddr: r.RemoteAddr,
		requestURI: r.RequestURI, protoMajor: r.ProtoMajor, protoMinor: r.ProtoMinor, tls: r.TLS,
		headerKeys: len(r.Header)}
	if u, err := url.ParseRequestURI(r.RequestURI); r.URL != nil && (err != nil || *u != *r.URL) {
		u := *r.URL
		sr.url = &u
	}
	n := 0
	for _, vs := range r.Header {
		n += len(vs)
	}
	sr.header = make([]string, 0, 2*n)
	for k, vs := range r.Header {
		for _, v := range vs {
			sr.header = append(sr.header, k, v)
		}
	}
	return sr
}

func (sr *savedRequest) request() *http.Request {
	u := sr.url
	if u == nil {
		u, _ = url.ParseRequestURI(sr.requestURI) // parsed fine when saved
	} else {
		c := *u
		u = &c
	}
	h := make(http.Header, sr.headerKeys)
	for i := 0; i+1 < len(sr.header); i += 2 {
		h[sr.header[i]] = append(h[sr.header[i]], sr.header[i+1])
	}
	return &http.Request{Method: sr.method, URL: u, Proto: sr.proto, ProtoMajor: sr.protoMajor,
		ProtoMinor: sr.protoMinor, Header: h, Body: http.NoBody, Host: sr.host, RemoteAddr: sr.remoteAddr,
		RequestURI: sr.requestURI, TLS: sr.tls}
}
