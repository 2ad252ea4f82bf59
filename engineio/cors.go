package engineio

import (
	"net/http"
	"strconv"
	"strings"
)

// defaultCORSMethods is what the "cors" npm module allows by default.
const defaultCORSMethods = "GET,HEAD,PUT,PATCH,POST,DELETE"

// apply adds the CORS headers to w like the "cors" npm module does, and
// answers a preflight (OPTIONS) with 204; it reports whether it answered.
func (o *CORSOptions) apply(w http.ResponseWriter, r *http.Request) bool {
	h := w.Header()
	origin := r.Header.Get("Origin")
	allowed, reflect := o.allow(origin)
	switch {
	case !allowed:
		addHeader(h, "Vary", hdrOrigin)
	case reflect:
		if origin != "" {
			h["Access-Control-Allow-Origin"] = []string{origin}
		}
		addHeader(h, "Vary", hdrOrigin)
	default:
		h["Access-Control-Allow-Origin"] = hdrStar
	}
	if o.AllowCredentials {
		h["Access-Control-Allow-Credentials"] = hdrTrue
	}
	if len(o.ExposedHeaders) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(o.ExposedHeaders, ","))
	}
	if r.Method != http.MethodOptions {
		return false
	}
	h["Access-Control-Allow-Methods"] = hdrCORSMethods
	if len(o.AllowedHeaders) > 0 {
		h.Set("Access-Control-Allow-Headers", strings.Join(o.AllowedHeaders, ","))
	} else if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		h.Set("Access-Control-Allow-Headers", req)
		h.Add("Vary", "Access-Control-Request-Headers")
	}
	if o.MaxAge > 0 {
		h.Set("Access-Control-Max-Age", strconv.Itoa(int(o.MaxAge.Seconds())))
	}
	h["Content-Length"] = hdrZero
	w.WriteHeader(http.StatusNoContent)
	return true
}

// allow reports whether origin is accepted and whether it must be
// reflected (rather than answered with "*").
func (o *CORSOptions) allow(origin string) (allowed, reflect bool) {
	if o.AllowOriginFunc != nil {
		return o.AllowOriginFunc(origin), true
	}
	for _, a := range o.AllowedOrigins {
		if a == "*" {
			return true, o.AllowCredentials
		}
		if a == origin {
			return true, true
		}
	}
	return false, true
}
