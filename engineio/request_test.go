package engineio

import (
	"crypto/tls"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// The packed request gives back every field, including empty and long
// (multi-byte length) strings and repeated header values in order.
func TestSavedRequestRoundTrip(t *testing.T) {
	long := strings.Repeat("x", 300) + "é"
	cases := []*http.Request{
		{Method: "GET", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Host: "h:1", RemoteAddr: "1.2.3.4:5",
			RequestURI: "/engine.io/?EIO=4&a=%20b", Header: http.Header{
				"X-Multi": {"one", "", "three"}, "Cookie": {long}, "Empty": {}, "": {"novalue-name"}}},
		{Method: "", RequestURI: "/", Header: http.Header{}},
		{Method: "GET", Proto: "HTTP/2.0", ProtoMajor: 2, RequestURI: "*", Header: nil, TLS: &tls.ConnectionState{}},
		{Method: "GET", RequestURI: "/p/" + long + "?q=" + long, Host: long, RemoteAddr: long},
		// Common strings anywhere: as names, values, method, host; and near misses.
		{Method: "websocket", Proto: "GET", Host: "Upgrade", RemoteAddr: "13", RequestURI: "/", Header: http.Header{
			"Upgrade": {"websocket", "Upgrade", "upgrade", "Websocket"}, "Connection": {"Upgrade"},
			"Sec-Websocket-Version": {"13"}, "Websocket": {"GET"}, "Get": {"HTTP/1.1 "}, "Cookie": {""}}},
	}
	for i, r := range cases {
		if u, err := url.ParseRequestURI(r.RequestURI); err == nil {
			r.URL = u
		}
		sr := saveRequest(r)
		got := sr.request()
		if got.Method != r.Method || got.Proto != r.Proto || got.ProtoMajor != r.ProtoMajor ||
			got.ProtoMinor != r.ProtoMinor || got.Host != r.Host || got.RemoteAddr != r.RemoteAddr ||
			got.RequestURI != r.RequestURI || got.TLS != r.TLS || got.Body != http.NoBody {
			t.Fatalf("case %d: got %+v, want %+v", i, got, r)
		}
		if r.URL != nil && *got.URL != *r.URL {
			t.Fatalf("case %d: URL %+v, want %+v", i, got.URL, r.URL)
		}
		want := http.Header{}
		for k, vs := range r.Header {
			if len(vs) > 0 {
				want[k] = vs
			}
		}
		if len(got.Header) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got.Header, want)) {
			t.Fatalf("case %d: header %q, want %q", i, got.Header, want)
		}
	}
}

// A URL that the request URI does not parse back to is kept as is.
func TestSavedRequestURLKept(t *testing.T) {
	r := &http.Request{Method: "GET", RequestURI: "/a", URL: &url.URL{Path: "/b"}, Header: http.Header{}}
	sr := saveRequest(r)
	if u1, u2 := sr.request().URL, sr.request().URL; u1.Path != "/b" || u1 == u2 {
		t.Fatal("URL not kept as a fresh copy")
	}
}

func BenchmarkSavedRequest(b *testing.B) {
	r, _ := http.NewRequest("GET", "http://127.0.0.1:3000/socket.io/?EIO=4&transport=websocket", nil)
	r.RequestURI, r.RemoteAddr = "/socket.io/?EIO=4&transport=websocket", "127.0.0.1:40000"
	for k, v := range map[string]string{"Connection": "Upgrade", "Upgrade": "websocket",
		"Sec-Websocket-Version": "13", "Sec-Websocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "User-Agent": "bench"} {
		r.Header.Set(k, v)
	}
	b.ReportAllocs()
	for b.Loop() {
		sr := saveRequest(r)
		_ = sr
	}
}
