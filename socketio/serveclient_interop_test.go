package socketio_test

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/seed9706/socketio/internal/interop"
	"github.com/seed9706/socketio/socketio"
)

// TestServeClientMatchesNode asks the official server and ours for the
// client files with the same headers and compares the answers: status,
// caching headers, encoding and decoded body. Brotli is left out: Go's
// standard library cannot write it, so we never offer it.
func TestServeClientMatchesNode(t *testing.T) {
	p := interop.Start(t, "testdata/interop/serveclient.mjs")
	t.Cleanup(func() { _ = p.Send(map[string]any{"op": "exit"}) })
	var ready struct{ Port int }
	if err := p.Expect(t, "listening").Decode(&ready); err != nil {
		t.Fatal(err)
	}
	node := fmt.Sprintf("http://127.0.0.1:%d", ready.Port)

	root, err := interop.Root()
	if err != nil {
		t.Fatal(err)
	}
	dist := filepath.Join(root, "node_modules", "socket.io", "client-dist")
	srv := socketio.NewServer(&socketio.ServerOptions{ServeClient: &socketio.ServeClientOptions{FS: os.DirFS(dist)}})
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		_ = srv.Close(t.Context())
		hs.Close()
	})

	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	get := func(base, path string, header map[string]string) (*http.Response, []byte) {
		req, _ := http.NewRequest("GET", base+path, nil)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		switch resp.Header.Get("Content-Encoding") {
		case "gzip":
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err == nil {
				body, err = io.ReadAll(zr)
			}
			if err != nil {
				t.Fatalf("%s%s: gzip: %v", base, path, err)
			}
		case "deflate":
			zr, err := zlib.NewReader(bytes.NewReader(body))
			if err == nil {
				body, err = io.ReadAll(zr)
			}
			if err != nil {
				t.Fatalf("%s%s: deflate: %v", base, path, err)
			}
		}
		return resp, body
	}

	paths := []string{
		"/socket.io/socket.io.js", "/socket.io/socket.io.min.js", "/socket.io/socket.io.min.js.map",
		"/socket.io/socket.io.msgpack.min.js", "/socket.io/socket.io.esm.min.js.map", "/socket.io/socket.io.min.js?v=2",
	}
	headers := []map[string]string{
		nil,
		{"Accept-Encoding": "gzip"},
		{"Accept-Encoding": "deflate"},
		{"Accept-Encoding": "gzip, deflate"},
		{"Accept-Encoding": "deflate, gzip"},
		{"Accept-Encoding": "gzip;q=0.5, deflate"},
		{"Accept-Encoding": "br;q=0, *"}, // plain "*" means br to node
		{"Accept-Encoding": "identity"},
		{"Accept-Encoding": "br;q=0, gzip;q=0, *"},
		{"Accept-Encoding": "GZIP;q=0.9, Deflate"},
		{"If-None-Match": `"4.8.4"`},
		{"If-None-Match": `W/"4.8.4"`},
		{"If-None-Match": `"4.8.3"`},
	}
	for _, path := range paths {
		for _, h := range headers {
			want, wantBody := get(node, path, h)
			got, gotBody := get(hs.URL, path, h)
			if got.StatusCode != want.StatusCode {
				t.Errorf("%s %v: status %d, node %d", path, h, got.StatusCode, want.StatusCode)
				continue
			}
			for _, k := range []string{"Cache-Control", "Content-Type", "Etag", "Content-Encoding"} {
				if got.Header.Get(k) != want.Header.Get(k) {
					t.Errorf("%s %v: %s %q, node %q", path, h, k, got.Header.Get(k), want.Header.Get(k))
				}
			}
			if !bytes.Equal(gotBody, wantBody) {
				t.Errorf("%s %v: body differs (%d bytes, node %d)", path, h, len(gotBody), len(wantBody))
			}
		}
	}
}
