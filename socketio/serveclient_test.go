package socketio

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

var testClientFS = fstest.MapFS{
	"socket.io.min.js":     {Data: []byte(strings.Repeat("/* client */ var io = 1;\n", 200))},
	"socket.io.min.js.map": {Data: []byte(`{"version":3,"sources":[]}`)},
}

func clientServer(t *testing.T, opts *ServerOptions) *httptest.Server {
	t.Helper()
	_, hs := newTestServer(t, opts)
	return hs
}

// getClientFile requests path with the given headers, without Go's
// transparent gzip handling.
func getClientFile(t *testing.T, method, url string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func TestServeClientHeaders(t *testing.T) {
	hs := clientServer(t, &ServerOptions{ServeClient: &ServeClientOptions{FS: testClientFS}})
	for _, tc := range []struct {
		path, contentType, file string
	}{
		{"/socket.io/socket.io.min.js", "application/javascript; charset=utf-8", "socket.io.min.js"},
		{"/socket.io/socket.io.min.js?v=1", "application/javascript; charset=utf-8", "socket.io.min.js"},
		{"/socket.io/socket.io.min.js.map", "application/json; charset=utf-8", "socket.io.min.js.map"},
	} {
		resp, body := getClientFile(t, "GET", hs.URL+tc.path, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d %s", tc.path, resp.StatusCode, body)
		}
		want := map[string]string{
			"Cache-Control":    "public, max-age=0",
			"Content-Type":     tc.contentType,
			"Etag":             `"4.8.4"`,
			"Content-Encoding": "",
			"Vary":             "Accept-Encoding",
		}
		for k, v := range want {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", tc.path, k, got, v)
			}
		}
		if !bytes.Equal(body, testClientFS[tc.file].Data) {
			t.Errorf("%s: body differs from the file", tc.path)
		}
	}

	resp, body := getClientFile(t, "HEAD", hs.URL+"/socket.io/socket.io.min.js", nil)
	if resp.StatusCode != 200 || len(body) != 0 || resp.Header.Get("Etag") != `"4.8.4"` {
		t.Errorf("HEAD: status %d, %d body bytes, ETag %q", resp.StatusCode, len(body), resp.Header.Get("Etag"))
	}
}

func TestServeClientETag(t *testing.T) {
	hs := clientServer(t, &ServerOptions{ServeClient: &ServeClientOptions{FS: testClientFS, Version: "9.9.9"}})
	url := hs.URL + "/socket.io/socket.io.min.js"
	for _, tc := range []struct {
		ifNoneMatch string
		status      int
	}{
		{`"9.9.9"`, 304},
		{`W/"9.9.9"`, 304},
		{`"4.8.4"`, 200},
		{`9.9.9`, 200},
		{`"9.9.9", "1"`, 200}, // the JS server compares the whole header
	} {
		resp, body := getClientFile(t, "GET", url, map[string]string{"If-None-Match": tc.ifNoneMatch})
		if resp.StatusCode != tc.status {
			t.Errorf("If-None-Match %s: status %d, want %d", tc.ifNoneMatch, resp.StatusCode, tc.status)
		}
		if tc.status == 304 && len(body) != 0 {
			t.Errorf("If-None-Match %s: 304 with a body", tc.ifNoneMatch)
		}
		if tc.status == 200 && resp.Header.Get("Etag") != `"9.9.9"` {
			t.Errorf("ETag %q", resp.Header.Get("Etag"))
		}
	}
}

func TestServeClientCompression(t *testing.T) {
	hs := clientServer(t, &ServerOptions{ServeClient: &ServeClientOptions{FS: testClientFS}})
	url := hs.URL + "/socket.io/socket.io.min.js"
	want := testClientFS["socket.io.min.js"].Data
	for _, tc := range []struct {
		accept, encoding string
	}{
		{"", ""},
		{"gzip, deflate, br, zstd", "gzip"},
		{"deflate, gzip", "deflate"},
		{"br", ""},
		{"gzip;q=0.5, deflate", "deflate"},
		{"*", "gzip"},
		{"*;q=0.1, deflate;q=0.2", "deflate"},
		{"gzip;q=0, *", "deflate"},
		{"GZIP", "gzip"},
		{"identity", ""},
		{"gzip;q=0, deflate;q=0", ""},
	} {
		resp, body := getClientFile(t, "GET", url, map[string]string{"Accept-Encoding": tc.accept})
		if got := resp.Header.Get("Content-Encoding"); got != tc.encoding {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q, want %q", tc.accept, got, tc.encoding)
			continue
		}
		var r io.Reader = bytes.NewReader(body)
		var err error
		switch tc.encoding {
		case "gzip":
			r, err = gzip.NewReader(r)
		case "deflate":
			r, err = zlib.NewReader(r)
		}
		if err != nil {
			t.Fatalf("Accept-Encoding %q: %v", tc.accept, err)
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("Accept-Encoding %q: decoded body differs (err %v)", tc.accept, err)
		}
		if tc.encoding != "" && len(body) >= len(want) {
			t.Errorf("Accept-Encoding %q: %d bytes, not smaller than %d", tc.accept, len(body), len(want))
		}
	}
}

func TestServeClientOtherPaths(t *testing.T) {
	hs := clientServer(t, &ServerOptions{Path: "/rt", ServeClient: &ServeClientOptions{FS: testClientFS}})
	resp, _ := getClientFile(t, "GET", hs.URL+"/rt/socket.io.min.js", nil)
	if resp.StatusCode != 200 {
		t.Errorf("custom path: status %d", resp.StatusCode)
	}
	// Missing from FS: a clear 404.
	resp, body := getClientFile(t, "GET", hs.URL+"/rt/socket.io.js", nil)
	if resp.StatusCode != 404 || !strings.Contains(string(body), "socketio: client file socket.io.js") {
		t.Errorf("missing file: status %d body %q", resp.StatusCode, body)
	}
	// Names outside the list go to Engine.IO, which rejects them.
	for _, p := range []string{"/rt/socket.io.foo.js", "/rt/", "/rt/socket%2Eio.min.js", "/socket.io/socket.io.min.js"} {
		resp, _ := getClientFile(t, "GET", hs.URL+p, nil)
		if resp.StatusCode == 200 {
			t.Errorf("%s: served", p)
		}
	}
}

func TestServeClientOff(t *testing.T) {
	hs := clientServer(t, nil)
	resp, _ := getClientFile(t, "GET", hs.URL+"/socket.io/socket.io.min.js", nil)
	if resp.StatusCode == 200 || resp.Header.Get("Etag") != "" {
		t.Errorf("served without ServeClient: status %d", resp.StatusCode)
	}
}

func TestNegotiateEncodingJunk(t *testing.T) {
	for h, want := range map[string]string{
		",,,":                     "",
		";q=1":                    "",
		"gzip;q=abc":              "",
		"gzip;q":                  "",
		" , gzip ;":               "gzip",
		"\x00":                    "",
		"gzip;q=0;q=1":            "",
		"deflate;level=1":         "deflate",
		"gzip;q=0.001, *;q=0.002": "deflate",
	} {
		if got := negotiateEncoding([]string{h}); got != want {
			t.Errorf("%q: %q, want %q", h, got, want)
		}
	}
}

func FuzzNegotiateEncoding(f *testing.F) {
	for _, seed := range []string{"", "gzip, deflate, br, zstd", "deflate;q=0.5, gzip;q=0.4", "*;q=0", "gzip;q=abc", " , ;q=1", "identity"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		switch got := negotiateEncoding([]string{header}); got {
		case "", "gzip", "deflate":
		default:
			t.Fatalf("%q: %q", header, got)
		}
	})
}
