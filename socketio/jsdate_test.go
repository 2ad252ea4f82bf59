package socketio

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestJSDateMatchesFormat(t *testing.T) {
	want := func(t time.Time) string {
		return t.UTC().Format("Mon Jan 02 2006 15:04:05") + " GMT+0000 (Coordinated Universal Time)"
	}
	times := []time.Time{
		time.Date(2026, 12, 6, 21, 5, 9, 0, time.UTC),
		time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(999, 3, 4, 5, 6, 7, 0, time.UTC),
		time.Date(10000, 3, 4, 5, 6, 7, 0, time.UTC),
		time.Date(2024, 2, 29, 12, 0, 0, 0, time.FixedZone("x", 5*3600+1800)),
		time.Now(),
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		times = append(times, time.Unix(r.Int64N(300<<30)-(60<<30), r.Int64N(1e9)))
	}
	for _, tm := range times {
		if got, w := jsDate(tm), want(tm); got != w {
			t.Fatalf("jsDate(%v) = %q, want %q", tm, got, w)
		}
	}
}

// BenchmarkNewHandshake measures what a CONNECT records of the handshake
// request (headers, query, time).
func BenchmarkNewHandshake(b *testing.B) {
	c := &conn{sess: &sinkSession{}}
	issued := time.Now().UnixMilli()
	b.ReportAllocs()
	for b.Loop() {
		_ = newHandshake(c, issued, `{}`)
	}
}
