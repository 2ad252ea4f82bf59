package http1

import (
	"bufio"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
)

// requestError is a malformed request: the connection answers status and
// closes.
type requestError struct {
	status int
	msg    string
}

func (e *requestError) Error() string { return "http1: " + e.msg }

func badRequest(msg string) error { return &requestError{status: http.StatusBadRequest, msg: msg} }

var errHeaderTooLarge = &requestError{status: http.StatusRequestHeaderFieldsTooLarge, msg: "request header too large"}

// head is a parsed request head: the request line and header fields, as
// strings sharing one copy of the bytes read.
type head struct {
	method, target, proto string
	major, minor          int
	fields                []string // name, value, name, value, ... (names canonical)
}

// readHead reads a request head of at most max bytes from br. It returns
// io.EOF (or the read error) when the connection ends before a request
// begins.
func readHead(br *bufio.Reader, max int, h *head) error {
	// The head is read line by line into raw, then converted to one string
	// that every field slices.
	var raw []byte
	for {
		lineStart := len(raw)
		line, err := br.ReadSlice('\n')
		for err == bufio.ErrBufferFull && len(raw)+len(line) <= max { // a line longer than the buffer
			raw = append(raw, line...)
			line, err = br.ReadSlice('\n')
		}
		if len(raw)+len(line) > max {
			return errHeaderTooLarge
		}
		if err != nil {
			if len(raw) == 0 && len(line) == 0 || isTimeout(err) {
				return err // the connection ended between requests, or the client stalled: closed without a word
			}
			return badRequest("truncated request head")
		}
		raw = append(raw, line...)
		if l := raw[lineStart:]; len(l) == 1 || len(l) == 2 && l[0] == '\r' { // a blank line
			if lineStart == 0 {
				raw = raw[:0] // RFC 9112 2.2: ignore blank lines before the request line
				continue
			}
			break
		}
	}
	s := string(raw)
	lineEnd := strings.IndexByte(s, '\n')
	if err := h.parseRequestLine(strings.TrimSuffix(s[:lineEnd], "\r")); err != nil {
		return err
	}
	h.fields = h.fields[:0]
	for rest := s[lineEnd+1:]; ; {
		i := strings.IndexByte(rest, '\n')
		line := strings.TrimSuffix(rest[:i], "\r")
		rest = rest[i+1:]
		if line == "" {
			return nil
		}
		if line[0] == ' ' || line[0] == '\t' {
			return badRequest("obsolete line folding")
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || !validName(name) {
			return badRequest(fmt.Sprintf("malformed header line %.40q", line))
		}
		value = strings.Trim(value, " \t")
		if !validValue(value) {
			return badRequest("invalid header value")
		}
		h.fields = append(h.fields, textproto.CanonicalMIMEHeaderKey(name), value)
	}
}

func (h *head) parseRequestLine(line string) error {
	method, rest, ok1 := strings.Cut(line, " ")
	target, proto, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || !validName(method) || target == "" || strings.ContainsAny(target, " \t") {
		return badRequest(fmt.Sprintf("malformed request line %.60q", line))
	}
	major, minor, ok := parseProto(proto)
	if !ok {
		return badRequest("unsupported protocol " + strconv.Quote(proto))
	}
	if major != 1 {
		return &requestError{status: http.StatusHTTPVersionNotSupported, msg: "unsupported protocol " + proto}
	}
	h.method, h.target, h.proto, h.major, h.minor = method, target, proto, major, minor
	return nil
}

func parseProto(p string) (major, minor int, ok bool) {
	if len(p) != 8 || !strings.HasPrefix(p, "HTTP/") || p[6] != '.' || p[5] < '0' || p[5] > '9' || p[7] < '0' || p[7] > '9' {
		return 0, 0, false
	}
	return int(p[5] - '0'), int(p[7] - '0'), true
}

// validName reports whether s is an RFC 9110 token.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// validValue rejects control characters other than tab (RFC 9110 5.5).
func validValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// request builds the http.Request of h; remoteAddr is the connection's.
func (h *head) request(remoteAddr string) (*http.Request, error) {
	u, err := parseTarget(h.method, h.target)
	if err != nil {
		return nil, badRequest("malformed request target")
	}
	hdr := make(http.Header, len(h.fields)/2)
	for i := 0; i < len(h.fields); i += 2 {
		k, v := h.fields[i], h.fields[i+1]
		hdr[k] = append(hdr[k], v)
	}
	r := &http.Request{
		Method: h.method, URL: u, Proto: h.proto, ProtoMajor: h.major, ProtoMinor: h.minor,
		Header: hdr, RequestURI: h.target, RemoteAddr: remoteAddr, Body: http.NoBody,
	}
	hosts := hdr["Host"]
	switch {
	case len(hosts) > 1:
		return nil, badRequest("more than one Host header")
	case len(hosts) == 1:
		r.Host = hosts[0]
	case h.minor >= 1:
		return nil, badRequest("missing Host header")
	}
	if u.Host != "" { // absolute form: the target's host wins (RFC 9112 3.2.2)
		r.Host = u.Host
	}
	delete(hdr, "Host")
	return r, nil
}

func parseTarget(method, target string) (*url.URL, error) {
	if target[0] == '/' && !strings.ContainsAny(target, "%#") {
		path, query, _ := strings.Cut(target, "?")
		return &url.URL{Path: path, RawQuery: query}, nil
	}
	if target == "*" && method == http.MethodOptions {
		return &url.URL{Path: "*"}, nil
	}
	return url.ParseRequestURI(target)
}

// bodyKind tells how the body of r is framed (RFC 9112 6.3).
func bodyKind(r *http.Request) (length int64, chunked bool, err error) {
	te := r.Header["Transfer-Encoding"]
	cl := r.Header["Content-Length"]
	if len(te) > 0 {
		if len(cl) > 0 {
			return 0, false, badRequest("both Transfer-Encoding and Content-Length")
		}
		if len(te) != 1 || !strings.EqualFold(strings.TrimSpace(te[0]), "chunked") {
			return 0, false, &requestError{status: http.StatusNotImplemented, msg: "unsupported transfer coding"}
		}
		return -1, true, nil
	}
	if len(cl) == 0 {
		return 0, false, nil
	}
	for _, v := range cl[1:] {
		if v != cl[0] {
			return 0, false, badRequest("conflicting Content-Length")
		}
	}
	n, perr := strconv.ParseInt(cl[0], 10, 64)
	if perr != nil || n < 0 || cl[0][0] == '+' {
		return 0, false, badRequest("invalid Content-Length")
	}
	return n, false, nil
}
