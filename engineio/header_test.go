package engineio

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func TestQueryParamsMatchesParseQuery(t *testing.T) {
	for _, q := range []string{
		"", "EIO=4&transport=polling", "EIO=4&transport=polling&sid=abc_-DEF&t=PZ1x9",
		"transport=websocket&transport=polling", "sid=a&sid=b", "EIO&transport=&sid",
		"&&EIO=4&&", "=4&EIO=3", "EIO=4=5", "transport=poll%69ng", "sid=a+b", "sid=%zz&sid=ok",
		"a;b=1&EIO=4", "EIO=4;transport=polling", "eio=4&Transport=polling", "sid=%41&sid=B",
		"transport=polling&" + strings.Repeat("x=1&", 600) + "sid=s",
	} {
		v, _ := url.ParseQuery(q)
		tr, sid, eio := queryParams(q)
		if tr != v.Get("transport") || sid != v.Get("sid") || eio != v.Get("EIO") {
			t.Errorf("queryParams(%q) = %q %q %q, ParseQuery gives %q %q %q", q, tr, sid, eio,
				v.Get("transport"), v.Get("sid"), v.Get("EIO"))
		}
	}
}

func FuzzQueryParams(f *testing.F) {
	for _, q := range []string{"EIO=4&transport=polling&sid=x", "sid=%41", "a;b", "EIO=4&EIO=3"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		v, _ := url.ParseQuery(q)
		tr, sid, eio := queryParams(q)
		if tr != v.Get("transport") || sid != v.Get("sid") || eio != v.Get("EIO") {
			t.Fatalf("queryParams(%q) = %q %q %q, ParseQuery gives %q %q %q", q, tr, sid, eio,
				v.Get("transport"), v.Get("sid"), v.Get("EIO"))
		}
	})
}

func TestContentLength(t *testing.T) {
	for _, n := range []int{0, 1, 2, 99, 100, maxSharedLength - 1, maxSharedLength, 1 << 20} {
		if v := contentLength(n); len(v) != 1 || v[0] != strconv.Itoa(n) || cap(v) != 1 {
			t.Errorf("contentLength(%d) = %q (cap %d)", n, v, cap(v))
		}
	}
}

// Appending to a shared header value must copy it: the next response
// still gets the pristine value.
func TestSharedHeaderValuesStayIntact(t *testing.T) {
	h := http.Header{}
	addHeader(h, "Vary", hdrOrigin)
	h.Add("Vary", "Accept-Encoding")
	if got := h.Values("Vary"); len(got) != 2 || got[0] != "Origin" || got[1] != "Accept-Encoding" {
		t.Fatalf("Vary %q", got)
	}
	h2 := http.Header{"Vary": {"Cookie"}}
	addHeader(h2, "Vary", hdrOrigin)
	if got := h2.Values("Vary"); len(got) != 2 || got[0] != "Cookie" || got[1] != "Origin" {
		t.Fatalf("Vary after an existing value %q", got)
	}
	if len(hdrOrigin) != 1 || hdrOrigin[0] != "Origin" {
		t.Fatalf("hdrOrigin changed: %q", hdrOrigin)
	}
	for _, v := range [][]string{hdrTextPlain, hdrTextHTML, hdrNoStore, hdrTrue, hdrStar, hdrOrigin, hdrZero, hdrTwo, hdrCORSMethods} {
		if len(v) != 1 || cap(v) != 1 {
			t.Fatalf("shared value %q has cap %d", v, cap(v))
		}
	}
}

// Held GETs released by sends and by closes, racing each other, with the
// waiters recycled: every GET gets exactly the messages sent (none lost to
// a stale wake-up, none twice), and a GET held at the close gets it.
func TestHeldGetRacingSendAndClose(t *testing.T) {
	t.Parallel()
	h := newEchoHandler()
	h.noEcho = true
	srv, ts := newTestServer(t, h, nil)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Go(func() {
			sid := handshake(t, ts.URL)
			url := pollURL(ts.URL, sid)
			s := srv.lookup(sid)
			var want []string
			got := ""
			for i := 0; i < 50; i++ {
				ch := asyncGet(t, url)
				if i%2 == 0 {
					waitHeld(t, srv, sid)
				}
				m := "m" + strconv.Itoa(i)
				if err := s.Send(Message{Data: []byte(m)}); err != nil {
					t.Errorf("Send: %v", err)
					return
				}
				want = append(want, "4"+m)
				r := recv(t, ch)
				if r.status != 200 {
					t.Errorf("GET %d: %d %q", i, r.status, r.body)
					return
				}
				got += r.body + "\x1e"
				for !strings.HasSuffix(got, "4"+m+"\x1e") { // the GET may have gone before the Send
					r := recv(t, asyncGet(t, url))
					got += r.body + "\x1e"
				}
			}
			if got != strings.Join(want, "\x1e")+"\x1e" {
				t.Errorf("GETs got %q, want %q", got, want)
			}
			ch := asyncGet(t, url)
			waitHeld(t, srv, sid)
			go s.Close()
			if r := recv(t, ch); r.status != 200 || r.body != "1" {
				t.Errorf("GET held at the close: %d %q", r.status, r.body)
			}
		})
	}
	wg.Wait()
}
