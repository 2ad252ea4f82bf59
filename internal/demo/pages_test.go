package demo

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/seed9706/socketio/internal/interop"
	"github.com/seed9706/socketio/socketio"
)

func TestPages(t *testing.T) {
	dist := fstest.MapFS{"socket.io.min.js": {Data: []byte("window.io = function () {};")}}
	app, err := New(Options{AgentToken: "t", ClientDist: dist})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(app)
	defer func() {
		_ = app.Close(t.Context())
		hs.Close()
	}()
	for _, tc := range []struct {
		path, status, contentType, contains string
	}{
		{"/", "200 OK", "text/html; charset=utf-8", `<script src="/static/customer.js">`},
		{"/agent", "200 OK", "text/html; charset=utf-8", `<script src="/static/agent.js">`},
		{"/orders", "200 OK", "text/html; charset=utf-8", `<script src="/static/orders.js">`},
		{"/static/style.css", "200 OK", "text/css; charset=utf-8", ".chat"},
		{"/static/common.js", "200 OK", "text/javascript; charset=utf-8", CDNClientURL},
		{"/socket.io/socket.io.min.js", "200 OK", "application/javascript; charset=utf-8", "window.io"},
		{"/nope", "404 Not Found", "text/plain; charset=utf-8", "404"},
		{"/static/missing.js", "404 Not Found", "text/plain; charset=utf-8", "404"},
	} {
		resp, err := http.Get(hs.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Status != tc.status || resp.Header.Get("Content-Type") != tc.contentType || !strings.Contains(string(body), tc.contains) {
			t.Errorf("%s: %s %q, body has %q: %v", tc.path, resp.Status, resp.Header.Get("Content-Type"), tc.contains, strings.Contains(string(body), tc.contains))
		}
		if strings.HasPrefix(tc.path, "/socket.io/") {
			continue
		}
		if got := resp.Header.Get("Content-Security-Policy"); !strings.Contains(got, "script-src 'self' https://cdn.socket.io") {
			t.Errorf("%s: CSP %q", tc.path, got)
		}
	}
	resp, err := http.Post(hs.URL+"/", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %s", resp.Status)
	}
}

// The CDN fallback loads the version package.json pins.
func TestCDNVersionMatchesPackageJSON(t *testing.T) {
	root, err := interop.Root()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	if err := json.Unmarshal(raw, &pkg); err != nil {
		t.Fatal(err)
	}
	if v := pkg.Dependencies["socket.io-client"]; v != socketio.DefaultClientVersion {
		t.Errorf("package.json pins socket.io-client %s, DefaultClientVersion is %s", v, socketio.DefaultClientVersion)
	}
	js, err := webFiles.ReadFile("web/common.js")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(js), `"`+CDNClientURL+`"`) {
		t.Errorf("web/common.js does not load %s", CDNClientURL)
	}
}

func TestNewNeedsToken(t *testing.T) {
	if _, err := New(Options{}); err == nil || !strings.Contains(err.Error(), "agent token") {
		t.Errorf("New without a token: %v", err)
	}
}
