package suite

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/seed9706/socketio/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

func TestEngineIOEcho(t *testing.T) {
	srv := New()
	ts := httptest.NewServer(srv)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Error(err)
		}
		ts.Close()
	}()
	get := func(url string) string {
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	open := get(ts.URL + "/engine.io/?EIO=4&transport=polling")
	sid := regexp.MustCompile(`"sid":"([^"]+)"`).FindStringSubmatch(open)
	if sid == nil {
		t.Fatalf("handshake %q", open)
	}
	url := ts.URL + "/engine.io/?EIO=4&transport=polling&sid=" + sid[1]
	res, err := http.Post(url, "text/plain;charset=UTF-8", strings.NewReader("4test1\x1e4test2\x1ebAQIDBA=="))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := get(url); got != "4test1\x1e4test2\x1ebAQIDBA==" {
		t.Fatalf("echo %q", got)
	}
}
