package serve

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/seed9706/socketio/internal/leakcheck"
)

type closingHandler struct{ closed chan struct{} }

func (h closingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hi") }
func (h closingHandler) Close(context.Context) error                      { close(h.closed); return nil }

func TestRunListensServesAndCloses(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	h := closingHandler{closed: make(chan struct{})}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, "test", "127.0.0.1:0", h, pw) }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "test listening on http://127.0.0.1:") {
		t.Fatalf("first line %q, %v", line, err)
	}
	res, err := http.Get(strings.TrimSpace(strings.TrimPrefix(line, "test listening on ")))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(body) != "hi" {
		t.Fatalf("body %q", body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run returned %v after its context ended", err)
	}
	select {
	case <-h.closed:
	default:
		t.Fatal("the handler was not closed")
	}
}

func TestRunReportsListenErrors(t *testing.T) {
	h := closingHandler{closed: make(chan struct{})}
	if err := Run(context.Background(), "test", "127.0.0.1:-1", h, io.Discard); err == nil {
		t.Fatal("Run on an invalid address returned nil")
	}
	select {
	case <-h.closed:
	default:
		t.Fatal("the handler was not closed")
	}
}

func TestMain(m *testing.M) { leakcheck.Main(m) }
