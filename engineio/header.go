package engineio

import (
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
)

// Response header values shared by every request: assigning one of these
// to the header map allocates nothing, where Header.Set allocates a slice
// per call. Nothing writes into a header value slice (net/http copies them
// when it snapshots the header), and each has cap == len, so an append by a
// caller of Header.Add copies instead of writing into shared memory.
var (
	hdrTextPlain    = []string{"text/plain; charset=UTF-8"}
	hdrTextHTML     = []string{"text/html"}
	hdrNoStore      = []string{"no-store"}
	hdrTrue         = []string{"true"}
	hdrStar         = []string{"*"}
	hdrOrigin       = []string{"Origin"}
	hdrZero         = []string{"0"}
	hdrTwo          = []string{"2"}
	hdrCORSMethods  = []string{defaultCORSMethods}
	okBody          = []byte("ok") // POST answer; ResponseWriter.Write does not modify it
	contentLengths  = sync.OnceValue(buildContentLengths)
	maxSharedLength = 1024 // Content-Length values below it are shared
)

func buildContentLengths() [][]string {
	t := make([][]string, maxSharedLength)
	for i := range t {
		t[i] = []string{strconv.Itoa(i)}
	}
	return t
}

// contentLength is the Content-Length header value for n bytes.
func contentLength(n int) []string {
	if n >= 0 && n < maxSharedLength {
		return contentLengths()[n]
	}
	return []string{strconv.Itoa(n)}
}

// addHeader is h.Add(key, v[0]) for a canonical key and a shared value.
func addHeader(h http.Header, key string, v []string) {
	if old, ok := h[key]; ok {
		h[key] = append(old, v...)
	} else {
		h[key] = v
	}
}

// fastQuery is off when GODEBUG tunes url.ParseQuery's parameter limit,
// which queryParams' fast path does not apply.
var fastQuery = !strings.Contains(os.Getenv("GODEBUG"), "urlmaxqueryparams")

// maxFastQuery bounds the queries queryParams scans itself: far fewer
// parameters than url.ParseQuery's limit fit in it.
const maxFastQuery = 2048

// queryParams returns the transport, sid and EIO parameters of a raw query,
// as url.ParseQuery followed by Values.Get gives them, without building the
// map. A query that needs unescaping (or that ParseQuery rejects in parts)
// takes ParseQuery itself.
func queryParams(raw string) (transport, sid, eio string) {
	if !fastQuery || len(raw) > maxFastQuery || strings.ContainsAny(raw, "%+;") {
		q, _ := url.ParseQuery(raw)
		return q.Get("transport"), q.Get("sid"), q.Get("EIO")
	}
	var seenT, seenS, seenE bool // Get returns the first value
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case k == "transport" && !seenT:
			transport, seenT = v, true
		case k == "sid" && !seenS:
			sid, seenS = v, true
		case k == "EIO" && !seenE:
			eio, seenE = v, true
		}
	}
	return transport, sid, eio
}
