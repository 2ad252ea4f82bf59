package socketio

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// DefaultClientVersion is the socket.io-client version this module is tested
// against, the default ETag of the served client bundle.
const DefaultClientVersion = "4.8.4"

// maxClientFileSize bounds one served client file (the largest official one,
// socket.io.js.map, is about 300 KB).
const maxClientFileSize = 8 << 20

// ServeClientOptions serves the official browser client bundle under the
// server's Path, as the JS server's serveClient option does: GET
// /socket.io/socket.io.min.js and the other files of the client's dist/
// directory.
//
// Differences from the JS server, on purpose: only gzip and deflate are
// offered (Go's standard library has no Brotli encoder), responses carry
// "Vary: Accept-Encoding" so shared caches keep the encodings apart, a file
// missing from FS is a 404, and the CORS options are not applied (the bundle
// is meant to be loaded by a <script> tag, which needs no CORS).
type ServeClientOptions struct {
	// FS holds the client files at its root, for example
	// os.DirFS("node_modules/socket.io-client/dist"). Required.
	FS fs.FS
	// Version is sent as the ETag `"<Version>"`; a request whose
	// If-None-Match is that ETag, strong or weak, gets 304. Default
	// DefaultClientVersion.
	Version string
}

// clientFileNames are the files the JS server serves.
var clientFileNames = map[string]bool{
	"socket.io.js":                 true,
	"socket.io.js.map":             true,
	"socket.io.min.js":             true,
	"socket.io.min.js.map":         true,
	"socket.io.msgpack.min.js":     true,
	"socket.io.msgpack.min.js.map": true,
	"socket.io.esm.min.js":         true,
	"socket.io.esm.min.js.map":     true,
}

// clientFiles serves the client bundle. Each file is read and compressed
// once per encoding, then kept: at most 8 files times 3 encodings.
type clientFiles struct {
	prefix   string
	fsys     fs.FS
	etag     string
	weakETag string

	mu    sync.Mutex
	cache map[string][]byte // key: encoding + "/" + name
}

// newClientFiles returns nil when opts is nil or has no FS: nothing served.
func newClientFiles(prefix string, opts *ServeClientOptions) *clientFiles {
	if opts == nil || opts.FS == nil {
		return nil
	}
	version := opts.Version
	if version == "" {
		version = DefaultClientVersion
	}
	etag := strconv.Quote(version)
	return &clientFiles{prefix: prefix, fsys: opts.FS, etag: etag, weakETag: "W/" + etag, cache: make(map[string][]byte)}
}

// serve answers a request for a client file and reports whether it did;
// other requests are left to Engine.IO.
func (c *clientFiles) serve(w http.ResponseWriter, r *http.Request) bool {
	name, ok := strings.CutPrefix(r.URL.EscapedPath(), c.prefix)
	if !ok || !clientFileNames[name] {
		return false
	}
	h := w.Header()
	if inm := r.Header.Get("If-None-Match"); inm != "" && (inm == c.etag || inm == c.weakETag) {
		w.WriteHeader(http.StatusNotModified)
		return true
	}
	encoding := negotiateEncoding(r.Header.Values("Accept-Encoding"))
	body, err := c.load(name, encoding)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return true
	}
	h.Set("Cache-Control", "public, max-age=0")
	if strings.HasSuffix(name, ".map") {
		h.Set("Content-Type", "application/json; charset=utf-8")
	} else {
		h.Set("Content-Type", "application/javascript; charset=utf-8")
	}
	h.Set("ETag", c.etag)
	h.Add("Vary", "Accept-Encoding")
	if encoding != "" {
		h.Set("Content-Encoding", encoding)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
	return true
}

// load returns the file's bytes in encoding ("" = identity).
func (c *clientFiles) load(name, encoding string) ([]byte, error) {
	key := encoding + "/" + name
	c.mu.Lock()
	body, ok := c.cache[key]
	c.mu.Unlock()
	if ok {
		return body, nil
	}
	body, err := c.read(name)
	if err != nil {
		return nil, err
	}
	if encoding != "" {
		if body, err = compress(body, encoding); err != nil {
			return nil, err
		}
	}
	c.mu.Lock()
	c.cache[key] = body
	c.mu.Unlock()
	return body, nil
}

func (c *clientFiles) read(name string) ([]byte, error) {
	f, err := c.fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("socketio: client file %s: %w", name, err)
	}
	defer f.Close()
	body, err := io.ReadAll(io.LimitReader(f, maxClientFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("socketio: client file %s: %w", name, err)
	}
	if len(body) > maxClientFileSize {
		return nil, fmt.Errorf("socketio: client file %s: larger than %d bytes", name, maxClientFileSize)
	}
	return body, nil
}

func compress(body []byte, encoding string) ([]byte, error) {
	var buf bytes.Buffer
	var zw io.WriteCloser
	if encoding == "gzip" {
		zw, _ = gzip.NewWriterLevel(&buf, gzip.BestCompression)
	} else {
		zw, _ = zlib.NewWriterLevel(&buf, zlib.BestCompression) // HTTP "deflate" is the zlib format
	}
	if _, err := zw.Write(body); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// offeredEncodings are the JS server's ["br", "gzip", "deflate"] without br.
var offeredEncodings = []string{"gzip", "deflate"}

// encodingPriority ranks one offered encoding against Accept-Encoding, as
// the npm "negotiator" package does: higher q first, then an exact match over
// "*", then the client's order, then ours.
type encodingPriority struct {
	name    string
	q       float64
	exact   bool
	order   int // position in Accept-Encoding
	offered int // position in offeredEncodings
}

// negotiateEncoding picks gzip, deflate or "" (identity) for the
// Accept-Encoding header values.
func negotiateEncoding(header []string) string {
	type spec struct {
		name  string
		q     float64
		order int
	}
	var specs []spec
	for _, v := range header {
		for part := range strings.SplitSeq(v, ",") {
			params := strings.Split(part, ";")
			name := strings.TrimSpace(params[0])
			if name == "" || strings.ContainsAny(name, " \t") {
				continue
			}
			q := 1.0
			for _, p := range params[1:] {
				if k, val, _ := strings.Cut(strings.TrimSpace(p), "="); k == "q" {
					q, _ = strconv.ParseFloat(val, 64) // unparsable: 0, like NaN in JS
					break
				}
			}
			specs = append(specs, spec{name: strings.ToLower(name), q: q, order: len(specs)})
		}
	}
	var ranked []encodingPriority
	for i, enc := range offeredEncodings {
		best := encodingPriority{name: enc, order: -1, offered: i}
		found := false
		for _, s := range specs {
			exact := s.name == enc
			if !exact && s.name != "*" {
				continue
			}
			c := encodingPriority{name: enc, q: s.q, exact: exact, order: s.order, offered: i}
			if !found || better(c, best) {
				best, found = c, true
			}
		}
		if found && best.q > 0 {
			ranked = append(ranked, best)
		}
	}
	if len(ranked) == 0 {
		return ""
	}
	sort.SliceStable(ranked, func(a, b int) bool {
		x, y := ranked[a], ranked[b]
		if x.q != y.q {
			return x.q > y.q
		}
		if x.exact != y.exact {
			return x.exact
		}
		if x.order != y.order {
			return x.order < y.order
		}
		return x.offered < y.offered
	})
	return ranked[0].name
}

// better reports whether c is a better match than best for the same
// encoding: exact over "*", then higher q.
func better(c, best encodingPriority) bool {
	if c.exact != best.exact {
		return c.exact
	}
	return c.q > best.q
}
